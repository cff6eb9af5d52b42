using System.CommandLine;
using Moat.Audit;
using Moat.Audit.Bundle;
using Moat.Audit.Findings;
using Moat.Cli.Checks;
using Moat.Scan.Osv;

namespace Moat.Cli.Commands;

/// <summary>
/// `run` and `create`'s flags for the checks made on the way (Moat's own, no docker equivalent): `--audit`,
/// `--scan`, the trust policy (`--signature-policy`, `--registries.d`, as `pull` has them) and, for `run` only,
/// `--seccomp-record`. Kept apart from RunFlags: they shape no config, they decide whether one is made.
/// </summary>
public sealed class RunCheckFlags
{
    readonly Option<string?> audit = new("--audit") { Description = "audit the container's config before it starts: warn (print findings) or enforce (refuse at --audit-fail-on)" };
    readonly Option<string?> auditFailOn = new("--audit-fail-on") { Description = "the severity --audit=enforce refuses at: low, medium, high (default) or critical" };
    readonly Option<string[]> auditWaive = new("--audit-waive") { Description = "accept an audit rule: ID=reason (repeatable)" };
    readonly Option<string?> auditWaivers = new("--audit-waivers") { Description = "a file of ID=reason lines (# starts a comment)" };
    readonly Option<string?> scan = new("--scan") { Description = "scan the image for known vulnerabilities first: warn or enforce (refuse at --scan-fail-on)" };
    readonly Option<string?> scanFailOn = new("--scan-fail-on") { Description = "the severity --scan=enforce refuses at: low, medium, high (default) or critical" };
    readonly Option<string?> seccompRecord = new("--seccomp-record") { Description = "record the system calls of this run and write a profile allowing exactly those to FILE when it exits" };
    readonly TrustOptions trust = new();

    /// <summary>These flags' names, all taking a value: RunFlags.SeparateCommand must skip their values to find IMAGE.</summary>
    public static readonly IReadOnlyList<string> ValueFlags =
        ["--audit", "--audit-fail-on", "--audit-waive", "--audit-waivers", "--scan", "--scan-fail-on", "--seccomp-record", "--signature-policy", "--registries.d"];
    readonly bool isRun;

    public RunCheckFlags(bool isRun) => this.isRun = isRun;

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { audit, auditFailOn, auditWaive, auditWaivers, scan, scanFailOn })
            command.Options.Add(option);
        if (isRun)
            command.Options.Add(seccompRecord);
        trust.AddTo(command);
    }

    public CreateCheckOptions Read(ParseResult parse)
    {
        var auditFailOnText = parse.GetValue(auditFailOn) ?? "high";
        if (!AuditSeverities.TryParse(auditFailOnText, out var auditThreshold))
            throw new AuditException($"--audit-fail-on \"{auditFailOnText}\" is not a severity: low, medium, high or critical");
        var scanFailOnText = parse.GetValue(scanFailOn) ?? "high";
        var scanThreshold = scanFailOnText.Trim().ToLowerInvariant() switch
        {
            "low" => Severity.Low,
            "medium" => Severity.Medium,
            "high" => Severity.High,
            "critical" => Severity.Critical,
            _ => throw new Moat.Scan.ScanException($"--scan-fail-on \"{scanFailOnText}\" is not a severity: low, medium, high or critical"),
        };
        return new CreateCheckOptions
        {
            Audit = Mode(parse.GetValue(audit), "--audit"),
            AuditFailOn = auditThreshold,
            AuditWaivers = Waivers.Parse(parse.GetValue(auditWaive) ?? [], parse.GetValue(auditWaivers),
                id => SpecAuditor.RuleInfos.Any(r => string.Equals(r.Id, id, StringComparison.OrdinalIgnoreCase))),
            Scan = Mode(parse.GetValue(scan), "--scan"),
            ScanFailOn = scanThreshold,
            SignaturePolicy = parse.GetValue(trust.SignaturePolicy),
            RegistriesDirectory = parse.GetValue(trust.RegistriesDirectory),
            SeccompRecord = isRun ? parse.GetValue(seccompRecord) : null,
        };
    }

    static CheckMode Mode(string? text, string flag) => text switch
    {
        null or "off" => CheckMode.Off,
        "warn" => CheckMode.Warn,
        "enforce" => CheckMode.Enforce,
        _ => throw new ArgumentException($"{flag} \"{text}\" is not a mode: warn, enforce or off"),
    };
}
