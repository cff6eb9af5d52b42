using Moat.Audit.Bundle.Rules;
using Moat.Audit.Findings;
using Moat.Oci;

namespace Moat.Audit.Bundle;

/// <summary>
/// Audits a container's configuration: every rule over one <see cref="Spec"/>. The engine calls
/// <see cref="Audit(Spec, string)"/> with the spec it is about to run (moat run --audit); `moat audit --bundle`
/// calls <see cref="AuditBundle"/>, which also keeps the file's bytes to find the line of each finding.
/// </summary>
public static class SpecAuditor
{
    /// <summary>Every container rule, in id order.</summary>
    public static IReadOnlyList<SpecRule> Rules { get; } = BuildRules();

    static SpecRule[] BuildRules()
    {
        SpecRule[] rules =
        [
            new RootWithoutUserNamespace(), new PrivilegedOrAllCapabilities(), new CapabilityBeyondDefault(), new NetRaw(),
            new SeccompMissing(), new NoNewPrivilegesOff(), new WritableRootfs(), new NoMemoryLimit(), new NoCpuLimit(), new NoPidsLimit(),
            .. HostNamespace.All(),
            new SensitiveHostMount(), new EngineSocketMount(), new ExtraDeviceNode(), new DeviceCgroupAllows(),
            new MaskedPathRemoved(), new ReadonlyPathRemoved(), new HostSysctl(), new SharedPropagation(), new MandatoryAccessControl(),
            new OomProtection(), new RaisedRlimits(), new WritableKernelFilesystem(), new HostHooks(),
            new UnsignedImage(),
        ];
        Array.Sort(rules, (a, b) => string.CompareOrdinal(a.Info.Id, b.Info.Id));
        return rules;
    }

    public static IReadOnlyList<RuleInfo> RuleInfos { get; } = Rules.Select(r => r.Info).ToArray();

    /// <summary>Runs every rule over <paramref name="spec"/>; <paramref name="subject"/> names it in the report.</summary>
    /// <param name="image">The trust policy's answer for the image the config was made from (MOAT-A031); null when unknown.</param>
    public static AuditReport Audit(Spec spec, string subject, AuditArtifact? artifact = null, ImageProvenance? image = null)
    {
        var facts = new SpecFacts(spec) { Image = image };
        var sink = new FindingSink();
        foreach (var rule in Rules)
        {
            sink.Begin(rule.Info);
            rule.Check(facts, sink);
            sink.End();
        }
        return new AuditReport(subject, RuleInfos, sink.Outcomes, sink.Findings) { Artifact = artifact };
    }

    /// <summary>Reads &lt;bundle&gt;/config.json (errors say what and why) and audits it, keeping its bytes to find lines for SARIF.</summary>
    public static AuditReport AuditBundle(string bundleDirectory, string? subject = null, ImageProvenance? image = null)
    {
        const string ConfigFile = Moat.Oci.Bundle.ConfigFileName;
        if (!Directory.Exists(bundleDirectory))
            throw new AuditException($"bundle {bundleDirectory}: no such directory");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path.Combine(bundleDirectory, ConfigFile));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new AuditException($"bundle {bundleDirectory}: {ConfigFile} not found", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AuditException($"bundle {bundleDirectory}: cannot read {ConfigFile}: {ErrorText.Reason(e)}", e);
        }
        var spec = SpecLoader.Parse(bytes);
        JsonLineIndex? index = null;
        return Audit(spec, subject ?? bundleDirectory, new AuditArtifact(ConfigFile, path => (index ??= JsonLineIndex.Build(bytes)).LineOf(path)), image);
    }
}
