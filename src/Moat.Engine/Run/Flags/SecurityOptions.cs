namespace Moat.Engine.Run.Flags;

/// <summary>
/// `--security-opt` values, accumulated: no-new-privileges[:true|false] (also with '='),
/// seccomp=FILE|unconfined, apparmor=PROFILE|unconfined, label=disable|user:U|role:R|type:T|level:L|nested,
/// mask=/a:/b, unmask=ALL|/a:/b, systempaths=unconfined (docker's name for unmask=ALL).
/// </summary>
public sealed class SecurityOptions
{
    public bool NoNewPrivileges { get; private set; } = true;
    /// <summary>no-new-privileges was given as false.</summary>
    public bool NoNewPrivilegesOff => !NoNewPrivileges;
    public bool SeccompUnconfined { get; private set; }
    /// <summary>A docker seccomp profile file (seccomp=FILE).</summary>
    public string? SeccompProfileFile { get; private set; }
    public string? AppArmor { get; private set; }
    public bool LabelDisabled { get; private set; }
    public bool LabelNested { get; private set; }
    public string? LabelUser { get; private set; }
    public string? LabelRole { get; private set; }
    public string? LabelType { get; private set; }
    public string? LabelLevel { get; private set; }
    public List<string> Mask { get; } = [];
    public List<string> Unmask { get; } = [];

    /// <summary>The SELinux process label the label= parts make, with container defaults for the parts not given; null when none was.</summary>
    public string? SelinuxLabel =>
        LabelUser is null && LabelRole is null && LabelType is null && LabelLevel is null
            ? null
            : $"{LabelUser ?? "system_u"}:{LabelRole ?? "system_r"}:{LabelType ?? "container_t"}:{LabelLevel ?? "s0"}";

    public static SecurityOptions Parse(IEnumerable<string> values)
    {
        var options = new SecurityOptions();
        foreach (var value in values)
            options.Add(value);
        return options;
    }

    void Add(string text)
    {
        // docker takes "key=value", and the older "key:value" for the first separator.
        var eq = text.IndexOf('=');
        var colon = text.IndexOf(':');
        var split = eq < 0 ? colon : colon < 0 ? eq : Math.Min(eq, colon);
        var key = split < 0 ? text : text[..split];
        var value = split < 0 ? null : text[(split + 1)..];
        switch (key)
        {
            case "no-new-privileges":
                NoNewPrivileges = value?.ToLowerInvariant() switch
                {
                    null or "true" or "1" => true,
                    "false" or "0" => false,
                    _ => throw new RunFlagException($"--security-opt \"{text}\": no-new-privileges takes true or false"),
                };
                break;
            case "seccomp":
                if (string.IsNullOrEmpty(value))
                    throw new RunFlagException($"--security-opt \"{text}\": seccomp needs a profile file or unconfined");
                SeccompUnconfined = value == "unconfined";
                SeccompProfileFile = SeccompUnconfined ? null : value;
                break;
            case "apparmor":
                if (string.IsNullOrEmpty(value))
                    throw new RunFlagException($"--security-opt \"{text}\": apparmor needs a profile name or unconfined");
                AppArmor = value;
                break;
            case "label":
                AddLabel(text, value);
                break;
            case "mask":
                Mask.AddRange(Paths(text, value));
                break;
            case "unmask":
                Unmask.AddRange(value == "ALL" ? ["ALL"] : Paths(text, value));
                break;
            case "systempaths":
                if (value != "unconfined")
                    throw new RunFlagException($"--security-opt \"{text}\": systempaths takes only unconfined");
                Unmask.Add("ALL");
                break;
            default:
                throw new RunFlagException($"--security-opt \"{text}\" is not known (no-new-privileges, seccomp=, apparmor=, label=, mask=, unmask=)");
        }
    }

    void AddLabel(string text, string? value)
    {
        if (value is "disable")
        {
            LabelDisabled = true;
            return;
        }
        if (value is "nested")
        {
            LabelNested = true;
            return;
        }
        var colon = value?.IndexOf(':') ?? -1;
        if (value is null || colon <= 0 || colon == value.Length - 1)
            throw new RunFlagException($"--security-opt \"{text}\": label takes disable, nested, user:U, role:R, type:T or level:L");
        var part = value[(colon + 1)..];
        switch (value[..colon])
        {
            case "user": LabelUser = part; break;
            case "role": LabelRole = part; break;
            case "type": LabelType = part; break;
            case "level": LabelLevel = part; break;
            case "filetype": break;
            default:
                throw new RunFlagException($"--security-opt \"{text}\": label takes disable, nested, user:U, role:R, type:T or level:L");
        }
    }

    static List<string> Paths(string text, string? value)
    {
        var paths = (value ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (paths.Count == 0)
            throw new RunFlagException($"--security-opt \"{text}\" names no path");
        foreach (var path in paths)
            if (!path.StartsWith('/'))
                throw new RunFlagException($"--security-opt \"{text}\": \"{path}\" is not an absolute path");
        return paths;
    }
}
