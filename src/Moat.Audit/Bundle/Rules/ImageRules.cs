using Moat.Audit.Findings;

namespace Moat.Audit.Bundle.Rules;

/// <summary>
/// MOAT-A031: the image was not verified by a signature. A config alone does not say where its root file
/// system came from, so the rule reads the trust policy's answer the caller got (<see cref="SpecFacts.Image"/>);
/// without one (`moat audit --bundle`) it is not applicable.
/// </summary>
public sealed class UnsignedImage : SpecRule
{
    const string Path = "annotations[\"run.moat.container.image\"]";

    public override RuleInfo Info { get; } = new("MOAT-A031", "image without a verified signature", AuditSeverity.Medium, "CIS 4.5",
        "an image nobody signed, or whose signature nothing checks, may not be what its publisher built: a compromised registry, a moved tag or a typo runs someone else's code.");

    static readonly AuditFix Fix = new(
        "sign the image (moat sign --key cosign.key IMAGE) and require it in policy.json (or --signature-policy FILE)",
        "policy.json: transports.docker[\"REPOSITORY\"] = [{\"type\": \"sigstoreSigned\", \"keyPath\": \"cosign.pub\", \"signedIdentity\": {\"type\": \"matchRepository\"}}]");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        if (config.Image is not { } image)
        {
            sink.NotApplicable("the config does not say where its image came from: audit the container by name, or run it with --audit");
            return;
        }
        const string Gain = "an attacker who can push to the registry, or sit between it and this host, chooses what runs";
        switch (image.Status)
        {
            case ProvenanceStatus.Verified:
                return;
            case ProvenanceStatus.NotChecked:
                sink.NotApplicable(image.Detail);
                return;
            case ProvenanceStatus.NoPolicy:
                sink.Add(Path, $"{image.Image} ({image.Digest}) runs without any signature check: {image.Detail}", Gain, Fix);
                return;
            case ProvenanceStatus.AcceptedUnsigned:
                sink.Add(Path, $"{image.Image} ({image.Digest}) is accepted without a signature: {image.Detail}", Gain, Fix);
                return;
            default:
                sink.Add(AuditSeverity.High, Path, $"{image.Image} ({image.Digest}) has no signature the trust policy accepts: {image.Detail}", Gain, Fix);
                return;
        }
    }
}
