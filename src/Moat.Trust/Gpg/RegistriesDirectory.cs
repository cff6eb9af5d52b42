namespace Moat.Trust.Gpg;

/// <summary>
/// containers-registries.d(5): YAML files (*.yaml) that say where the lookaside storage of each registry,
/// namespace or repository is (`docker: SCOPE: lookaside: URL`, with `default-docker` for the rest;
/// `sigstore`/`sigstore-staging` are the old names of `lookaside`/`lookaside-staging`). The most specific scope
/// wins; a scope defined in two files is an error, as containers/image says.
/// </summary>
public sealed class RegistriesDirectory
{
    public const string SystemPath = "/etc/containers/registries.d";
    /// <summary>Where signatures are kept when no file names a place (containers/image's builtin default).</summary>
    public const string RootDefaultLookaside = "file:///var/lib/containers/sigstore";

    readonly Dictionary<string, Entry> scopes = new(StringComparer.Ordinal);
    Entry? defaultDocker;

    sealed record Entry(string? Lookaside, string? LookasideStaging, bool UseSigstoreAttachments, string File);

    public string Directory { get; }

    RegistriesDirectory(string directory) => Directory = directory;

    /// <summary>The given directory, else $HOME/.config/containers/registries.d if it exists, else /etc/containers/registries.d.</summary>
    public static RegistriesDirectory Load(string? directory = null)
    {
        if (directory is null)
        {
            var home = Environment.GetEnvironmentVariable("HOME");
            var user = string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".config/containers/registries.d");
            directory = user is not null && System.IO.Directory.Exists(user) ? user : SystemPath;
        }
        var config = new RegistriesDirectory(directory);
        if (!System.IO.Directory.Exists(directory)) return config;
        foreach (var file in System.IO.Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
            config.Add(File.ReadAllText(file), file);
        return config;
    }

    public static RegistriesDirectory Parse(string yaml, string source)
    {
        var config = new RegistriesDirectory(Path.GetDirectoryName(source) ?? "");
        config.Add(yaml, source);
        return config;
    }

    void Add(string yaml, string file)
    {
        var root = MiniYaml.Parse(yaml, file);
        foreach (var (key, value) in root)
        {
            switch (key)
            {
                case "default-docker":
                    if (defaultDocker is not null) throw new TrustConfigException($"{file} defines default-docker, which {defaultDocker.File} already defines");
                    defaultDocker = EntryOf(value, file, "default-docker");
                    break;
                case "docker":
                    foreach (var (scope, entry) in MiniYaml.Map(value, file, "docker"))
                    {
                        if (scopes.TryGetValue(scope, out var known))
                            throw new TrustConfigException($"{file} defines the docker scope {scope}, which {known.File} already defines");
                        scopes[scope] = EntryOf(entry, file, $"docker.{scope}");
                    }
                    break;
                default:
                    throw new TrustConfigException($"{file} has the unknown key \"{key}\" (expected default-docker or docker)");
            }
        }
    }

    static Entry EntryOf(object? value, string file, string where)
    {
        string? lookaside = null, staging = null;
        var attachments = false;
        foreach (var (key, item) in MiniYaml.Map(value, file, where))
        {
            var text = item as string;
            switch (key)
            {
                case "lookaside" or "sigstore": lookaside = text; break;
                case "lookaside-staging" or "sigstore-staging": staging = text; break;
                case "use-sigstore-attachments": attachments = text == "true"; break;
                default: throw new TrustConfigException($"{file} has the unknown key \"{key}\" in {where}");
            }
        }
        return new Entry(lookaside, staging, attachments, file);
    }

    /// <summary>
    /// The base URL of a repository's signatures for reading (lookaside) or writing (lookaside-staging, else
    /// lookaside): the scope's URL with the repository path (without registry) appended, as containers/image does.
    /// </summary>
    public Uri LookasideFor(string registry, string repository, bool write = false)
    {
        var entry = Find($"{registry}/{repository}");
        var url = (write ? entry?.LookasideStaging ?? entry?.Lookaside : entry?.Lookaside) ?? DefaultLookaside();
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("file" or "http" or "https"))
            throw new TrustConfigException($"the lookaside URL \"{url}\" for {registry}/{repository} is not a file://, http:// or https:// URL");
        return new Uri(baseUri.ToString().TrimEnd('/') + "/" + repository);
    }

    Entry? Find(string name)
    {
        // Most specific first: the repository, then each parent namespace, then the registry.
        for (var scope = name; ; )
        {
            if (scopes.TryGetValue(scope, out var entry)) return entry;
            var slash = scope.LastIndexOf('/');
            if (slash < 0) return defaultDocker;
            scope = scope[..slash];
        }
    }

    static string DefaultLookaside()
    {
        if (Environment.UserName == "root" || Moat.Interop.Libc.geteuid() == 0) return RootDefaultLookaside;
        var home = Environment.GetEnvironmentVariable("HOME") ?? "/";
        return new Uri(Path.Combine(home, ".local/share/containers/sigstore")).ToString();
    }
}

/// <summary>A configuration file (policy.json, registries.d) that cannot be used; the message names the file and the place.</summary>
public sealed class TrustConfigException(string message) : Exception(message);
