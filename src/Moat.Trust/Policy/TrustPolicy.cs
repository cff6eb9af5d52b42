using System.Text;
using System.Text.Json;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Trust.Gpg;

namespace Moat.Trust.Policy;

/// <summary>
/// A trust policy in containers-policy.json(5) format: `default` requirements, and per transport a map of
/// scopes to requirements. For the docker transport the most specific scope wins: the exact reference
/// (`host/repo:tag` or `host/repo@digest`), the repository, each parent namespace, the registry, wildcard
/// domains (`*.example.com`, longest first), the transport's `""` scope, then `default`. Every requirement of
/// the chosen scope must be met. Other transports are parsed and not used (Moat pulls only from registries).
/// </summary>
public sealed partial class TrustPolicy
{
    public const string SystemPath = "/etc/containers/policy.json";
    static readonly HashSet<string> KnownTransports = ["docker", "atomic", "containers-storage", "dir", "docker-archive", "docker-daemon", "oci", "oci-archive", "sif", "tarball"];

    public string Source { get; }
    public IReadOnlyList<PolicyRequirement> Default { get; }
    public IReadOnlyDictionary<string, IReadOnlyList<PolicyRequirement>> DockerScopes { get; }

    TrustPolicy(string source, IReadOnlyList<PolicyRequirement> @default, IReadOnlyDictionary<string, IReadOnlyList<PolicyRequirement>> docker)
    {
        Source = source; Default = @default; DockerScopes = docker;
    }

    /// <summary>The file podman would use: `--signature-policy`, else $HOME/.config/containers/policy.json, else /etc/containers/policy.json; null when none exists.</summary>
    public static string? FindFile(string? explicitPath = null)
    {
        if (explicitPath is not null) return explicitPath;
        var home = Environment.GetEnvironmentVariable("HOME");
        if (!string.IsNullOrEmpty(home) && File.Exists(Path.Combine(home, ".config/containers/policy.json")))
            return Path.Combine(home, ".config/containers/policy.json");
        return File.Exists(SystemPath) ? SystemPath : null;
    }

    public static TrustPolicy Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrustConfigException($"cannot read the trust policy {path}: {Moat.Oci.ErrorText.Reason(e)}");
        }
        return Parse(text, path);
    }

    public static TrustPolicy Parse(string json, string source)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Disallow }); }
        catch (JsonException e) { throw new TrustConfigException($"{source} is not JSON: {e.Message}"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new TrustConfigException($"{source} is not a JSON object");
            IReadOnlyList<PolicyRequirement>? @default = null;
            var docker = new Dictionary<string, IReadOnlyList<PolicyRequirement>>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "default":
                        @default = Requirements(property.Value, source, "default");
                        break;
                    case "transports":
                        if (property.Value.ValueKind != JsonValueKind.Object) throw new TrustConfigException($"{source}: transports must be an object");
                        foreach (var transport in property.Value.EnumerateObject())
                        {
                            if (!KnownTransports.Contains(transport.Name)) throw new TrustConfigException($"{source}: unknown transport \"{transport.Name}\"");
                            if (transport.Value.ValueKind != JsonValueKind.Object) throw new TrustConfigException($"{source}: transports.{transport.Name} must be an object");
                            foreach (var scope in transport.Value.EnumerateObject())
                            {
                                var requirements = Requirements(scope.Value, source, $"transports.{transport.Name}[\"{scope.Name}\"]");
                                if (transport.Name != "docker") continue;
                                ValidateDockerScope(scope.Name, source);
                                if (!docker.TryAdd(scope.Name, requirements)) throw new TrustConfigException($"{source}: the docker scope \"{scope.Name}\" appears twice");
                            }
                        }
                        break;
                    default:
                        throw new TrustConfigException($"{source}: unknown field \"{property.Name}\" (expected default and transports)");
                }
            }
            return new TrustPolicy(source, @default ?? throw new TrustConfigException($"{source} has no \"default\" requirements"), docker);
        }
    }

    static void ValidateDockerScope(string scope, string source)
    {
        if (scope.Length == 0) return;
        if (scope.StartsWith("*.", StringComparison.Ordinal))
        {
            if (scope.Length < 3 || scope[2..].Contains('*') || scope.Contains('/') || scope.Contains(':'))
                throw new TrustConfigException($"{source}: the docker scope \"{scope}\" is not a valid wildcard (*.DOMAIN)");
            return;
        }
        // A registry alone ("host", "host:port") has no repository; anything longer must be a valid reference.
        if (!scope.Contains('/') && HostPattern().IsMatch(scope)) return;
        if (!ImageReference.TryParse(scope, out var parsed) || parsed!.IsShortName)
            throw new TrustConfigException($"{source}: the docker scope \"{scope}\" is not a registry, namespace, repository or reference with its registry");
    }

    static IReadOnlyList<PolicyRequirement> Requirements(JsonElement element, string source, string where)
    {
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() == 0)
            throw new TrustConfigException($"{source}: {where} must be a non-empty list of requirements");
        return element.EnumerateArray().Select((r, i) => PolicyParsing.Requirement(r, source, $"{where}[{i}]", Path.GetDirectoryName(Path.GetFullPath(source)) ?? "/")).ToList();
    }

    /// <summary>The scopes tried for a reference, most specific first (containers/image's PolicyConfigurationNamespaces, then "").</summary>
    public static IEnumerable<string> ScopesOf(ImageReference reference)
    {
        yield return reference.FullName;
        if (reference.Tag is not null && reference.Digest is not null)
            yield return reference.Name + "@" + reference.Digest;
        for (var name = reference.Name; ;)
        {
            yield return name;
            var slash = name.LastIndexOf('/');
            if (slash < 0) break;
            name = name[..slash];
        }
        var host = reference.Registry.Split(':')[0];
        for (var dot = host.IndexOf('.'); dot >= 0; dot = host.IndexOf('.', dot + 1))
            yield return "*" + host[dot..];
        yield return "";
    }

    /// <summary>The requirements for a reference and a description of where they come from (the scope, or "default").</summary>
    public (string Scope, IReadOnlyList<PolicyRequirement> Requirements) Select(ImageReference reference)
    {
        foreach (var scope in ScopesOf(reference))
            if (DockerScopes.TryGetValue(scope, out var requirements))
                return ($"transports.docker scope \"{scope}\"", requirements);
        return ("default", Default);
    }

    /// <summary>
    /// Checks one image against the policy; returns the scope that decided, or throws
    /// <see cref="TrustPolicyException"/> naming the file, the scope and the first requirement not met.
    /// </summary>
    public async Task<string> CheckAsync(ImageToCheck image, SignatureSources sources, CancellationToken cancellation = default)
    {
        var (scope, requirements) = Select(image.Reference);
        for (var i = 0; i < requirements.Count; i++)
        {
            var why = await requirements[i].EvaluateAsync(image, sources, cancellation).ConfigureAwait(false);
            if (why is not null)
                throw new TrustPolicyException(
                    $"{image.Reference.FullName} ({image.ManifestDigest}) is refused by the trust policy {Source}, {scope}, requirement {i + 1} ({requirements[i].Type}): {why}",
                    Source, scope, requirements[i].Type);
        }
        return scope;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?$")]
    private static partial System.Text.RegularExpressions.Regex HostPattern();
}
