using Moat.Audit.Bundle;
using Moat.Audit.Findings;

namespace Moat.Tests.Audit.Bundle;

/// <summary>MOAT-A031: the trust policy's answer for the container's image, as the engine and `moat audit NAME` give it.</summary>
public class ImageRuleTests
{
    const string Rule = "MOAT-A031";

    static (CheckOutcome Outcome, IReadOnlyList<AuditFinding> Findings) Audit(ImageProvenance? image)
    {
        var report = SpecAuditor.Audit(Configs.Tight(), "test", image: image);
        return (report.Outcomes.Single(o => o.Rule.Id == Rule), report.Findings.Where(f => f.Rule.Id == Rule).ToList());
    }

    [Fact]
    public void A_config_alone_is_not_applicable()
    {
        var (outcome, findings) = Audit(null);
        Assert.Equal(CheckStatus.NotApplicable, outcome.Status);
        Assert.Contains("audit the container by name", outcome.Reason);
        Assert.Empty(findings);
    }

    [Fact]
    public void A_verified_signature_passes()
    {
        var (outcome, findings) = Audit(new ImageProvenance("localhost:5000/app:1", "sha256:ab", ProvenanceStatus.Verified, "signatures verified"));
        Assert.Equal(CheckStatus.Passed, outcome.Status);
        Assert.Empty(findings);
    }

    [Theory]
    [InlineData(ProvenanceStatus.NoPolicy, AuditSeverity.Medium, "runs without any signature check")]
    [InlineData(ProvenanceStatus.AcceptedUnsigned, AuditSeverity.Medium, "is accepted without a signature")]
    [InlineData(ProvenanceStatus.Refused, AuditSeverity.High, "has no signature the trust policy accepts")]
    public void An_unverified_image_is_a_finding(ProvenanceStatus status, AuditSeverity severity, string message)
    {
        var (outcome, findings) = Audit(new ImageProvenance("localhost:5000/app:1", "sha256:ab", status, "the detail"));
        Assert.Equal(CheckStatus.Failed, outcome.Status);
        var finding = Assert.Single(findings);
        Assert.Equal(severity, finding.Severity);
        Assert.Contains(message, finding.Message);
        Assert.Contains("localhost:5000/app:1 (sha256:ab)", finding.Message);
        Assert.Contains("the detail", finding.Message);
        Assert.Equal("annotations[\"run.moat.container.image\"]", finding.Path);
        Assert.Contains("sigstoreSigned", finding.Fix.Change);
        Assert.Contains("moat sign", finding.Fix.Flag);
    }

    [Fact]
    public void An_image_that_could_not_be_checked_says_why()
    {
        var (outcome, findings) = Audit(new ImageProvenance("app", null, ProvenanceStatus.NotChecked, "the registry is unreachable"));
        Assert.Equal(CheckStatus.NotApplicable, outcome.Status);
        Assert.Equal("the registry is unreachable", outcome.Reason);
        Assert.Empty(findings);
    }
}
