using System.Text;
using System.Text.Json;
using Moat.Trust.Gpg;
using Moat.Trust.Signatures;

namespace Moat.Trust.Policy;

/// <summary>The requirement objects of containers-policy.json(5), read strictly: unknown fields and types are errors, as containers/image makes them.</summary>
static class PolicyParsing
{
    public static PolicyRequirement Requirement(JsonElement element, string source, string where, string policyDirectory)
    {
        if (element.ValueKind != JsonValueKind.Object) throw Error(source, where, "a requirement must be an object");
        var type = String(element, "type", source, where) ?? throw Error(source, where, "the requirement has no \"type\"");
        switch (type)
        {
            case "insecureAcceptAnything":
                OnlyFields(element, source, where, "type");
                return new PolicyRequirement.InsecureAcceptAnything();
            case "reject":
                OnlyFields(element, source, where, "type");
                return new PolicyRequirement.Reject();
            case "signedBy":
            {
                OnlyFields(element, source, where, "type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity");
                var keyType = String(element, "keyType", source, where);
                if (keyType != "GPGKeys")
                    throw Error(source, where, keyType is null ? "signedBy needs \"keyType\": \"GPGKeys\"" : $"signedBy's keyType \"{keyType}\" is not supported (only GPGKeys)");
                var (keys, keySource) = Keys(element, source, where, allowMultipleData: false);
                return new PolicyRequirement.SignedBy(keys, keySource, Identity(element, source, where));
            }
            case "sigstoreSigned":
            {
                foreach (var unsupported in new[] { "fulcio", "pki", "rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData", "rekorPublicKeyDatas" })
                    if (element.TryGetProperty(unsupported, out _))
                        throw Error(source, where, $"sigstoreSigned with \"{unsupported}\" is not supported by Moat (only public keys, without a transparency log)");
                OnlyFields(element, source, where, "type", "keyPath", "keyPaths", "keyData", "keyDatas", "signedIdentity");
                var (keys, keySource) = Keys(element, source, where, allowMultipleData: true);
                return new PolicyRequirement.SigstoreSigned(keys.Select(k => Encoding.UTF8.GetString(k)).ToList(), keySource, Identity(element, source, where));
            }
            default:
                throw Error(source, where, $"unknown requirement type \"{type}\"");
        }
    }

    /// <summary>Exactly one of keyPath, keyPaths, keyData (and keyDatas for sigstoreSigned); the files are read now, so a missing key fails the policy, not the image.</summary>
    static (IReadOnlyList<byte[]> Keys, string Description) Keys(JsonElement element, string source, string where, bool allowMultipleData)
    {
        var given = new[] { "keyPath", "keyPaths", "keyData", "keyDatas" }.Where(f => element.TryGetProperty(f, out _)).ToList();
        if (given.Count != 1)
            throw Error(source, where, given.Count == 0 ? "the requirement names no key (keyPath, keyPaths or keyData)" : $"the requirement names keys in several ways ({string.Join(", ", given)}); give one");
        var field = given[0];
        var value = element.GetProperty(field);
        switch (field)
        {
            case "keyPath":
            {
                var path = StringValue(value, source, where, field);
                return ([ReadKey(path, source, where)], path);
            }
            case "keyPaths":
            {
                var paths = Strings(value, source, where, field);
                return (paths.Select(p => ReadKey(p, source, where)).ToList(), string.Join(", ", paths));
            }
            case "keyData":
                return ([Base64(StringValue(value, source, where, field), source, where)], $"the keyData of {where}");
            default:
                if (!allowMultipleData) throw Error(source, where, "keyDatas is only for sigstoreSigned");
                return (Strings(value, source, where, field).Select(d => Base64(d, source, where)).ToList(), $"the keyDatas of {where}");
        }
    }

    static byte[] ReadKey(string path, string source, string where)
    {
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error(source, where, $"cannot read the key {path}: {Moat.Oci.ErrorText.Reason(e)}");
        }
    }

    static byte[] Base64(string text, string source, string where)
    {
        try { return Convert.FromBase64String(text); }
        catch (FormatException) { throw Error(source, where, "keyData is not base64"); }
    }

    static SignedIdentity Identity(JsonElement element, string source, string where)
    {
        if (!element.TryGetProperty("signedIdentity", out var identity)) return new SignedIdentity.MatchRepoDigestOrExact();
        var at = where + ".signedIdentity";
        if (identity.ValueKind != JsonValueKind.Object) throw Error(source, at, "signedIdentity must be an object");
        var type = String(identity, "type", source, at) ?? throw Error(source, at, "signedIdentity has no \"type\"");
        switch (type)
        {
            case "matchExact": OnlyFields(identity, source, at, "type"); return new SignedIdentity.MatchExact();
            case "matchRepoDigestOrExact": OnlyFields(identity, source, at, "type"); return new SignedIdentity.MatchRepoDigestOrExact();
            case "matchRepository": OnlyFields(identity, source, at, "type"); return new SignedIdentity.MatchRepository();
            case "exactReference":
            {
                OnlyFields(identity, source, at, "type", "dockerReference");
                var reference = String(identity, "dockerReference", source, at) ?? throw Error(source, at, "exactReference needs \"dockerReference\"");
                if (DockerReference.TryParse(reference) is not { IsNameOnly: false })
                    throw Error(source, at, $"\"{reference}\" is not a reference with a tag or digest");
                return new SignedIdentity.ExactReference(reference);
            }
            case "exactRepository":
            {
                OnlyFields(identity, source, at, "type", "dockerRepository");
                var repository = String(identity, "dockerRepository", source, at) ?? throw Error(source, at, "exactRepository needs \"dockerRepository\"");
                if (DockerReference.TryParse(repository) is not { IsNameOnly: true })
                    throw Error(source, at, $"\"{repository}\" is not a repository (no tag or digest)");
                return new SignedIdentity.ExactRepository(repository);
            }
            case "remapIdentity":
            {
                OnlyFields(identity, source, at, "type", "prefix", "signedPrefix");
                var prefix = String(identity, "prefix", source, at) ?? throw Error(source, at, "remapIdentity needs \"prefix\"");
                var signedPrefix = String(identity, "signedPrefix", source, at) ?? throw Error(source, at, "remapIdentity needs \"signedPrefix\"");
                return new SignedIdentity.RemapIdentity(prefix, signedPrefix);
            }
            default:
                throw Error(source, at, $"unknown signedIdentity type \"{type}\"");
        }
    }

    static void OnlyFields(JsonElement element, string source, string where, params string[] allowed)
    {
        foreach (var property in element.EnumerateObject())
            if (!allowed.Contains(property.Name))
                throw Error(source, where, $"unknown field \"{property.Name}\"");
    }

    static string? String(JsonElement element, string name, string source, string where) =>
        element.TryGetProperty(name, out var value) ? StringValue(value, source, where, name) : null;

    static string StringValue(JsonElement value, string source, string where, string name) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Error(source, where, $"\"{name}\" must be a string");

    static List<string> Strings(JsonElement value, string source, string where, string name) =>
        value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0 && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String)
            ? value.EnumerateArray().Select(v => v.GetString()!).ToList()
            : throw Error(source, where, $"\"{name}\" must be a non-empty list of strings");

    static TrustConfigException Error(string source, string where, string why) => new($"{source}, {where}: {why}");
}
