using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Seccomp;

namespace Moat.Tests.Unit.Seccomp;

/// <summary>Builders and evaluation helpers shared by the seccomp tests.</summary>
public static class SeccompKit
{
    // Kernel AUDIT_ARCH_* values (what seccomp_data.arch holds).
    public const uint AuditX86_64 = 0xC000003E, AuditI386 = 0x40000003, AuditAarch64 = 0xC00000B7, AuditArm = 0x40000028;
    // libseccomp tokens (the same, except x32).
    public const uint TokenX86_64 = 0xC000003E, TokenX86 = 0x40000003, TokenX32 = 0x4000003E;
    public const uint X32Bit = 0x40000000;

    public const uint Allow = 0x7fff0000, KillThread = 0, KillProcess = 0x80000000, Trap = 0x00030000,
        Log = 0x7ffc0000, Notify = 0x7fc00000;
    public static uint Errno(uint errno) => 0x00050000 | errno;
    public static uint Trace(uint data) => 0x7ff00000 | data;
    public static readonly uint Eperm = Errno(1), Enosys = Errno(38);

    public static LinuxSyscall Rule(string action, params string[] names) => new() { Names = [.. names], Action = action };

    public static LinuxSyscall Rule(string action, string name, params LinuxSeccompArg[] args) =>
        new() { Names = [name], Action = action, Args = [.. args] };

    public static LinuxSeccompArg Arg(uint index, string op, ulong value, ulong valueTwo = 0) =>
        new() { Index = index, Op = op, Value = value, ValueTwo = valueTwo };

    public static LinuxSeccomp Profile(string defaultAction, params LinuxSyscall[] rules) =>
        new() { DefaultAction = defaultAction, Syscalls = [.. rules] };

    /// <summary>The syscall number of a name for a libseccomp architecture token (x86_64 by default).</summary>
    public static int Nr(string name, uint token = TokenX86_64)
    {
        var nr = Libseccomp.seccomp_syscall_resolve_name_arch(token, name);
        if (nr < 0)
            throw new ArgumentException($"libseccomp does not know \"{name}\" as a direct syscall on 0x{token:x}");
        return nr;
    }

    /// <summary>What the filter returns for the named syscall on x86_64 with these arguments.</summary>
    public static uint Eval(this CompiledSeccompFilter filter, string name, params ulong[] args) =>
        BpfInterpreter.Run(filter.Program, new SeccompData(Nr(name), AuditX86_64, args));

    public static uint EvalNr(this CompiledSeccompFilter filter, int nr, uint arch = AuditX86_64, params ulong[] args) =>
        BpfInterpreter.Run(filter.Program, new SeccompData(nr, arch, args));

    public static string Describe(uint value) => Bpf.FormatAction(value);
}
