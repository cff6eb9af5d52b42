using System.Globalization;
using System.Text.RegularExpressions;
using Moat.Images.Bundles;
using Moat.Oci;

namespace Moat.Engine.Run.Flags;

/// <summary>`--device HOST[:CONTAINER][:PERMISSIONS]` and `--device-cgroup-rule "TYPE MAJOR:MINOR ACCESS"`.</summary>
public static partial class Devices
{
    /// <summary>The pieces of a --device value, before the host's node is looked at.</summary>
    public sealed record DeviceFlag(string HostPath, string ContainerPath, string Access);

    public static DeviceFlag ParseFlag(string text)
    {
        var parts = text.Split(':');
        string host = parts[0], container = parts[0], access = "rwm";
        switch (parts.Length)
        {
            case 1:
                break;
            case 2 when IsAccess(parts[1]):
                access = parts[1];
                break;
            case 2:
                container = parts[1];
                break;
            case 3:
                container = parts[1];
                access = parts[2];
                if (!IsAccess(access))
                    throw new RunFlagException($"--device \"{text}\": \"{access}\" is not a combination of r, w and m");
                break;
            default:
                throw new RunFlagException($"--device \"{text}\" is not HOST[:CONTAINER][:PERMISSIONS]");
        }
        if (!host.StartsWith('/'))
            throw new RunFlagException($"--device \"{text}\": the host device \"{host}\" is not an absolute path");
        if (!container.StartsWith('/'))
            throw new RunFlagException($"--device \"{text}\": the container path \"{container}\" is not an absolute path");
        return new DeviceFlag(host, container, access);
    }

    /// <summary>The --device value resolved against the host's node(s): type, major, minor, mode, owner.</summary>
    public static List<DeviceNode> Resolve(string text)
    {
        var flag = ParseFlag(text);
        try
        {
            return DeviceSettings.NodesAt(flag.HostPath, flag.ContainerPath, flag.Access).Select(d => d with { HostPath = flag.HostPath }).ToList();
        }
        catch (BundleException e)
        {
            throw new RunFlagException(e.Message);
        }
    }

    static bool IsAccess(string text) =>
        text.Length is > 0 and <= 3 && text.All(c => c is 'r' or 'w' or 'm') && text.Distinct().Count() == text.Length;

    [GeneratedRegex(@"^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$")]
    private static partial Regex CgroupRule();

    public static LinuxDeviceCgroup ParseCgroupRule(string text)
    {
        var match = CgroupRule().Match(text);
        if (!match.Success || !IsAccess(match.Groups[4].Value))
            throw new RunFlagException($"--device-cgroup-rule \"{text}\" is not TYPE MAJOR:MINOR ACCESS (e.g. \"c 1:3 mr\", \"b 8:* rw\")");
        static long? Number(string s) => s == "*" ? null : long.Parse(s, CultureInfo.InvariantCulture);
        return new LinuxDeviceCgroup
        {
            Allow = true,
            Type = match.Groups[1].Value,
            Major = Number(match.Groups[2].Value),
            Minor = Number(match.Groups[3].Value),
            Access = match.Groups[4].Value,
        };
    }
}
