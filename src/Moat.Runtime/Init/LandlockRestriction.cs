using Moat.Interop;
using Moat.Runtime.Protocol;

namespace Moat.Runtime.Init;

/// <summary>
/// Applies a <see cref="LandlockRuleset"/> to the calling thread, in the finished root, after
/// no_new_privs and before the seccomp filter (whose allow-list has no landlock calls) and execve.
/// Landlock restricts the thread that asks and what it executes, so this runs on the thread that
/// execs; the init's other runtime threads vanish at the execve.
/// </summary>
public static class LandlockRestriction
{
    const int EBADFD = 77;

    public static void Apply(LandlockRuleset ruleset)
    {
        var abi = Libc.LandlockAbiVersion();
        if (abi == 0)
            throw new RuntimeException("Landlock: the kernel offers no Landlock (enable it in the lsm= list)");
        using var fd = Libc.LandlockCreateRuleset(new Libc.LandlockRulesetAttr
        {
            HandledAccessFs = ruleset.HandledFs,
            HandledAccessNet = ruleset.HandledNet,
            Scoped = ruleset.Scoped,
        });
        foreach (var rule in ruleset.Paths)
        {
            // A path the policy names but the image lacks has nothing to allow.
            var target = Libc.openat(Libc.AT_FDCWD, rule.Path, Libc.O_PATH | Libc.O_CLOEXEC, 0);
            if (target < 0)
            {
                if (Errors.LastErrno is Errors.ENOENT or Errors.ENOTDIR or Errors.EACCES)
                    continue;
                throw new SyscallException("open", Errors.LastErrno, $"Landlock rule path {rule.Path}");
            }
            try
            {
                var access = rule.Access;
                // File rules take only the rights that apply to a file.
                if (!Directory.Exists($"/proc/self/fd/{target}"))
                    access &= Libc.LANDLOCK_ACCESS_FS_EXECUTE | Libc.LANDLOCK_ACCESS_FS_WRITE_FILE | Libc.LANDLOCK_ACCESS_FS_READ_FILE
                              | Libc.LANDLOCK_ACCESS_FS_TRUNCATE | Libc.LANDLOCK_ACCESS_FS_IOCTL_DEV;
                access &= ruleset.HandledFs;
                // A path that leads to no file hierarchy (/dev/stdout on a pipe: EBADFD) needs no rule.
                if (access != 0 && Libc.LandlockTryAddPathRule(fd, target, access, rule.Path) == EBADFD)
                    continue;
            }
            finally
            {
                Libc.close(target);
            }
        }
        foreach (var rule in ruleset.Ports)
            Libc.LandlockAddPortRule(fd, rule.Port, rule.Access & ruleset.HandledNet);
        Libc.LandlockRestrictSelf(fd);
    }
}
