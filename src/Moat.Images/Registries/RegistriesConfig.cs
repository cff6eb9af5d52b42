using Moat.Oci;
using Moat.Images.References;

namespace Moat.Images.Registries;

/// <summary>
/// podman's registries.conf (version 2): search registries for short names, per-prefix locations, mirrors,
/// insecure and blocked registries, and short-name aliases. Read from the same files podman reads, or from
/// a file Moat is given, with the `.d` drop-ins beside it merged in name order.
/// </summary>
public sealed class RegistriesConfig
{
    public const string SystemPath = "/etc/containers/registries.conf";

    readonly List<RegistryEntry> registries = [];
    readonly Dictionary<string, string> aliases = new(StringComparer.Ordinal);
    readonly List<string> files = [];

    /// <summary>The file errors name: the main file, read or not.</summary>
    public string Path { get; }
    public IReadOnlyList<string> UnqualifiedSearchRegistries { get; private set; } = [];
    public IReadOnlyList<RegistryEntry> Registries => registries;
    public IReadOnlyDictionary<string, string> Aliases => aliases;
    /// <summary>The files that were read, in order.</summary>
    public IReadOnlyList<string> Files => files;

    RegistriesConfig(string path) => Path = path;

    /// <summary>No files: every registry secure, no search registries, no mirrors.</summary>
    public static RegistriesConfig Empty(string path = SystemPath) => new(path);

    /// <summary>
    /// The configuration podman would use: <paramref name="overridePath"/> when given; else for a non-root user
    /// $HOME/.config/containers/registries.conf when it exists; else /etc/containers/registries.conf.
    /// Drop-ins (`registries.conf.d/*.conf`) next to the chosen file are merged after it, as podman does.
    /// </summary>
    public static RegistriesConfig Load(string? overridePath = null, bool? rootless = null)
    {
        var path = overridePath ?? DefaultPath(rootless ?? !Storage.RootlessIdentity.IsRealRoot);
        var config = new RegistriesConfig(path);
        if (File.Exists(path)) config.Merge(ReadFile(path), path);
        else if (overridePath is not null) throw new RegistriesConfigException($"registries configuration {path} does not exist");
        var dropIns = path.EndsWith(".conf", StringComparison.Ordinal) ? path[..^".conf".Length] + ".conf.d" : path + ".d";
        if (Directory.Exists(dropIns))
            foreach (var file in Directory.GetFiles(dropIns, "*.conf").Order(StringComparer.Ordinal))
                config.Merge(ReadFile(file), file);
        return config;
    }

    static string DefaultPath(bool rootless)
    {
        if (rootless)
        {
            var home = Environment.GetEnvironmentVariable("HOME");
            var configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : home is null ? null : System.IO.Path.Combine(home, ".config");
            if (configHome is not null)
            {
                var user = System.IO.Path.Combine(configHome, "containers", "registries.conf");
                if (File.Exists(user)) return user;
            }
        }
        return SystemPath;
    }

    static string ReadFile(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RegistriesConfigException($"cannot read registries configuration {path}: {ErrorText.Reason(e)}");
        }
    }

    /// <summary>Parses one file's text (tests, and `Load` for each file).</summary>
    public static RegistriesConfig Parse(string text, string source)
    {
        var config = new RegistriesConfig(source);
        config.Merge(text, source);
        return config;
    }

    void Merge(string text, string source)
    {
        TomlTable root;
        try { root = TomlReader.Parse(text, source); }
        catch (TomlException e) { throw new RegistriesConfigException(e.Message); }
        files.Add(source);

        if (root.Tables.ContainsKey("registries"))
            throw new RegistriesConfigException($"{source}: the version 1 format ([registries.search], [registries.insecure]) is not supported; use version 2 (unqualified-search-registries and [[registry]] tables)");
        if (root.Values.TryGetValue("unqualified-search-registries", out var search))
        {
            var list = StringList(search, "unqualified-search-registries", source);
            foreach (var host in list)
                if (!ImageReference.IsValidHost(host))
                    throw new RegistriesConfigException($"{source} line {search.Line}: '{host}' in unqualified-search-registries is not a registry host (host[:port])");
            UnqualifiedSearchRegistries = list;
        }
        if (root.TableArrays.TryGetValue("registry", out var entries))
        {
            // Within a file a prefix is defined once; a later file (a drop-in) replaces an earlier file's entry.
            var prefixesHere = new HashSet<string>(StringComparer.Ordinal);
            foreach (var table in entries)
            {
                var entry = ReadEntry(table, source);
                if (!prefixesHere.Add(entry.Prefix))
                    throw new RegistriesConfigException($"{source} line {table.Line}: the prefix '{entry.Prefix}' has two [[registry]] tables");
                registries.RemoveAll(r => r.Prefix == entry.Prefix);
                registries.Add(entry);
            }
        }
        if (root.Tables.TryGetValue("aliases", out var aliasTable))
            foreach (var (name, value) in aliasTable.Values)
            {
                var target = String(value, name, source);
                if (!ImageReference.TryParse(target, out var parsed) || parsed!.IsShortName)
                    throw new RegistriesConfigException($"{source} line {value.Line}: the alias '{name}' must name a fully qualified image (registry/repository), not '{target}'");
                aliases[name] = target;
            }
    }

    static RegistryEntry ReadEntry(TomlTable table, string source)
    {
        string? prefix = null, location = null;
        bool insecure = false, blocked = false, digestOnly = false;
        foreach (var (key, value) in table.Values)
            switch (key)
            {
                case "prefix": prefix = String(value, key, source); break;
                case "location": location = String(value, key, source); break;
                case "insecure": insecure = Bool(value, key, source); break;
                case "blocked": blocked = Bool(value, key, source); break;
                case "mirror-by-digest-only": digestOnly = Bool(value, key, source); break;
                // Other podman keys (short-name-mode ...) do not change where a pull goes.
            }
        var origin = $"{source} line {table.Line}";
        if (string.IsNullOrEmpty(prefix) && string.IsNullOrEmpty(location))
            throw new RegistriesConfigException($"{origin}: a [[registry]] needs a prefix or a location");
        prefix = string.IsNullOrEmpty(prefix) ? location! : prefix;
        if (prefix.StartsWith("*.", StringComparison.Ordinal))
        {
            if (!string.IsNullOrEmpty(location)) throw new RegistriesConfigException($"{origin}: the wildcard prefix '{prefix}' cannot have a location");
            location = "";
        }
        else
        {
            CheckLocation(prefix, "prefix", origin);
            location = string.IsNullOrEmpty(location) ? prefix : location;
            CheckLocation(location, "location", origin);
        }

        var mirrors = new List<RegistryMirror>();
        if (table.TableArrays.TryGetValue("mirror", out var mirrorTables))
            foreach (var m in mirrorTables)
            {
                string? mirrorLocation = null;
                var mirrorInsecure = false;
                var use = MirrorUse.All;
                foreach (var (key, value) in m.Values)
                    switch (key)
                    {
                        case "location": mirrorLocation = String(value, key, source); break;
                        case "insecure": mirrorInsecure = Bool(value, key, source); break;
                        case "pull-from-mirror":
                            use = String(value, key, source) switch
                            {
                                "" or "all" => MirrorUse.All,
                                "digest-only" => MirrorUse.DigestOnly,
                                "tag-only" => MirrorUse.TagOnly,
                                var other => throw new RegistriesConfigException($"{source} line {value.Line}: pull-from-mirror is 'all', 'digest-only' or 'tag-only', not '{other}'"),
                            };
                            break;
                    }
                if (string.IsNullOrEmpty(mirrorLocation)) throw new RegistriesConfigException($"{source} line {m.Line}: a [[registry.mirror]] needs a location");
                CheckLocation(mirrorLocation, "mirror location", $"{source} line {m.Line}");
                mirrors.Add(new RegistryMirror(mirrorLocation, mirrorInsecure, use));
            }

        return new RegistryEntry
        {
            Prefix = prefix, Location = location, Insecure = insecure, Blocked = blocked,
            MirrorByDigestOnly = digestOnly, Mirrors = mirrors, Origin = origin,
        };
    }

    static void CheckLocation(string location, string what, string origin)
    {
        var slash = location.IndexOf('/');
        var host = slash < 0 ? location : location[..slash];
        if (location.Contains("://") || !ImageReference.IsValidHost(host) || location.EndsWith('/'))
            throw new RegistriesConfigException($"{origin}: the {what} '{location}' is not host[:port][/path]");
    }

    static string String(TomlValue value, string key, string source) =>
        value.Value as string ?? throw new RegistriesConfigException($"{source} line {value.Line}: '{key}' must be a string, not {value.Kind}");

    static bool Bool(TomlValue value, string key, string source) =>
        value.Value as bool? ?? throw new RegistriesConfigException($"{source} line {value.Line}: '{key}' must be true or false, not {value.Kind}");

    static List<string> StringList(TomlValue value, string key, string source) =>
        value.Value as List<string> ?? throw new RegistriesConfigException($"{source} line {value.Line}: '{key}' must be an array of strings, not {value.Kind}");

    /// <summary>The `[[registry]]` whose prefix matches the name (`host/repo`) most specifically, if any.</summary>
    public RegistryEntry? FindEntry(string name)
    {
        RegistryEntry? best = null;
        var bestLength = -1;
        var host = name.Split('/')[0];
        foreach (var entry in registries)
        {
            int length;
            if (entry.IsWildcard)
            {
                if (!host.EndsWith(entry.Prefix[1..], StringComparison.Ordinal)) continue;
                length = entry.Prefix.Length - 1; // a wildcard loses to an exact prefix of the same length
            }
            else
            {
                if (!name.StartsWith(entry.Prefix, StringComparison.Ordinal) || name.Length > entry.Prefix.Length && name[entry.Prefix.Length] != '/') continue;
                length = entry.Prefix.Length;
            }
            if (length > bestLength) { best = entry; bestLength = length; }
        }
        return best;
    }

    /// <summary>Whether plain HTTP and unverified TLS are allowed for a registry host.</summary>
    public bool IsInsecure(string registry)
    {
        foreach (var entry in registries)
        {
            if (entry.Blocked) continue;
            if (!entry.IsWildcard && entry.Location.Split('/')[0] == registry && entry.Insecure) return true;
            foreach (var mirror in entry.Mirrors)
                if (mirror.Location.Split('/')[0] == registry && mirror.Insecure) return true;
        }
        return FindEntry(registry) is { Blocked: false, Insecure: true, IsWildcard: true };
    }

    /// <summary>
    /// The fully qualified references a short name stands for, in the order to try them: the alias if one is
    /// configured, else the name in each unqualified-search registry. A qualified reference is returned as is.
    /// </summary>
    public IReadOnlyList<ImageReference> ExpandShortName(ImageReference reference)
    {
        if (!reference.IsShortName) return [reference];
        if (aliases.TryGetValue(reference.ShortPath, out var alias))
        {
            var target = ImageReference.Parse(alias);
            if (reference.Digest is { } digest) target = target.WithDigest(digest);
            else if (reference.Tag is { } tag && target.Digest is null) target = target.WithTag(tag);
            return [target];
        }
        if (UnqualifiedSearchRegistries.Count == 0)
            throw new RegistriesConfigException(
                $"short name '{reference.ShortPath}' has no registry to search: no unqualified-search-registries are configured in {Path} " +
                $"(write the full name, such as {reference.InRegistry(ImageReference.DockerHub).FullName})");
        return UnqualifiedSearchRegistries.Select(reference.InRegistry).ToList();
    }

    /// <summary>Where a pull of a qualified reference goes, in order: mirrors first, then the location.</summary>
    public IReadOnlyList<RemoteRepository> PullSources(ImageReference reference)
    {
        if (reference.IsShortName) throw new ArgumentException("expand short names with ExpandShortName first", nameof(reference));
        var entry = FindEntry(reference.Name);
        if (entry is null) return [new RemoteRepository(reference.Registry, reference.Repository)];
        if (entry.Blocked) throw Blocked(reference, entry);
        var sources = new List<RemoteRepository>();
        var byDigest = reference.Digest is not null;
        if (!entry.IsWildcard && (byDigest || !entry.MirrorByDigestOnly))
            foreach (var mirror in entry.Mirrors)
            {
                if (mirror.Use == MirrorUse.DigestOnly && !byDigest || mirror.Use == MirrorUse.TagOnly && byDigest) continue;
                sources.Add(Rewrite(reference, entry.Prefix, mirror.Location, mirror.Insecure, isMirror: true));
            }
        sources.Add(entry.IsWildcard
            ? new RemoteRepository(reference.Registry, reference.Repository, entry.Insecure)
            : Rewrite(reference, entry.Prefix, entry.Location, entry.Insecure, isMirror: false));
        return sources;
    }

    /// <summary>Where a push goes: the location only (podman never pushes to mirrors).</summary>
    public RemoteRepository PushTarget(ImageReference reference)
    {
        if (reference.IsShortName) throw new ArgumentException("a push needs a fully qualified reference", nameof(reference));
        var entry = FindEntry(reference.Name);
        if (entry is null) return new RemoteRepository(reference.Registry, reference.Repository);
        if (entry.Blocked) throw Blocked(reference, entry);
        return entry.IsWildcard
            ? new RemoteRepository(reference.Registry, reference.Repository, entry.Insecure)
            : Rewrite(reference, entry.Prefix, entry.Location, entry.Insecure, isMirror: false);
    }

    static RegistriesConfigException Blocked(ImageReference reference, RegistryEntry entry) =>
        new($"registry '{entry.Prefix}' is blocked in {entry.Origin}: {reference.FullName} cannot be used");

    static RemoteRepository Rewrite(ImageReference reference, string prefix, string location, bool insecure, bool isMirror)
    {
        var rewritten = location + reference.Name[prefix.Length..];
        var slash = rewritten.IndexOf('/');
        if (slash < 0) throw new RegistriesConfigException($"{reference.Name} rewritten by the prefix '{prefix}' to '{location}' names no repository");
        var registry = rewritten[..slash];
        var repository = rewritten[(slash + 1)..];
        // Docker Hub's official images live under library/ wherever Docker Hub is the location.
        if (registry == ImageReference.DockerHub && !repository.Contains('/')) repository = "library/" + repository;
        return new RemoteRepository(registry, repository, insecure, isMirror);
    }
}
