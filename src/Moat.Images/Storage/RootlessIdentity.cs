using System.Globalization;
using Moat.Interop;

namespace Moat.Images.Storage;

/// <summary>
/// Who the rootless engine works for. A user's `moat` runs inside a user namespace of its own where it is
/// uid 0 (docs/rootless.md): there geteuid() says 0, so "am I root" must not be asked of geteuid() alone.
/// The namespace's uid_map says it: a map whose id 0 is a host uid other than 0 is a user's namespace
/// (the host's root sees the identity map "0 0 4294967295"), and that host uid is the user.
/// </summary>
public static class RootlessIdentity
{
    static readonly Lazy<(uint Uid, uint Gid)?> Host = new(Read);

    /// <summary>Whether this process is a user's moat inside its rootless namespace.</summary>
    public static bool Active => Host.Value is not null;

    /// <summary>The user's host uid (in the namespace it is 0); geteuid() outside one.</summary>
    public static uint HostUid => Host.Value?.Uid ?? Libc.geteuid();
    public static uint HostGid => Host.Value?.Gid ?? Libc.getegid();

    /// <summary>Whether the store and state are root's: root on the host, not a user in its namespace.</summary>
    public static bool IsRealRoot => Libc.geteuid() == 0 && !Active;

    /// <summary>The user's login name from /etc/passwd (getpwuid in the namespace would say root), else $USER.</summary>
    public static string UserName
    {
        get
        {
            var uid = HostUid;
            foreach (var line in (Libc.TryReadText("/etc/passwd") ?? "").Split('\n'))
            {
                var fields = line.Split(':');
                if (fields.Length > 2 && fields[2] == uid.ToString(CultureInfo.InvariantCulture))
                    return fields[0];
            }
            return Environment.GetEnvironmentVariable("USER") ?? uid.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>
    /// The user's runtime directory for moat: `$XDG_RUNTIME_DIR/moat`, else `/tmp/moat-run-UID` (podman's
    /// fallback); the caller checks that it is the user's own.
    /// </summary>
    public static string RunDirectory =>
        Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } x && Path.IsPathRooted(x)
            ? Path.Combine(x, "moat")
            : $"/tmp/moat-run-{HostUid.ToString(CultureInfo.InvariantCulture)}";

    static (uint, uint)? Read()
    {
        if (Libc.geteuid() != 0)
            return null;
        var uid = ZeroMapsTo(Libc.TryReadText("/proc/self/uid_map"));
        var gid = ZeroMapsTo(Libc.TryReadText("/proc/self/gid_map"));
        return uid is > 0 ? (uid.Value, gid ?? uid.Value) : null;
    }

    /// <summary>The host id that id 0 of this namespace maps to, or null.</summary>
    public static uint? ZeroMapsTo(string? map)
    {
        foreach (var line in (map ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && f[0] == "0" && uint.TryParse(f[1], CultureInfo.InvariantCulture, out var host))
                return host;
        }
        return null;
    }
}
