using Moat.Audit;
using Moat.Audit.Bundle;
using Moat.Audit.Findings;
using Moat.Audit.Seccomp;
using Moat.Engine.Run;
using Moat.Images.Distribution;
using Moat.Images.Service;
using Moat.Images.Storage;
using Moat.Oci;
using Moat.Scan;
using Moat.Scan.Inventory;
using Moat.Scan.Matching;
using Moat.Scan.Osv;
using Moat.Trust.Policy;

namespace Moat.Cli.Checks;

/// <summary>off: not made; warn: findings are printed and the container runs; enforce: a finding at or above the threshold refuses it.</summary>
public enum CheckMode
{
    Off,
    Warn,
    Enforce,
}

/// <summary>What `run`/`create` asked to be checked (RunCheckFlags reads it from the command line).</summary>
public sealed record CreateCheckOptions
{
    public CheckMode Audit { get; init; }
    public AuditSeverity AuditFailOn { get; init; } = AuditSeverity.High;
    public Waivers AuditWaivers { get; init; } = Waivers.Parse([], null, _ => true);
    public CheckMode Scan { get; init; }
    public Severity ScanFailOn { get; init; } = Severity.High;
    /// <summary>`--signature-policy`; null: the user's or the system's policy.json, if any.</summary>
    public string? SignaturePolicy { get; init; }
    public string? RegistriesDirectory { get; init; }
    /// <summary>`--seccomp-record FILE`: the profile is written here when the container has exited.</summary>
    public string? SeccompRecord { get; init; }
}

/// <summary>
/// The engine's <see cref="ICreateChecks"/> as `moat run` and `moat create` make them (docs/security.md, "In the
/// engine's path"; docs/supply-chain.md): the trust policy on every pull and run, `--scan` on the image before the
/// container's record exists, `--audit` on the config.json about to be written, and `--seccomp-record`'s filter.
/// A refusal is an exception with one sentence: the engine removes what it made, the CLI exits 125.
/// </summary>
public sealed class CreateChecks(CreateCheckOptions options, ImageService images, Action<string> warn) : ICreateChecks, IDisposable
{
    ImageTrust? trust;
    bool trustLoaded;
    ImageProvenance? provenance;

    /// <summary>The last audit (null until <see cref="CheckSpec"/> ran with --audit).</summary>
    public AuditReport? Report { get; private set; }

    /// <summary>The seccomp recording, once the spec was given the recording filter.</summary>
    public RecordingSession? Recording { get; private set; }

    /// <summary>Loads the policy once, at the first check: a broken policy file stops `run` before anything is stored or made.</summary>
    public ImageTrust? Trust
    {
        get
        {
            if (!trustLoaded)
            {
                trust = TrustPolicy.FindFile(options.SignaturePolicy) is null ? null : ImageTrust.Load(images.Registry, options.SignaturePolicy, options.RegistriesDirectory);
                trustLoaded = true;
            }
            return trust;
        }
    }

    public Task CheckPullAsync(ResolvedImage resolved, CancellationToken cancellation) =>
        Trust is { } t ? t.CheckPullAsync(resolved, cancellation) : Task.CompletedTask;

    public async Task CheckImageAsync(ImageRecord image, string imageName, string digest, bool pulledNow, CancellationToken cancellation)
    {
        provenance = pulledNow && Trust is { Policy: { } policy } && imageName.Contains('/', StringComparison.Ordinal)
            ? Checked(policy, imageName, digest) // the pull hook checked it before anything was stored: not again
            : await ProvenanceAsync(image, imageName, digest, pulledNow, enforce: true, cancellation).ConfigureAwait(false);
        if (options.Scan != CheckMode.Off)
            ScanImage(image, imageName);
    }

    /// <summary>
    /// The trust policy's answer for a stored image. With <paramref name="enforce"/> (run) a refusal throws
    /// <see cref="TrustPolicyException"/>; without (`moat audit NAME`) it is a fact for MOAT-A031.
    /// </summary>
    public async Task<ImageProvenance> ProvenanceAsync(ImageRecord image, string imageName, string? digest, bool pulledNow, bool enforce, CancellationToken cancellation)
    {
        if (Trust is not { } policy)
            return new ImageProvenance(imageName, digest, ProvenanceStatus.NoPolicy, $"no trust policy file ({TrustPolicy.SystemPath} or the user's) exists");
        if (!imageName.Contains('/', StringComparison.Ordinal) || imageName.StartsWith("sha256:", StringComparison.Ordinal))
            return new ImageProvenance(imageName, digest, ProvenanceStatus.NotChecked, $"the image {imageName} has no name in a registry for the policy to match");
        try
        {
            var verdict = await StoredImageTrust.CheckAsync(policy, images.Registry, imageName, digest ?? image.ManifestDigest.ToString(), image.ManifestDigest,
                image.Platform, pulledNow, cancellation).ConfigureAwait(false);
            return verdict.Outcome == TrustOutcome.Verified
                ? new ImageProvenance(imageName, verdict.Digest, ProvenanceStatus.Verified, $"signatures verified by {verdict.PolicyFile}, {verdict.Scope}")
                : new ImageProvenance(imageName, verdict.Digest, ProvenanceStatus.AcceptedUnsigned, $"the trust policy {verdict.PolicyFile}, {verdict.Scope}, requires no signature");
        }
        catch (TrustPolicyException refused) when (!enforce)
        {
            return new ImageProvenance(imageName, digest, ProvenanceStatus.Refused, refused.Message);
        }
        catch (Exception e) when (!enforce && e is RegistryException or HttpRequestException or IOException)
        {
            return new ImageProvenance(imageName, digest, ProvenanceStatus.NotChecked, $"the signatures could not be fetched: {ErrorText.Reason(e)}");
        }
    }

    static ImageProvenance Checked(TrustPolicy policy, string imageName, string digest)
    {
        var (scope, requirements) = policy.Select(Moat.Images.References.ImageReference.Parse(imageName));
        return requirements.Any(r => r is PolicyRequirement.SignedBy or PolicyRequirement.SigstoreSigned)
            ? new ImageProvenance(imageName, digest, ProvenanceStatus.Verified, $"signatures verified by {policy.Source}, {scope}")
            : new ImageProvenance(imageName, digest, ProvenanceStatus.AcceptedUnsigned, $"the trust policy {policy.Source}, {scope}, requires no signature");
    }

    void ScanImage(ImageRecord image, string imageName)
    {
        ScanResult result;
        try
        {
            using var database = VulnerabilityDatabase.Open(VulnerabilityDatabase.PathIn(images.Layout), writable: false);
            ImageInventory inventory;
            using (var files = ImageFiles.Open(images, image))
                inventory = ImageInventory.Read(files, dpkgLicenses: false);
            if (inventory.Packages.Count == 0)
            {
                // Nothing installed through a package manager (busybox, distroless static): nothing known to match.
                warn($"--scan: {imageName} has no package database (dpkg, apk or rpm): nothing to match against known vulnerabilities");
                return;
            }
            result = Scanner.Scan(inventory, database);
        }
        catch (ScanException e) when (options.Scan == CheckMode.Warn)
        {
            warn($"--scan: {imageName} was not scanned: {e.Message}");
            return;
        }
        catch (ScanException e)
        {
            throw new ScanException($"--scan=enforce cannot scan {imageName}: {e.Message}", e);
        }
        var counted = result.Findings.Where(f => f.Severity != Severity.Unknown && f.Severity >= options.ScanFailOn).ToList();
        const int Shown = 20;
        foreach (var f in counted.Take(Shown))
            warn($"--scan: {SeverityLevels.Name(f.Severity).ToLowerInvariant()} {f.Id} in {f.Package.Name} {f.InstalledVersion} ({(f.FixedIn is null ? "no fix yet" : "fixed in " + f.FixedIn)})");
        if (counted.Count > Shown)
            warn($"--scan: and {counted.Count - Shown} more: moat scan {imageName}");
        if (counted.Count > 0 && options.Scan == CheckMode.Enforce)
        {
            var threshold = SeverityLevels.Name(options.ScanFailOn).ToLowerInvariant();
            throw new ScanException($"{imageName} has {counted.Count} known vulnerabilit{(counted.Count == 1 ? "y" : "ies")} at or above {threshold} ({string.Join(", ", counted.Take(3).Select(f => f.Id))}{(counted.Count > 3 ? ", ..." : "")}): --scan=enforce refuses to run it");
        }
    }

    public void CheckSpec(Spec spec, string subject)
    {
        if (options.Audit != CheckMode.Off)
        {
            // The config as the user asked for it: audited before the recording filter (if any) replaces its seccomp.
            var report = SpecAuditor.Audit(spec, subject, image: provenance).Waive(options.AuditWaivers);
            Report = report;
            var failing = report.Failing(options.AuditFailOn).ToList();
            foreach (var f in failing)
                warn($"--audit: {f.Rule.Id} {f.Severity.Name()} {f.Path}: {f.Message}; fix: {f.Fix.Flag}");
            var below = report.Findings.Count(f => !f.IsWaived) - failing.Count;
            if (below > 0 && failing.Count > 0)
                warn($"--audit: {below} finding{(below == 1 ? "" : "s")} below {options.AuditFailOn.Name()} not shown (moat audit {subject})");
            if (failing.Count > 0 && options.Audit == CheckMode.Enforce)
                throw new AuditException($"--audit=enforce refuses the container: {failing.Count} finding{(failing.Count == 1 ? "" : "s")} at or above {options.AuditFailOn.Name()} ({string.Join(", ", failing.Select(f => f.Rule.Id).Distinct())}); change the flags, or waive a rule with --audit-waive ID=reason");
        }
        if (options.SeccompRecord is not null)
        {
            Recording = RecordingSession.Open();
            Recording.Attach(spec);
        }
    }

    public void Dispose() => Recording?.Dispose();
}
