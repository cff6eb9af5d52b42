using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using Moat.Interop;

namespace Moat.Runtime.Cgroups;

/// <summary>
/// The device rules on cgroup v2, which has no devices.allow/deny files: an eBPF program of type
/// BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup, which the kernel asks on every
/// open and mknod of a device (returning 1 allows, 0 refuses with EPERM).
///
/// The rules keep their cgroup v1 meaning (<see cref="Emulate"/>): they are applied in order to a
/// state that starts as "deny everything", as runc and crun start; "a" switches the default and
/// drops the exceptions; a rule of the other kind than the default adds an exception, a rule of
/// the same kind takes access away from the exceptions with exactly that type and numbers. The
/// program then asks the exceptions in order and falls back to the default.
/// </summary>
public static unsafe class DeviceProgram
{
    /// <summary>One exception: type 'c' or 'b', major/minor (-1 for any), access bits (<see cref="Read"/> ...).</summary>
    public sealed record Entry(char Type, long Major, long Minor, int Access);

    /// <summary>The device cgroup state the rules lead to.</summary>
    public sealed record Policy(bool DefaultAllow, IReadOnlyList<Entry> Entries);

    /// <summary>struct bpf_cgroup_dev_ctx access bits (upper half of access_type) and types (lower half).</summary>
    public const int Mknod = 1, Read = 2, Write = 4, Block = 1, Char = 2;

    /// <summary>Applies v1 rule lines ("a", "c 1:3 rwm", "b *:* m", as <see cref="ResourceWriter.DeviceRule"/> writes them).</summary>
    public static Policy Emulate(IEnumerable<(bool Allow, string Rule)> rules)
    {
        var defaultAllow = false;
        var entries = new List<Entry>();
        foreach (var (allow, line) in rules)
        {
            var rule = Parse(line);
            if (rule is null)
            {
                defaultAllow = allow;
                entries.Clear();
                continue;
            }
            var same = entries.FindIndex(e => e.Type == rule.Type && e.Major == rule.Major && e.Minor == rule.Minor);
            if (allow != defaultAllow)
            {
                if (same >= 0)
                    entries[same] = entries[same] with { Access = entries[same].Access | rule.Access };
                else
                    entries.Add(rule);
            }
            else if (same >= 0)
            {
                var left = entries[same].Access & ~rule.Access;
                if (left == 0)
                    entries.RemoveAt(same);
                else
                    entries[same] = entries[same] with { Access = left };
            }
        }
        return new Policy(defaultAllow, entries);
    }

    /// <summary>A rule line as an entry; null for "a" (all devices).</summary>
    static Entry? Parse(string line)
    {
        var parts = line.Split(' ');
        if (parts[0] == "a")
            return null;
        if (parts.Length != 3 || parts[0] is not ("c" or "b") || parts[1].Split(':') is not { Length: 2 } numbers)
            throw new RuntimeException($"device rule \"{line}\" is not \"type major:minor access\"");
        var access = 0;
        foreach (var ch in parts[2])
            access |= ch switch
            {
                'r' => Read,
                'w' => Write,
                'm' => Mknod,
                _ => throw new RuntimeException($"device rule \"{line}\" has an unknown access \"{ch}\""),
            };
        return new Entry(parts[0][0], Number(numbers[0], line), Number(numbers[1], line), access);
    }

    static long Number(string text, string line)
    {
        if (text == "*")
            return -1;
        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > int.MaxValue)
            throw new RuntimeException($"device rule \"{line}\": {text} is not a device number the program can compare (0 to {int.MaxValue})");
        return n;
    }

    // eBPF opcodes: class | size/op | source.
    const byte LdxMemW = 0x61, And32Imm = 0x54, Rsh32Imm = 0x74, Mov32Imm = 0xb4, Mov32Reg = 0xbc,
        JneImm = 0x55, JeqImm = 0x15, Exit = 0x95;

    readonly record struct Insn(byte Code, byte Dst, byte Src, short Off, int Imm);

    /// <summary>The program, as the kernel's struct bpf_insn array (8 bytes an instruction).</summary>
    public static byte[] Compile(Policy policy)
    {
        var insns = new List<Insn>
        {
            // r2 = type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx in r1)
            new(LdxMemW, 2, 1, 0, 0), new(And32Imm, 2, 0, 0, 0xffff),
            new(LdxMemW, 3, 1, 0, 0), new(Rsh32Imm, 3, 0, 0, 16),
            new(LdxMemW, 4, 1, 4, 0),
            new(LdxMemW, 5, 1, 8, 0),
        };
        foreach (var entry in policy.Entries)
        {
            // Each block jumps to the next one ("next" is patched once the block's length is known).
            var jumps = new List<int>();
            void JumpToNext(Insn insn)
            {
                jumps.Add(insns.Count);
                insns.Add(insn);
            }
            JumpToNext(new Insn(JneImm, 2, 0, 0, entry.Type == 'b' ? Block : Char));
            if (entry.Major >= 0)
                JumpToNext(new Insn(JneImm, 4, 0, 0, (int)entry.Major));
            if (entry.Minor >= 0)
                JumpToNext(new Insn(JneImm, 5, 0, 0, (int)entry.Minor));
            if (entry.Access != (Read | Write | Mknod))
            {
                insns.Add(new Insn(Mov32Reg, 1, 3, 0, 0));
                if (policy.DefaultAllow)
                {
                    // A denied exception refuses any request that touches its access.
                    insns.Add(new Insn(And32Imm, 1, 0, 0, entry.Access));
                    JumpToNext(new Insn(JeqImm, 1, 0, 0, 0));
                }
                else
                {
                    // An allowed exception allows a request inside its access only.
                    insns.Add(new Insn(And32Imm, 1, 0, 0, ~entry.Access & (Read | Write | Mknod)));
                    JumpToNext(new Insn(JneImm, 1, 0, 0, 0));
                }
            }
            insns.Add(new Insn(Mov32Imm, 0, 0, 0, policy.DefaultAllow ? 0 : 1));
            insns.Add(new Insn(Exit, 0, 0, 0, 0));
            var next = insns.Count;
            foreach (var j in jumps)
                insns[j] = insns[j] with { Off = checked((short)(next - (j + 1))) };
        }
        insns.Add(new Insn(Mov32Imm, 0, 0, 0, policy.DefaultAllow ? 1 : 0));
        insns.Add(new Insn(Exit, 0, 0, 0, 0));

        var bytes = new byte[insns.Count * 8];
        for (var i = 0; i < insns.Count; i++)
        {
            var span = bytes.AsSpan(i * 8, 8);
            span[0] = insns[i].Code;
            span[1] = (byte)(insns[i].Src << 4 | insns[i].Dst);
            BinaryPrimitives.WriteInt16LittleEndian(span[2..], insns[i].Off);
            BinaryPrimitives.WriteInt32LittleEndian(span[4..], insns[i].Imm);
        }
        return bytes;
    }

    const int BpfProgLoad = 5, BpfProgAttach = 8, ProgTypeCgroupDevice = 15, AttachCgroupDevice = 6, AllowMulti = 2;

    /// <summary>bpf(2)'s number on this architecture.</summary>
    static long SysBpf => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 321,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 280,
        Architecture.Ppc64le => 361,
        Architecture.S390x => 351,
        var other => throw new RuntimeException($"cgroup v2 device rules: bpf(2) is not known on {other}"),
    };

    static long Bpf(int command, byte* attr, int size) => Libc.syscall(SysBpf, command, (long)attr, size, 0, 0);

    /// <summary>
    /// Loads the program and attaches it to a cgroup v2 directory (BPF_F_ALLOW_MULTI, so that a
    /// program of an ancestor, such as systemd's, keeps applying too). The attachment holds the
    /// program; it goes away with the cgroup.
    /// </summary>
    public static void Attach(string cgroupDirectory, byte[] program)
    {
        var license = "Apache\0"u8.ToArray();
        const int attrSize = 128; // larger than the fields used; the kernel wants the rest zero
        var attr = stackalloc byte[attrSize];
        int programFd;
        fixed (byte* insns = program, lic = license)
        {
            programFd = (int)Load(attr, attrSize, insns, program.Length / 8, lic, null, 0);
            if (programFd < 0)
            {
                var errno = Errors.LastErrno;
                // Again with the verifier's log, to say why.
                var log = new byte[65536];
                fixed (byte* logBuffer = log)
                    Load(attr, attrSize, insns, program.Length / 8, lic, logBuffer, log.Length);
                var text = System.Text.Encoding.UTF8.GetString(log).TrimEnd('\0').Trim();
                throw new RuntimeException($"linux.resources.devices: cannot load the cgroup v2 device program (bpf BPF_PROG_LOAD): {Errors.Describe(errno)}"
                                           + (text.Length > 0 ? $"; verifier: {text.ReplaceLineEndings(" | ")}" : ""));
            }
        }
        using var program_ = new FileDescriptor(programFd);
        using var directory = Libc.Open(cgroupDirectory, Libc.O_RDONLY | Libc.O_DIRECTORY);
        new Span<byte>(attr, attrSize).Clear();
        *(uint*)attr = (uint)directory.Fd; // target_fd
        *(uint*)(attr + 4) = (uint)program_.Fd; // attach_bpf_fd
        *(uint*)(attr + 8) = AttachCgroupDevice; // attach_type
        *(uint*)(attr + 12) = AllowMulti; // attach_flags
        if (Bpf(BpfProgAttach, attr, attrSize) < 0)
            throw new RuntimeException($"linux.resources.devices: cannot attach the device program to {cgroupDirectory} (bpf BPF_PROG_ATTACH): {Errors.Describe(Errors.LastErrno)}");
    }

    static long Load(byte* attr, int attrSize, byte* insns, int count, byte* license, byte* log, int logSize)
    {
        new Span<byte>(attr, attrSize).Clear();
        *(uint*)attr = ProgTypeCgroupDevice; // prog_type
        *(uint*)(attr + 4) = (uint)count; // insn_cnt
        *(ulong*)(attr + 8) = (ulong)insns; // insns
        *(ulong*)(attr + 16) = (ulong)license; // license
        if (log is not null)
        {
            *(uint*)(attr + 24) = 1; // log_level
            *(uint*)(attr + 28) = (uint)logSize; // log_size
            *(ulong*)(attr + 32) = (ulong)log; // log_buf
        }
        return Bpf(BpfProgLoad, attr, attrSize);
    }
}
