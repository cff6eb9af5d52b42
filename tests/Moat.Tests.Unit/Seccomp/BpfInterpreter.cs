using System.Buffers.Binary;
using Moat.Runtime.Seccomp;

namespace Moat.Tests.Unit.Seccomp;

/// <summary>struct seccomp_data: what the kernel hands a seccomp filter for one syscall.</summary>
public sealed record SeccompData(int Nr, uint Arch, params ulong[] Args)
{
    public ulong InstructionPointer { get; init; } = 0x401000;

    /// <summary>The 64 bytes in host (little-endian) order, as the kernel lays them out.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Bpf.DataSize];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, Nr);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), Arch);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), InstructionPointer);
        for (var i = 0; i < Math.Min(Args.Length, 6); i++)
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16 + 8 * i), Args[i]);
        return bytes;
    }
}

/// <summary>
/// A classic BPF interpreter with the kernel's seccomp rules: loads only from seccomp_data with
/// 32-bit aligned absolute offsets, forward jumps only, 16 scratch words, must end in RET. It
/// runs compiled filters against synthetic syscalls, so no test loads anything into the kernel.
/// </summary>
public static class BpfInterpreter
{
    public static uint Run(ReadOnlySpan<byte> program, SeccompData data) => Run(BpfInstruction.Decode(program), data);

    public static uint Run(BpfInstruction[] program, SeccompData data)
    {
        var input = data.ToBytes();
        uint a = 0, x = 0;
        var memory = new uint[16];
        var pc = 0;
        var steps = 0;
        while (true)
        {
            if (pc < 0 || pc >= program.Length)
                throw new InvalidOperationException($"BPF program ran off its end at {pc}");
            if (++steps > program.Length)
                throw new InvalidOperationException("BPF program did not terminate (a backward jump?)");
            var i = program[pc++];
            var cls = i.Code & 0x07;
            switch (cls)
            {
                case Bpf.LD:
                    a = Load(i, input, memory, x);
                    break;
                case Bpf.LDX:
                    x = Load(i, input, memory, x);
                    break;
                case Bpf.ST:
                    memory[Scratch(i.K)] = a;
                    break;
                case Bpf.STX:
                    memory[Scratch(i.K)] = x;
                    break;
                case Bpf.ALU:
                {
                    var operand = (i.Code & Bpf.X) != 0 ? x : i.K;
                    a = (i.Code & 0xf0) switch
                    {
                        Bpf.ADD => a + operand,
                        Bpf.SUB => a - operand,
                        Bpf.MUL => a * operand,
                        Bpf.DIV => operand == 0 ? throw new InvalidOperationException("division by zero") : a / operand,
                        Bpf.MOD => operand == 0 ? throw new InvalidOperationException("division by zero") : a % operand,
                        Bpf.OR => a | operand,
                        Bpf.AND => a & operand,
                        Bpf.XOR => a ^ operand,
                        Bpf.LSH => operand >= 32 ? 0 : a << (int)operand,
                        Bpf.RSH => operand >= 32 ? 0 : a >> (int)operand,
                        Bpf.NEG => (uint)-(int)a,
                        _ => throw Unsupported(i, pc - 1),
                    };
                    break;
                }
                case Bpf.JMP:
                {
                    if ((i.Code & 0xf0) == Bpf.JA)
                    {
                        pc += (int)i.K;
                        break;
                    }
                    var operand = (i.Code & Bpf.X) != 0 ? x : i.K;
                    var taken = (i.Code & 0xf0) switch
                    {
                        Bpf.JEQ => a == operand,
                        Bpf.JGT => a > operand,
                        Bpf.JGE => a >= operand,
                        Bpf.JSET => (a & operand) != 0,
                        _ => throw Unsupported(i, pc - 1),
                    };
                    pc += taken ? i.Jt : i.Jf;
                    break;
                }
                case Bpf.RET:
                    return (i.Code & 0x18) switch
                    {
                        Bpf.K => i.K,
                        Bpf.A => a,
                        _ => throw Unsupported(i, pc - 1),
                    };
                case Bpf.MISC:
                    if ((i.Code & 0xf8) == Bpf.TAX)
                        x = a;
                    else if ((i.Code & 0xf8) == Bpf.TXA)
                        a = x;
                    else
                        throw Unsupported(i, pc - 1);
                    break;
                default:
                    throw Unsupported(i, pc - 1);
            }
        }
    }

    static uint Load(BpfInstruction i, byte[] input, uint[] memory, uint x)
    {
        switch (i.Code & 0xe0)
        {
            case Bpf.IMM:
                return i.K;
            case Bpf.MEM:
                return memory[Scratch(i.K)];
            case Bpf.LEN:
                return Bpf.DataSize;
            case Bpf.ABS:
                // Seccomp allows only 32-bit loads at aligned offsets inside seccomp_data.
                if ((i.Code & 0x18) != Bpf.W || i.K % 4 != 0 || i.K + 4 > Bpf.DataSize)
                    throw new InvalidOperationException($"seccomp rejects the load {Bpf.Format(i)}");
                return BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan((int)i.K));
            default:
                throw new InvalidOperationException($"seccomp rejects {Bpf.Format(i)}");
        }
    }

    static int Scratch(uint k) => k < 16 ? (int)k : throw new InvalidOperationException($"scratch slot {k} out of range");

    static InvalidOperationException Unsupported(BpfInstruction i, int at) => new($"unsupported BPF instruction at {at}: {Bpf.Format(i)}");
}
