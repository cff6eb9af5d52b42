using System.Text;
using System.Text.RegularExpressions;

namespace Moat.Engine.Run.Flags;

/// <summary>
/// `-v`/`--volume`, `--mount` and `--tmpfs`, each to a <see cref="MountRequest"/>. A source that is an
/// absolute host path is a bind mount, a name is a named volume, none is an anonymous volume.
/// </summary>
public static partial class MountFlags
{
    public const string Bind = "bind", Volume = "volume", Tmpfs = "tmpfs";

    static readonly HashSet<string> Propagations = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];

    /// <summary>Options that docker or podman accept in -v and that pass to the mount as they are.</summary>
    static readonly HashSet<string> PassThrough = ["exec", "noexec", "suid", "nosuid", "dev", "nodev", "U"];

    /// <summary>Docker Desktop's consistency hints: accepted and ignored on Linux, as docker does.</summary>
    static readonly HashSet<string> Consistency = ["consistent", "cached", "delegated"];

    /// <summary>docker's rule for a local volume's name.</summary>
    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex VolumeName();

    /// <summary>`-v [SRC:]DST[:OPTS]`.</summary>
    public static MountRequest ParseVolume(string text)
    {
        var parts = text.Split(':');
        string? source = null, target, modes = null;
        switch (parts.Length)
        {
            case 1:
                target = parts[0];
                break;
            case 2 when IsModeList(parts[1]) && parts[0].StartsWith('/'):
                // "/data:ro": an anonymous volume with a mode.
                target = parts[0];
                modes = parts[1];
                break;
            case 2:
                (source, target) = (parts[0], parts[1]);
                break;
            case 3:
                (source, target, modes) = (parts[0], parts[1], parts[2]);
                break;
            default:
                throw new RunFlagException($"-v \"{text}\" is not SOURCE:DESTINATION[:OPTIONS] (too many ':')");
        }
        if (source is { Length: 0 })
            throw new RunFlagException($"-v \"{text}\" has an empty source before the ':'");
        CheckTarget(target, "-v", text);
        var type = source is null ? Volume : source.StartsWith('/') ? Bind : Volume;
        if (type == Volume && source is not null)
            CheckVolumeName(source, "-v", text);

        var readOnly = false;
        var options = new List<string>();
        string? propagation = null, relabel = null;
        bool rw = false, nocopy = false;
        foreach (var mode in (modes ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            switch (mode)
            {
                case "ro" or "rw":
                    if (readOnly || rw)
                        throw new RunFlagException($"-v \"{text}\" gives ro or rw twice");
                    readOnly = mode == "ro";
                    rw = mode == "rw";
                    break;
                case "z" or "Z":
                    if (relabel is not null)
                        throw new RunFlagException($"-v \"{text}\" gives z or Z twice");
                    relabel = mode;
                    break;
                case "nocopy":
                    if (type == Bind)
                        throw new RunFlagException($"-v \"{text}\": nocopy is only for volumes, not for a host path");
                    nocopy = true;
                    break;
                case "rbind" or "bind":
                    if (type != Bind)
                        throw new RunFlagException($"-v \"{text}\": {mode} is only for a host path");
                    break;
                default:
                    if (Propagations.Contains(mode))
                    {
                        if (propagation is not null)
                            throw new RunFlagException($"-v \"{text}\" gives the propagation twice");
                        propagation = mode;
                    }
                    else if (!PassThrough.Contains(mode) && !Consistency.Contains(mode))
                    {
                        throw new RunFlagException($"-v \"{text}\": unknown option \"{mode}\" (ro, rw, z, Z, nocopy, private, rprivate, shared, rshared, slave, rslave)");
                    }
                    else if (PassThrough.Contains(mode))
                    {
                        options.Add(mode);
                    }
                    break;
            }
        }
        if (propagation is not null && type != Bind)
            throw new RunFlagException($"-v \"{text}\": propagation ({propagation}) is only for a host path");
        if (type == Bind)
            options.Insert(0, modes?.Split(',').Contains("bind") == true ? "bind" : "rbind");
        if (propagation is not null || type == Bind)
            options.Add(propagation ?? "rprivate");
        if (relabel is not null)
            options.Add(relabel);
        if (nocopy)
            options.Add("nocopy");
        return new MountRequest { Type = type, Source = source, Target = Clean(target), ReadOnly = readOnly, Options = options };
    }

    static bool IsModeList(string text) =>
        text.Split(',').All(m => m is "ro" or "rw" or "z" or "Z" or "nocopy" || Propagations.Contains(m) || PassThrough.Contains(m) || Consistency.Contains(m));

    /// <summary>`--mount type=bind|volume|tmpfs,source=..,target=..,readonly,...` (docker's CSV; values may be quoted).</summary>
    public static MountRequest ParseMount(string text)
    {
        string type = Volume;
        string? source = null, target = null, propagation = null, tmpfsSize = null, tmpfsMode = null;
        bool readOnly = false, nocopy = false, nonRecursive = false;
        var kindOptions = new List<string>();
        foreach (var field in SplitCsv(text))
        {
            var eq = field.IndexOf('=');
            var key = (eq < 0 ? field : field[..eq]).Trim().ToLowerInvariant();
            var value = eq < 0 ? null : field[(eq + 1)..];
            string Required() => value is { Length: > 0 } v ? v : throw new RunFlagException($"--mount \"{text}\": {key} needs a value");
            switch (key)
            {
                case "type":
                    type = Required();
                    if (type is not (Bind or Volume or Tmpfs))
                        throw new RunFlagException($"--mount \"{text}\": type \"{type}\" is not bind, volume or tmpfs");
                    break;
                case "source" or "src":
                    source = Required();
                    break;
                case "target" or "dst" or "destination":
                    target = Required();
                    break;
                case "readonly" or "ro":
                    readOnly = Bool(value, key, text);
                    break;
                case "bind-propagation":
                    propagation = Required();
                    if (!Propagations.Contains(propagation))
                        throw new RunFlagException($"--mount \"{text}\": bind-propagation \"{propagation}\" is not private, rprivate, shared, rshared, slave or rslave");
                    kindOptions.Add(Bind);
                    break;
                case "bind-nonrecursive":
                    nonRecursive = Bool(value, key, text);
                    kindOptions.Add(Bind);
                    break;
                case "volume-nocopy":
                    nocopy = Bool(value, key, text);
                    kindOptions.Add(Volume);
                    break;
                case "volume-driver":
                    if (Required() != "local")
                        throw new RunFlagException($"--mount \"{text}\": volume-driver \"{value}\" is not available (only local)");
                    kindOptions.Add(Volume);
                    break;
                case "tmpfs-size":
                    tmpfsSize = ByteSize.Parse(Required(), "--mount tmpfs-size").ToString(System.Globalization.CultureInfo.InvariantCulture);
                    kindOptions.Add(Tmpfs);
                    break;
                case "tmpfs-mode":
                    tmpfsMode = Required();
                    if (!IsOctalMode(tmpfsMode))
                        throw new RunFlagException($"--mount \"{text}\": tmpfs-mode \"{tmpfsMode}\" is not an octal file mode such as 1777");
                    kindOptions.Add(Tmpfs);
                    break;
                case "consistency":
                    break;
                default:
                    throw new RunFlagException($"--mount \"{text}\": unknown key \"{key}\"");
            }
        }
        if (target is null)
            throw new RunFlagException($"--mount \"{text}\" has no target (target=/path/in/container)");
        CheckTarget(target, "--mount", text);
        foreach (var kind in kindOptions.Distinct().Where(k => k != type))
            throw new RunFlagException($"--mount \"{text}\": {kind}-* options do not go with type={type}");

        var options = new List<string>();
        switch (type)
        {
            case Bind:
                if (source is null)
                    throw new RunFlagException($"--mount \"{text}\": a bind mount needs a source (source=/host/path)");
                if (!source.StartsWith('/'))
                    throw new RunFlagException($"--mount \"{text}\": the bind source \"{source}\" is not an absolute host path");
                options.Add(nonRecursive ? "bind" : "rbind");
                options.Add(propagation ?? "rprivate");
                break;
            case Volume:
                if (source is not null)
                    CheckVolumeName(source, "--mount", text);
                if (nocopy)
                    options.Add("nocopy");
                break;
            case Tmpfs:
                if (source is not null)
                    throw new RunFlagException($"--mount \"{text}\": a tmpfs mount takes no source");
                options.AddRange(TmpfsDefaults);
                if (tmpfsSize is not null)
                    options.Add("size=" + tmpfsSize);
                if (tmpfsMode is not null)
                    options.Add("mode=" + tmpfsMode);
                break;
        }
        return new MountRequest { Type = type, Source = source, Target = Clean(target), ReadOnly = readOnly, Options = options };
    }

    /// <summary>What every tmpfs of `--tmpfs` and `--mount type=tmpfs` gets unless its options say otherwise, as docker has it.</summary>
    static readonly string[] TmpfsDefaults = ["nosuid", "nodev", "noexec"];

    /// <summary>`--tmpfs DST[:OPTS]` with mount(8)-style tmpfs options (size=64m, mode=1777, exec, uid=...).</summary>
    public static MountRequest ParseTmpfs(string text)
    {
        var colon = text.IndexOf(':');
        var target = colon < 0 ? text : text[..colon];
        CheckTarget(target, "--tmpfs", text);
        var options = new List<string>(TmpfsDefaults);
        var readOnly = false;
        foreach (var option in (colon < 0 ? "" : text[(colon + 1)..]).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = option.IndexOf('=');
            var key = eq < 0 ? option : option[..eq];
            var value = eq < 0 ? "" : option[(eq + 1)..];
            var takesValue = key is "size" or "mode" or "uid" or "gid" or "nr_inodes" or "nr_blocks";
            if (takesValue ? eq < 0 : eq >= 0 && TmpfsFlagsWithoutValue.Contains(key))
                throw new RunFlagException(takesValue ? $"--tmpfs \"{text}\": {key} needs a value" : $"--tmpfs \"{text}\": {key} takes no value");
            switch (key)
            {
                case "ro":
                    readOnly = true;
                    continue;
                case "rw":
                    readOnly = false;
                    continue;
                case "exec" or "suid" or "dev":
                    options.Remove("no" + key);
                    options.Remove(key);
                    options.Add(key);
                    continue;
                case "noexec" or "nosuid" or "nodev":
                    options.Remove(key[2..]);
                    break;
                case "atime" or "noatime" or "relatime" or "strictatime" or "nodiratime" or "diratime"
                    or "private" or "rprivate" or "shared" or "rshared" or "slave" or "rslave" or "tmpcopyup" or "notmpcopyup" or "U":
                    break;
                case "size":
                    if (!value.EndsWith('%'))
                        value = ByteSize.Parse(value, "--tmpfs size").ToString(System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "mode":
                    if (!IsOctalMode(value))
                        throw new RunFlagException($"--tmpfs \"{text}\": mode \"{value}\" is not an octal file mode such as 1777");
                    break;
                case "uid" or "gid" or "nr_inodes" or "nr_blocks":
                    if (value.Length == 0 || !value.All(char.IsAsciiDigit) && !(key.StartsWith("nr_", StringComparison.Ordinal) && ByteSizeLike(value)))
                        throw new RunFlagException($"--tmpfs \"{text}\": {key} \"{value}\" is not a number");
                    break;
                default:
                    throw new RunFlagException($"--tmpfs \"{text}\": unknown tmpfs option \"{key}\"");
            }
            var normalized = takesValue ? key + "=" + value : key;
            options.RemoveAll(o => o == normalized || takesValue && o.StartsWith(key + "=", StringComparison.Ordinal));
            options.Add(normalized);
        }
        return new MountRequest { Type = Tmpfs, Target = Clean(target), ReadOnly = readOnly, Options = options };
    }

    static readonly HashSet<string> TmpfsFlagsWithoutValue =
    [
        "ro", "rw", "exec", "suid", "dev", "noexec", "nosuid", "nodev", "atime", "noatime", "relatime", "strictatime", "nodiratime",
        "diratime", "private", "rprivate", "shared", "rshared", "slave", "rslave", "tmpcopyup", "notmpcopyup", "U",
    ];

    static bool ByteSizeLike(string value) => value.Length > 1 && value[..^1].All(char.IsAsciiDigit) && "kKmMgG".Contains(value[^1]);

    static bool IsOctalMode(string text) => text.Length is > 0 and <= 4 && text.All(c => c is >= '0' and <= '7');

    static void CheckTarget(string target, string flag, string text)
    {
        if (target.Length == 0)
            throw new RunFlagException($"{flag} \"{text}\" has an empty destination");
        if (!target.StartsWith('/'))
            throw new RunFlagException($"{flag} \"{text}\": the destination \"{target}\" is not an absolute path");
        if (Clean(target) == "/")
            throw new RunFlagException($"{flag} \"{text}\": the destination cannot be /");
    }

    static void CheckVolumeName(string source, string flag, string text)
    {
        if (source.StartsWith('.') || source.StartsWith('~') || source.Contains('/'))
            throw new RunFlagException($"{flag} \"{text}\": the host path \"{source}\" is relative; give it as an absolute path");
        if (!VolumeName().IsMatch(source))
            throw new RunFlagException($"{flag} \"{text}\": \"{source}\" is not a volume name (letters, digits, '_', '.', '-', at least 2 characters, starting with a letter or digit) nor an absolute host path");
    }

    /// <summary>The path without "." and ".." segments, doubled or trailing slashes (docker cleans destinations too).</summary>
    static string Clean(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
                continue;
            if (part == "..")
            {
                if (parts.Count > 0)
                    parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }

    static bool Bool(string? value, string key, string text) => value?.ToLowerInvariant() switch
    {
        null or "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new RunFlagException($"--mount \"{text}\": {key}=\"{value}\" is not true or false"),
    };

    /// <summary>One CSV record (Go's encoding/csv, as docker reads --mount): fields split on ',', a field in double quotes may hold commas, "" is a quote.</summary>
    static List<string> SplitCsv(string text)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                    quoted = false;
                else
                    field.Append(c);
            }
            else if (c == '"')
                quoted = true;
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
                field.Append(c);
        }
        if (quoted)
            throw new RunFlagException($"--mount \"{text}\" has an unclosed quote");
        fields.Add(field.ToString());
        return fields.Where(f => f.Length > 0).ToList();
    }
}
