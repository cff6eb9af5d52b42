using Moat.Interop;
using Moat.Tests.Unit.Native;
using Xunit;

namespace Moat.Tests.Unit.Interop;

/// <summary>Every system call number Moat passes to syscall(2), against the system's headers for this architecture.</summary>
public sealed class SyscallNumberTests
{
    const string Program = """
        #define _GNU_SOURCE
        #include <stdio.h>
        #include <sys/syscall.h>
        #define P(name) printf("%s=%lld\n", #name, (long long)(name))
        int main(void) {
          P(SYS_capget); P(SYS_capset); P(SYS_pivot_root); P(SYS_seccomp); P(SYS_keyctl); P(SYS_finit_module);
          P(SYS_pidfd_send_signal); P(SYS_open_tree); P(SYS_move_mount); P(SYS_fsopen); P(SYS_fsconfig);
          P(SYS_fsmount); P(SYS_pidfd_open); P(SYS_close_range); P(SYS_openat2); P(SYS_mount_setattr);
          P(SYS_landlock_create_ruleset); P(SYS_landlock_add_rule); P(SYS_landlock_restrict_self);
          return 0;
        }
        """;

    [Fact]
    public void NumbersMatchTheSystemHeaders() => CProbe.AssertEqual(CProbe.Values(Program), new Dictionary<string, long>
    {
        ["SYS_capget"] = SyscallNumbers.Capget,
        ["SYS_capset"] = SyscallNumbers.Capset,
        ["SYS_pivot_root"] = SyscallNumbers.PivotRoot,
        ["SYS_seccomp"] = SyscallNumbers.Seccomp,
        ["SYS_keyctl"] = SyscallNumbers.Keyctl,
        ["SYS_finit_module"] = SyscallNumbers.FinitModule,
        ["SYS_pidfd_send_signal"] = SyscallNumbers.PidfdSendSignal,
        ["SYS_open_tree"] = SyscallNumbers.OpenTree,
        ["SYS_move_mount"] = SyscallNumbers.MoveMount,
        ["SYS_fsopen"] = SyscallNumbers.Fsopen,
        ["SYS_fsconfig"] = SyscallNumbers.Fsconfig,
        ["SYS_fsmount"] = SyscallNumbers.Fsmount,
        ["SYS_pidfd_open"] = SyscallNumbers.PidfdOpen,
        ["SYS_close_range"] = SyscallNumbers.CloseRange,
        ["SYS_openat2"] = SyscallNumbers.Openat2,
        ["SYS_mount_setattr"] = SyscallNumbers.MountSetattr,
        ["SYS_landlock_create_ruleset"] = SyscallNumbers.LandlockCreateRuleset,
        ["SYS_landlock_add_rule"] = SyscallNumbers.LandlockAddRule,
        ["SYS_landlock_restrict_self"] = SyscallNumbers.LandlockRestrictSelf,
    });
}
