namespace Moat.Runtime.Seccomp;

/// <summary>
/// The -ENOSYS prologue (runc calls it "patchbpf"). A profile lists the syscalls its authors knew;
/// a syscall added to the kernel later would get the default action (usually EPERM), and a libc
/// that tries the new call first (clone3, faccessat2, close_range...) takes EPERM as a real
/// refusal instead of falling back to the old call. So, for every architecture in the filter, a
/// syscall number above the highest one the profile names returns ENOSYS ("this kernel does not
/// have it") before libseccomp's program runs. Numbers at or below it go to the filter unchanged.
/// </summary>
/// <remarks>
/// x86_64 and x32 share AUDIT_ARCH_X86_64; x32 numbers carry bit 30 (__X32_SYSCALL_BIT), so that
/// architecture splits on the bit and compares each half with its own limit. On s390 and s390x,
/// syscall 0 is what the kernel leaves in place for a syscall number it does not know, so it
/// returns ENOSYS too.
/// </remarks>
internal static class EnosysStub
{
    public const uint AuditArchX86_64 = 0xC000003E, AuditArchI386 = 0x40000003, AuditArchS390 = 0x00000016,
        AuditArchS390X = 0x80000016;
    /// <summary>libseccomp's token for x32 (it differs from the kernel's AUDIT_ARCH_X86_64).</summary>
    public const uint ScmpArchX32 = 0x4000003E;
    public const uint X32SyscallBit = 0x40000000;
    public const uint Enosys = 38;

    /// <summary>The highest syscall number a profile names, per kernel architecture (and per x86_64 ABI).</summary>
    public sealed record ArchLimit(uint AuditArch, uint? MaxSyscall, uint? MaxX32Syscall = null);

    /// <summary>The kernel's AUDIT_ARCH_* for a libseccomp architecture token.</summary>
    public static uint AuditArchOf(uint scmpToken) => scmpToken == ScmpArchX32 ? AuditArchX86_64 : scmpToken;

    /// <summary>Whether the stub applies: not for permissive default actions (runc's rule), nor when the default already is ENOSYS.</summary>
    public static bool AppliesTo(uint defaultAction)
    {
        var kind = defaultAction & Bpf.RetActionFull;
        if (kind is Bpf.RetAllow or Bpf.RetLog or Bpf.RetTrace)
            return false; // a good tracer handles new syscalls itself; ENOSYS would disturb emulation
        if (kind == Bpf.RetErrno && (defaultAction & Bpf.RetData) == Enosys)
            return false;
        return true;
    }

    /// <summary>The prologue; it falls through (or jumps) to the instruction right after itself.</summary>
    public static BpfInstruction[] Build(IReadOnlyList<ArchLimit> limits)
    {
        var sections = limits.Where(l => l.MaxSyscall is not null || l.MaxX32Syscall is not null).ToList();
        if (sections.Count == 0)
            return [];

        var asm = new BpfAssembler();
        var enosys = asm.NewLabel();
        var filter = asm.NewLabel();
        var archLabels = sections.Select(_ => asm.NewLabel()).ToArray();

        asm.LoadAbsolute(Bpf.DataArch);
        for (var n = 0; n < sections.Count; n++)
            asm.Branch(Bpf.JEQ, sections[n].AuditArch, archLabels[n], BpfAssembler.Next);
        asm.Goto(filter); // any other architecture: libseccomp's bad-architecture action

        for (var n = 0; n < sections.Count; n++)
        {
            var limit = sections[n];
            asm.Mark(archLabels[n]);
            asm.LoadAbsolute(Bpf.DataNr);
            if (limit.AuditArch is AuditArchS390 or AuditArchS390X)
                asm.Branch(Bpf.JEQ, 0, enosys, BpfAssembler.Next);

            if (limit.AuditArch != AuditArchX86_64)
            {
                asm.Branch(Bpf.JGT, limit.MaxSyscall!.Value, enosys, filter);
                continue;
            }

            // x86_64 and x32: bit 30 tells the ABIs apart; a half with no limit goes to the filter.
            if (limit.MaxX32Syscall is { } maxX32 && limit.MaxSyscall is { } max64)
            {
                var x32 = asm.NewLabel();
                asm.Branch(Bpf.JSET, X32SyscallBit, x32, BpfAssembler.Next);
                asm.Branch(Bpf.JGT, max64, enosys, filter);
                asm.Mark(x32);
                asm.Branch(Bpf.JGT, maxX32, enosys, filter);
            }
            else if (limit.MaxSyscall is { } only64)
            {
                asm.Branch(Bpf.JSET, X32SyscallBit, filter, BpfAssembler.Next);
                asm.Branch(Bpf.JGT, only64, enosys, filter);
            }
            else
            {
                asm.Branch(Bpf.JSET, X32SyscallBit, BpfAssembler.Next, filter);
                asm.Branch(Bpf.JGT, limit.MaxX32Syscall!.Value, enosys, filter);
            }
        }

        asm.Mark(enosys);
        asm.Return(Bpf.RetErrno | Enosys);
        asm.Mark(filter);
        return asm.Assemble();
    }
}
