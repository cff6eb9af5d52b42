using Moat.Oci;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Moat.Images.Auth;

/// <summary>
/// Credentials in podman's auth.json format, `{"auths": {"host[:port][/repo]": {"auth": base64("user:pass")}}}`.
/// Lookups read every file podman reads (and docker's config.json); login and logout change only the primary
/// file, written atomically with mode 0600 and keeping every key Moat does not use (credHelpers, HttpHeaders ...).
/// </summary>
public sealed class CredentialStore
{
    /// <summary>The file Save and Remove change.</summary>
    public string PrimaryPath { get; }
    /// <summary>The files Find reads, in order; the first one with a match wins.</summary>
    public IReadOnlyList<string> ReadPaths { get; }

    /// <summary>The store podman would use; <paramref name="authFile"/> is `--authfile`.</summary>
    public CredentialStore(string? authFile = null) : this(AuthFilePaths.Primary(authFile), AuthFilePaths.ReadOrder(authFile)) { }

    public CredentialStore(string primaryPath, IReadOnlyList<string> readPaths)
    {
        PrimaryPath = primaryPath;
        ReadPaths = readPaths;
    }

    /// <summary>
    /// The credentials for a registry (and, when given, a repository in it: podman allows per-namespace
    /// entries such as `quay.io/team`, the most specific winning), or null for anonymous access.
    /// </summary>
    public RegistryCredential? Find(string registry, string? repository = null)
    {
        var keys = CandidateKeys(registry, repository);
        foreach (var path in ReadPaths)
        {
            var auths = ReadAuths(path);
            if (auths is null) continue;
            var normalized = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
            foreach (var (key, value) in auths)
                normalized.TryAdd(NormalizeKey(key), value);
            foreach (var key in keys)
                if (normalized.TryGetValue(key, out var entry) && Decode(entry, path, key) is { } credential)
                    return credential;
        }
        return null;
    }

    /// <summary>Stores credentials for `host[:port]` (or `host/namespace`), replacing any there were.</summary>
    public void Save(string key, RegistryCredential credential)
    {
        if (credential.Username.Contains(':')) throw new ArgumentException("a user name cannot contain ':' (auth.json joins user and password with it)", nameof(credential));
        var document = ReadDocument(PrimaryPath) ?? new JsonObject();
        if (document["auths"] is not JsonObject auths) document["auths"] = auths = new JsonObject();
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}"));
        if (auths[key] is JsonObject existing) existing["auth"] = encoded;
        else auths[key] = new JsonObject { ["auth"] = encoded };
        Write(PrimaryPath, document);
    }

    /// <summary>Removes the credentials stored under the key; false when there were none in the primary file.</summary>
    public bool Remove(string key)
    {
        var document = ReadDocument(PrimaryPath);
        if (document?["auths"] is not JsonObject auths) return false;
        var removed = false;
        foreach (var existing in auths.Select(p => p.Key).Where(k => NormalizeKey(k) == key).ToList())
            removed |= auths.Remove(existing);
        if (removed) Write(PrimaryPath, document);
        return removed;
    }

    /// <summary>Removes every credential from the primary file (`logout --all`); other keys stay.</summary>
    public void RemoveAll()
    {
        var document = ReadDocument(PrimaryPath);
        if (document?["auths"] is not JsonObject auths || auths.Count == 0) return;
        auths.Clear();
        Write(PrimaryPath, document);
    }

    /// <summary>The keys tried for a lookup, most specific first: `host/a/b`, `host/a`, `host`.</summary>
    static List<string> CandidateKeys(string registry, string? repository)
    {
        var keys = new List<string>();
        if (!string.IsNullOrEmpty(repository))
        {
            var path = repository;
            while (true)
            {
                keys.Add($"{registry}/{path}");
                var slash = path.LastIndexOf('/');
                if (slash < 0) break;
                path = path[..slash];
            }
        }
        keys.Add(registry);
        return keys;
    }

    /// <summary>docker writes `https://index.docker.io/v1/`; podman writes `docker.io`. Both mean the same registry.</summary>
    public static string NormalizeKey(string key)
    {
        var k = key;
        if (k.StartsWith("https://", StringComparison.Ordinal)) k = k["https://".Length..];
        else if (k.StartsWith("http://", StringComparison.Ordinal)) k = k["http://".Length..];
        var slash = k.IndexOf('/');
        if (slash >= 0 && key.Contains("://")) k = k[..slash]; // a URL's path (/v1/) is not a namespace
        k = k.TrimEnd('/');
        var host = k.Split('/')[0];
        if (host is "index.docker.io" or "registry-1.docker.io") k = "docker.io" + k[host.Length..];
        return k;
    }

    static RegistryCredential? Decode(JsonNode? entry, string path, string key)
    {
        if (entry is not JsonObject obj || obj["auth"] is not JsonValue value || !value.TryGetValue<string>(out var auth) || auth.Length == 0)
            return null;
        string text;
        try { text = Encoding.UTF8.GetString(Convert.FromBase64String(auth)); }
        catch (FormatException) { throw new CredentialStoreException($"{path}: the \"auth\" of '{key}' is not base64"); }
        var colon = text.IndexOf(':');
        if (colon < 0) throw new CredentialStoreException($"{path}: the \"auth\" of '{key}' is not base64 of user:password");
        return new RegistryCredential(text[..colon], text[(colon + 1)..]);
    }

    static JsonObject? ReadAuths(string path) => ReadDocument(path)?["auths"] as JsonObject;

    static JsonObject? ReadDocument(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CredentialStoreException($"cannot read {path}: {ErrorText.Reason(e)}", e); }
        if (bytes.Length == 0) return null;
        try
        {
            return JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true }) as JsonObject
                ?? throw new CredentialStoreException($"{path} is not an auth file: its top level is not a JSON object");
        }
        catch (JsonException e) { throw new CredentialStoreException($"{path} is not valid JSON ({ErrorText.Reason(e)})", e); }
    }

    /// <summary>Temp file with mode 0600 beside the target, fsync, rename: a reader sees the old file or the new, whole.</summary>
    static void Write(string path, JsonObject document)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            if (!Directory.Exists(directory))
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            using (var stream = new FileStream(temp, options))
            {
                using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                    document.WriteTo(writer);
                stream.WriteByte((byte)'\n');
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw new CredentialStoreException($"cannot write {path}: {ErrorText.Reason(e)}", e);
        }
    }
}
