using System.CommandLine;
using System.Reflection;
using Moat.Audit;
using Moat.Audit.Bundle;
using Moat.Audit.Findings;
using Moat.Audit.Host;
using Moat.Audit.Output;
using Moat.Cli.Checks;
using Moat.Engine.Containers;
using Moat.Images.Model;
using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Cli.Commands;

/// <summary>
/// audit: a container's configuration (--bundle DIR) or this host (--host) against the rules of docs/security.md.
/// Exit status: 0 when no finding that is not waived is at or above --fail-on (default high), 1 when one is, 125 on errors.
/// </summary>
public static class AuditCommand
{
    public static Command Create()
    {
        var bundle = new Option<string?>("--bundle", "-b") { Description = "audit the OCI bundle in DIR (its config.json)" };
        var host = new Option<bool>("--host") { Description = "audit this host: kernel, LSMs, hardening sysctls, cgroups, Moat's files" };
        var format = new Option<string>("--format") { Description = "table, json or sarif", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "sarif");
        var failOn = new Option<string>("--fail-on") { Description = "exit 1 when a finding is at or above this severity: low, medium, high or critical", DefaultValueFactory = _ => "high" };
        failOn.AcceptOnlyFromAmong("low", "medium", "high", "critical");
        var waive = new Option<string[]>("--waive") { Description = "accept a rule: ID=reason (repeatable)", AllowMultipleArgumentsPerToken = false };
        var waivers = new Option<string?>("--waivers") { Description = "a file of ID=reason lines (# starts a comment)" };
        var container = new Argument<string?>("CONTAINER") { Description = "a container of the engine (running or stored), by name or id", Arity = ArgumentArity.ZeroOrOne };
        var trust = new TrustOptions();
        var command = new Command("audit", "check a container's configuration or this host for loose isolation (exit 1 at --fail-on, 125 on errors)");
        command.Arguments.Add(container);
        foreach (var option in new Option[] { bundle, host, format, failOn, waive, waivers })
            command.Options.Add(option);
        trust.AddTo(command);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var bundleDirectory = parse.GetValue(bundle);
            var auditHost = parse.GetValue(host);
            var name = parse.GetValue(container);
            if ((bundleDirectory is not null ? 1 : 0) + (auditHost ? 1 : 0) + (name is not null ? 1 : 0) != 1)
                throw new AuditException("give one of CONTAINER, --bundle DIR or --host");
            AuditSeverities.TryParse(parse.GetValue(failOn) ?? "high", out var threshold);
            var known = auditHost ? HostAuditor.RuleInfos : SpecAuditor.RuleInfos;
            var accepted = Waivers.Parse(parse.GetValue(waive) ?? [], parse.GetValue(waivers), id => known.Any(r => string.Equals(r.Id, id, StringComparison.OrdinalIgnoreCase)));
            var report = auditHost
                ? HostAuditor.Audit(new RootedHostFiles("/"), HostAuditor.FindRuntimeBinary(AppContext.BaseDirectory, Environment.GetEnvironmentVariable("PATH")))
                : name is not null
                    ? AuditContainer(context, name, parse.GetValue(trust.SignaturePolicy), parse.GetValue(trust.RegistriesDirectory))
                    : SpecAuditor.AuditBundle(bundleDirectory!);
            report.Waive(accepted);
            context.Out(parse.GetValue(format) switch
            {
                "json" => AuditJson.Write(report, threshold),
                "sarif" => AuditSarif.Write(report, Version()),
                _ => AuditText.Write(report, threshold, IsTerminal(context.Output)),
            });
            return report.ExitStatus(threshold);
        }));
        return command;
    }

    /// <summary>
    /// A container of the engine: the config.json its bundle holds (what the runtime was given), and the trust
    /// policy's answer for its image (MOAT-A031) by the digest its record keeps.
    /// </summary>
    static AuditReport AuditContainer(ImageCommandContext context, string reference, string? signaturePolicy, string? registriesDirectory)
    {
        using var engine = new ContainerEngine(new EngineOptions { Images = context.ServiceOptions() });
        var record = engine.Get(reference);
        var bundleDirectory = Path.Combine(engine.DirectoryOf(record.Id), ContainerFiles.Bundle);
        if (!File.Exists(Path.Combine(bundleDirectory, Moat.Oci.Bundle.ConfigFileName)))
            throw new AuditException($"container {record.Name} has no config.json (it is {record.State}: its creation never finished)");
        var checks = new CreateChecks(new CreateCheckOptions { SignaturePolicy = signaturePolicy, RegistriesDirectory = registriesDirectory }, engine.Images, ImageCommandContext.Warn);
        var image = Digest.TryParse(record.ImageId, out var id) ? engine.Images.Catalog.Get(id) : null;
        var provenance = image is null
            ? new ImageProvenance(record.ImageName, record.Settings.ImageDigest, ProvenanceStatus.NotChecked, $"the image {record.ImageName} is no longer in the store")
            : checks.ProvenanceAsync(image, record.ImageName, record.Settings.ImageDigest, pulledNow: false, enforce: false, ImageCommandContext.Interruptible()).GetAwaiter().GetResult();
        return SpecAuditor.AuditBundle(bundleDirectory, record.Name, provenance);
    }

    /// <summary>Colour only when writing straight to a terminal, and NO_COLOR (no-color.org) is not set.</summary>
    static bool IsTerminal(TextWriter output) =>
        output is DescriptorWriter { Descriptor: var fd } && Libc.isatty(fd) == 1 && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    static string Version() =>
        typeof(AuditCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
