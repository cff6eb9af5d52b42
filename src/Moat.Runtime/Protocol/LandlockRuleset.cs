namespace Moat.Runtime.Protocol;

/// <summary>
/// A Landlock ruleset for the init to apply just before execve (the sandbox tier's second fence):
/// the access rights it handles (everything else stays allowed) and, for each path in the
/// container's root and each TCP port, the rights allowed there. Plain data: it travels in the
/// <see cref="InitMessage"/>; <see cref="Init.LandlockRestriction"/> applies it.
/// </summary>
public sealed class LandlockRuleset
{
    /// <summary>LANDLOCK_ACCESS_FS_* rights the ruleset handles (denied unless a path rule allows them).</summary>
    public ulong HandledFs { get; set; }

    /// <summary>LANDLOCK_ACCESS_NET_* rights handled (ABI 4+).</summary>
    public ulong HandledNet { get; set; }

    /// <summary>LANDLOCK_SCOPE_* (ABI 6+): abstract unix sockets and signals kept inside the domain.</summary>
    public ulong Scoped { get; set; }

    public List<LandlockPathRule> Paths { get; set; } = [];

    public List<LandlockPortRule> Ports { get; set; } = [];
}

/// <summary>Rights allowed beneath a path of the container's root (a file: on that file).</summary>
public sealed record LandlockPathRule(string Path, ulong Access);

/// <summary>Rights allowed on a TCP port (bind or connect).</summary>
public sealed record LandlockPortRule(ushort Port, ulong Access);

/// <summary>
/// What a tier adds to the init message beyond the config: a Landlock ruleset to apply before
/// execve, and an already connected seccomp listener socket (passed down as a descriptor), used
/// instead of connecting to linux.seccomp.listenerPath. Both optional; the container tier uses neither.
/// </summary>
public sealed record InitAdditions(LandlockRuleset? Landlock, int SeccompListenerFd = -1);
