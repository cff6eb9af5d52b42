using System.Runtime.InteropServices;
using System.Text;

namespace Moat.Runtime.Seccomp;

/// <summary>One classic BPF instruction: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } in host byte order.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfInstruction(ushort Code, byte Jt, byte Jf, uint K)
{
    public const int Size = 8;

    public static BpfInstruction[] Decode(ReadOnlySpan<byte> program)
    {
        if (program.Length % Size != 0)
            throw new ArgumentException($"a BPF program is a multiple of {Size} bytes, got {program.Length}", nameof(program));
        return MemoryMarshal.Cast<byte, BpfInstruction>(program).ToArray();
    }

    public static byte[] Encode(ReadOnlySpan<BpfInstruction> instructions) =>
        MemoryMarshal.AsBytes(instructions).ToArray();

    public override string ToString() => Bpf.Format(this);
}

/// <summary>Classic BPF opcodes and the seccomp_data layout the kernel filters on.</summary>
public static class Bpf
{
    // Instruction classes.
    public const ushort LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
    // Load sizes and modes.
    public const ushort W = 0x00, H = 0x08, B = 0x10;
    public const ushort IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
    // ALU and jump operations.
    public const ushort ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70,
        NEG = 0x80, MOD = 0x90, XOR = 0xa0;
    public const ushort JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
    // Operand source; RET's A source; MISC operations.
    public const ushort K = 0x00, X = 0x08, A = 0x10;
    public const ushort TAX = 0x00, TXA = 0x80;

    /// <summary>Offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6] (64-bit each).</summary>
    public const uint DataNr = 0, DataArch = 4, DataInstructionPointer = 8, DataArgs = 16, DataSize = 64;

    /// <summary>SECCOMP_RET_* (the same values as libseccomp's SCMP_ACT_*).</summary>
    public const uint RetKillProcess = 0x80000000, RetKillThread = 0x00000000, RetTrap = 0x00030000,
        RetErrno = 0x00050000, RetUserNotif = 0x7fc00000, RetTrace = 0x7ff00000, RetLog = 0x7ffc0000,
        RetAllow = 0x7fff0000;
    public const uint RetActionFull = 0xffff0000, RetData = 0x0000ffff;

    public static BpfInstruction Stmt(ushort code, uint k) => new(code, 0, 0, k);
    public static BpfInstruction Jump(ushort code, uint k, byte jt, byte jf) => new(code, jt, jf, k);

    /// <summary>One instruction in a bpf_asm-like notation (for --debug output and tests).</summary>
    public static string Format(BpfInstruction i)
    {
        var cls = (ushort)(i.Code & 0x07);
        switch (cls)
        {
            case LD or LDX:
            {
                var reg = cls == LD ? "ld" : "ldx";
                var size = (i.Code & 0x18) switch { W => "", H => "h", B => "b", _ => "?" };
                return (i.Code & 0xe0) switch
                {
                    IMM => $"{reg} #0x{i.K:x}",
                    ABS => $"{reg}{size} [{i.K}]",
                    IND => $"{reg}{size} [x + {i.K}]",
                    MEM => $"{reg} M[{i.K}]",
                    LEN => $"{reg} #len",
                    MSH => $"{reg} 4*([{i.K}]&0xf)",
                    _ => Unknown(i),
                };
            }
            case ST:
                return $"st M[{i.K}]";
            case STX:
                return $"stx M[{i.K}]";
            case ALU:
            {
                var op = (i.Code & 0xf0) switch
                {
                    ADD => "add", SUB => "sub", MUL => "mul", DIV => "div", OR => "or", AND => "and", LSH => "lsh",
                    RSH => "rsh", NEG => "neg", MOD => "mod", XOR => "xor", _ => "alu?",
                };
                if ((i.Code & 0xf0) == NEG)
                    return op;
                return (i.Code & X) != 0 ? $"{op} x" : $"{op} #0x{i.K:x}";
            }
            case JMP:
            {
                if ((i.Code & 0xf0) == JA)
                    return $"ja +{i.K}";
                var op = (i.Code & 0xf0) switch { JEQ => "jeq", JGT => "jgt", JGE => "jge", JSET => "jset", _ => "j?" };
                var operand = (i.Code & X) != 0 ? "x" : $"#0x{i.K:x}";
                return $"{op} {operand}, +{i.Jt}, +{i.Jf}";
            }
            case RET:
                return (i.Code & 0x18) == A ? "ret a" : $"ret {FormatAction(i.K)}";
            case MISC:
                return (i.Code & 0xf8) == TXA ? "txa" : "tax";
        }
        return Unknown(i);
    }

    static string Unknown(BpfInstruction i) => $".insn 0x{i.Code:x} {i.Jt} {i.Jf} 0x{i.K:x}";

    /// <summary>A SECCOMP_RET_* value by name: ALLOW, ERRNO(1), KILL_PROCESS...</summary>
    public static string FormatAction(uint value)
    {
        var data = value & RetData;
        return (value & RetActionFull) switch
        {
            RetKillProcess => "KILL_PROCESS",
            RetKillThread => "KILL_THREAD",
            RetTrap => "TRAP",
            RetErrno => $"ERRNO({data})",
            RetUserNotif => "NOTIFY",
            RetTrace => $"TRACE({data})",
            RetLog => "LOG",
            RetAllow => "ALLOW",
            _ => $"0x{value:x}",
        };
    }

    /// <summary>The whole program, one numbered instruction a line.</summary>
    public static string Disassemble(ReadOnlySpan<byte> program)
    {
        var instructions = BpfInstruction.Decode(program);
        var text = new StringBuilder();
        for (var n = 0; n < instructions.Length; n++)
            text.Append(n.ToString().PadLeft(4)).Append(": ").Append(Format(instructions[n])).Append('\n');
        return text.ToString();
    }
}

/// <summary>Builds a small forward-jumping BPF program with symbolic labels.</summary>
internal sealed class BpfAssembler
{
    readonly List<(BpfInstruction Instruction, int TrueLabel, int FalseLabel)> code = [];
    readonly List<int> labels = [];

    /// <summary>Label meaning "the next instruction" (offset 0) for a conditional branch.</summary>
    public const int Next = -1;

    public int NewLabel()
    {
        labels.Add(-1);
        return labels.Count - 1;
    }

    public void Mark(int label) => labels[label] = code.Count;

    public void Emit(BpfInstruction instruction) => code.Add((instruction, Next, Next));

    public void LoadAbsolute(uint offset) => Emit(Bpf.Stmt(Bpf.LD | Bpf.W | Bpf.ABS, offset));

    public void Return(uint value) => Emit(Bpf.Stmt(Bpf.RET | Bpf.K, value));

    /// <summary>A conditional jump on A against k, to labels (or <see cref="Next"/>).</summary>
    public void Branch(ushort op, uint k, int whenTrue, int whenFalse) =>
        code.Add((Bpf.Jump((ushort)(Bpf.JMP | op | Bpf.K), k, 0, 0), whenTrue, whenFalse));

    /// <summary>An unconditional jump (32-bit offset).</summary>
    public void Goto(int label) => code.Add((Bpf.Stmt(Bpf.JMP | Bpf.JA, 0), label, Next));

    public BpfInstruction[] Assemble()
    {
        var result = new BpfInstruction[code.Count];
        for (var n = 0; n < code.Count; n++)
        {
            var (instruction, whenTrue, whenFalse) = code[n];
            if ((instruction.Code & 0x07) == Bpf.JMP && (instruction.Code & 0xf0) == Bpf.JA)
            {
                result[n] = instruction with { K = (uint)Offset(n, whenTrue) };
            }
            else if ((instruction.Code & 0x07) == Bpf.JMP)
            {
                result[n] = instruction with { Jt = ShortOffset(n, whenTrue), Jf = ShortOffset(n, whenFalse) };
            }
            else
            {
                result[n] = instruction;
            }
        }
        return result;
    }

    int Offset(int from, int label)
    {
        if (label == Next)
            return 0;
        var target = labels[label];
        if (target < 0)
            throw new InvalidOperationException($"BPF label {label} was never placed");
        var offset = target - (from + 1);
        if (offset < 0)
            throw new InvalidOperationException("classic BPF cannot jump backwards");
        return offset;
    }

    byte ShortOffset(int from, int label)
    {
        var offset = Offset(from, label);
        if (offset > byte.MaxValue)
            throw new InvalidOperationException($"conditional BPF jump of {offset} instructions is too long");
        return (byte)offset;
    }
}
