using System.Text;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Trust.Cosign;
using Moat.Trust.Signatures;

namespace Moat.Tests.Trust.Signatures;

/// <summary>Simple-signing payloads byte for byte as cosign writes them, and a signature cosign made, verified.</summary>
public sealed class PayloadTests
{
    [Fact]
    public void ThePayloadIsCosignsByteForByte()
    {
        // cosign's pkg/cosign/obsolete_test.go: "the property of generating exactly the same string as previous versions is essential".
        var reference = ImageReference.Parse("docker.io/namespace/image@sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec");
        var payload = SimpleSigningPayload.CosignBytes(DockerReference.CosignName(reference), reference.Digest!.Value);
        Assert.Equal("""{"critical":{"identity":{"docker-reference":"index.docker.io/namespace/image"},"image":{"docker-manifest-digest":"sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec"},"type":"cosign container image signature"},"optional":null}""",
            Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public void AnnotationsAreSortedAndEscapedAsGoDoes()
    {
        var payload = SimpleSigningPayload.CosignBytes("localhost:5000/a", Digest.Sha256([]), new Dictionary<string, string> { ["z"] = "1", ["a"] = "<&>\"" });
        Assert.EndsWith("""
            "optional":{"a":"\u003c\u0026\u003e\"","z":"1"}}
            """, Encoding.UTF8.GetString(payload));
        var parsed = SimpleSigningPayload.TryParse(payload, out _)!;
        Assert.Equal("<&>\"", parsed.Optional!["a"].GetString());
    }

    // containers/image signature/fixtures: cosign.pub and the signature of dir-img-cosign-valid (made by cosign).
    const string ContainersImageCosignPub = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFNLqFhf4fiN6o/glAuYnq2jYUeL0
        vRuLu/z39pmbVwS9ff5AYnlwaP9sxREajdLY9ynM6G1sy6AAmb7Z63TsLg==
        -----END PUBLIC KEY-----
        """;
    const string ContainersImagePayload = "eyJjcml0aWNhbCI6eyJpZGVudGl0eSI6eyJkb2NrZXItcmVmZXJlbmNlIjoiMTkyLjE2OC42NC4yOjUwMDAvY29zaWduLXNpZ25lZC1zaW5nbGUtc2FtcGxlIn0sImltYWdlIjp7ImRvY2tlci1tYW5pZmVzdC1kaWdlc3QiOiJzaGEyNTY6NjM0YThmMzViNWYxNmRjZjRhYWEwODIyYWRjMGIxOTY0YmI3ODZmY2ExMmY2ODMxZGU4ZGRjNDVlNTk4NmEwMCJ9LCJ0eXBlIjoiY29zaWduIGNvbnRhaW5lciBpbWFnZSBzaWduYXR1cmUifSwib3B0aW9uYWwiOm51bGx9";
    const string ContainersImageSignature = "MEYCIQDmtamqYPjMg81nqeBhptrPls44aA/r7PwLmspINJY4MwIhANKRpqe2E9UCBtGFdPoz/8jAbaQm4uP4h+IpwKTE6ClR";
    static readonly Digest ContainersImageManifest = Digest.Parse("sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00");

    [Fact]
    public void ASignatureCosignMadeVerifiesAndItsPayloadIsTheOneMoatWouldWrite()
    {
        using var key = CosignKeys.ParsePublicKey(ContainersImageCosignPub, "cosign.pub");
        var payload = Convert.FromBase64String(ContainersImagePayload);
        var signature = new CosignSignature(payload, ContainersImageSignature, new Descriptor());
        var result = CosignVerifier.Verify([signature], [key], ContainersImageManifest, _ => null);
        Assert.Single(result.Verified);
        Assert.Equal("192.168.64.2:5000/cosign-signed-single-sample", result.Verified[0].Payload.DockerReference);
        Assert.Equal(payload, SimpleSigningPayload.CosignBytes("192.168.64.2:5000/cosign-signed-single-sample", ContainersImageManifest));
    }

    [Fact]
    public void ChangedPayloadsOtherDigestsAndOtherKeysAreRefused()
    {
        using var key = CosignKeys.ParsePublicKey(ContainersImageCosignPub, "cosign.pub");
        var payload = Convert.FromBase64String(ContainersImagePayload);
        var tampered = (byte[])payload.Clone();
        tampered[^10] ^= 1;
        var changed = CosignVerifier.Verify([new CosignSignature(tampered, ContainersImageSignature, new Descriptor())], [key], ContainersImageManifest, _ => null);
        Assert.Empty(changed.Verified);
        Assert.Contains("not made by the given key", changed.Explain());

        var otherDigest = CosignVerifier.Verify([new CosignSignature(payload, ContainersImageSignature, new Descriptor())], [key], Digest.Sha256("x"u8), _ => null);
        Assert.Contains("signs manifest sha256:634a8f35", otherDigest.Explain());

        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        Assert.Empty(CosignVerifier.Verify([new CosignSignature(payload, ContainersImageSignature, new Descriptor())], [other], ContainersImageManifest, _ => null).Verified);
    }

    [Theory]
    [InlineData("""{"critical":{"identity":{"docker-reference":"a/b"},"image":{"docker-manifest-digest":"sha256:00"},"type":"t","extra":1},"optional":null}""", "unknown field")]
    [InlineData("""{"critical":{"identity":{},"image":{"docker-manifest-digest":"sha256:00"},"type":"t"}}""", "identity")]
    [InlineData("""{"optional":{}}""", "critical")]
    [InlineData("""not json""", "not JSON")]
    public void MalformedPayloadsAreRefusedWithAReason(string json, string reason)
    {
        Assert.Null(SimpleSigningPayload.TryParse(Encoding.UTF8.GetBytes(json), out var why));
        Assert.Contains(reason, why);
    }
}
