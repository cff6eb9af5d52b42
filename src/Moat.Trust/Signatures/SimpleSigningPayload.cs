using System.Text;
using System.Text.Json;
using Moat.Images.Model;

namespace Moat.Trust.Signatures;

/// <summary>
/// The "simple signing" payload both signature formats sign (containers-signature(5)):
/// `{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},"type":T},"optional":O}`.
/// cosign writes T = "cosign container image signature" and R a repository without tag; skopeo and podman
/// write T = "atomic container signature" and R the reference they pushed to, tag included.
/// </summary>
public sealed record SimpleSigningPayload(string Type, string DockerReference, string ManifestDigest, IReadOnlyDictionary<string, JsonElement>? Optional)
{
    public const string CosignType = "cosign container image signature";
    public const string AtomicType = "atomic container signature";

    /// <summary>
    /// The bytes cosign signs, as Go's encoding/json writes sigstore's payload.Cosign: fields in declaration order,
    /// no spaces, `"optional":null` without annotations, annotation keys sorted (Go sorts map keys).
    /// </summary>
    public static byte[] CosignBytes(string dockerReference, Digest digest, IReadOnlyDictionary<string, string>? annotations = null)
    {
        var json = new StringBuilder();
        json.Append("{\"critical\":{\"identity\":{\"docker-reference\":").Append(GoJson.Quote(dockerReference))
            .Append("},\"image\":{\"docker-manifest-digest\":").Append(GoJson.Quote(digest.ToString()))
            .Append("},\"type\":").Append(GoJson.Quote(CosignType)).Append("},\"optional\":");
        if (annotations is null || annotations.Count == 0)
            json.Append("null");
        else
        {
            json.Append('{');
            var first = true;
            foreach (var (key, value) in annotations.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                if (!first) json.Append(',');
                first = false;
                json.Append(GoJson.Quote(key)).Append(':').Append(GoJson.Quote(value));
            }
            json.Append('}');
        }
        json.Append('}');
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    /// <summary>
    /// Reads a payload strictly, as containers/image does before trusting any field: `critical` must hold exactly
    /// identity, image and type, each of the right shape. Returns null with the reason when it does not.
    /// </summary>
    public static SimpleSigningPayload? TryParse(ReadOnlySpan<byte> bytes, out string reason)
    {
        reason = "";
        try
        {
            using var document = JsonDocument.Parse(bytes.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Fail("it is not a JSON object", out reason);
            if (!root.TryGetProperty("critical", out var critical) || critical.ValueKind != JsonValueKind.Object)
                return Fail("it has no \"critical\" object", out reason);
            foreach (var property in critical.EnumerateObject())
                if (property.Name is not ("identity" or "image" or "type"))
                    return Fail($"its critical section has the unknown field \"{property.Name}\"", out reason);
            if (!critical.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                return Fail("it has no critical.type", out reason);
            if (!critical.TryGetProperty("identity", out var identity) || identity.ValueKind != JsonValueKind.Object
                || !identity.TryGetProperty("docker-reference", out var reference) || reference.ValueKind != JsonValueKind.String
                || identity.EnumerateObject().Count() != 1)
                return Fail("its critical.identity is not {\"docker-reference\": STRING}", out reason);
            if (!critical.TryGetProperty("image", out var image) || image.ValueKind != JsonValueKind.Object
                || !image.TryGetProperty("docker-manifest-digest", out var digest) || digest.ValueKind != JsonValueKind.String
                || image.EnumerateObject().Count() != 1)
                return Fail("its critical.image is not {\"docker-manifest-digest\": STRING}", out reason);
            Dictionary<string, JsonElement>? optional = null;
            if (root.TryGetProperty("optional", out var optionalElement) && optionalElement.ValueKind == JsonValueKind.Object)
                optional = optionalElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
            return new SimpleSigningPayload(type.GetString()!, reference.GetString()!, digest.GetString()!, optional);
        }
        catch (JsonException e)
        {
            return Fail($"it is not JSON ({e.Message})", out reason);
        }
    }

    static SimpleSigningPayload? Fail(string why, out string reason)
    {
        reason = why;
        return null;
    }
}

/// <summary>Strings as Go's encoding/json writes them (it escapes &lt;, &gt;, &amp;, U+2028 and U+2029 too): a payload must match cosign's byte for byte.</summary>
static class GoJson
{
    public static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\t': quoted.Append("\\t"); break;
                case < ' ' or '<' or '>' or '&' or '\u2028' or '\u2029': quoted.Append($"\\u{(int)c:x4}"); break;
                default: quoted.Append(c); break;
            }
        }
        return quoted.Append('"').ToString();
    }
}
