using Moat.Runtime.Seccomp;
using Xunit;

namespace Moat.Tests.Unit.Seccomp;

public sealed class BpfTests
{
    [Fact]
    public void InstructionIsEightBytesInHostOrder()
    {
        var bytes = BpfInstruction.Encode([new BpfInstruction(0x15, 2, 3, 0xC000003E)]);

        Assert.Equal(new byte[] { 0x15, 0x00, 2, 3, 0x3E, 0x00, 0x00, 0xC0 }, bytes);
        Assert.Equal(new BpfInstruction(0x15, 2, 3, 0xC000003E), Assert.Single(BpfInstruction.Decode(bytes)));
    }

    [Fact]
    public void DecodeRefusesPartialInstructions()
    {
        Assert.Throws<ArgumentException>(() => BpfInstruction.Decode(new byte[9]));
    }

    [Theory]
    [InlineData(0x20, 0, 0, 4u, "ld [4]")]
    [InlineData(0x15, 1, 0, 0xC000003Eu, "jeq #0xc000003e, +1, +0")]
    [InlineData(0x25, 0, 5, 257u, "jgt #0x101, +0, +5")]
    [InlineData(0x45, 3, 0, 0x40000000u, "jset #0x40000000, +3, +0")]
    [InlineData(0x54, 0, 0, 0xffu, "and #0xff")]
    [InlineData(0x05, 0, 0, 7u, "ja +7")]
    [InlineData(0x06, 0, 0, 0x00050026u, "ret ERRNO(38)")]
    [InlineData(0x06, 0, 0, 0x7fff0000u, "ret ALLOW")]
    [InlineData(0x06, 0, 0, 0x80000000u, "ret KILL_PROCESS")]
    public void FormatReadsLikeBpfAsm(int code, int jt, int jf, uint k, string expected)
    {
        Assert.Equal(expected, Bpf.Format(new BpfInstruction((ushort)code, (byte)jt, (byte)jf, k)));
    }

    [Fact]
    public void AssemblerResolvesForwardLabels()
    {
        var asm = new BpfAssembler();
        var yes = asm.NewLabel();
        var end = asm.NewLabel();
        asm.LoadAbsolute(Bpf.DataNr);
        asm.Branch(Bpf.JEQ, 39, yes, BpfAssembler.Next);
        asm.Return(1);
        asm.Goto(end);
        asm.Mark(yes);
        asm.Return(2);
        asm.Mark(end);
        asm.Return(3);

        var program = asm.Assemble();

        Assert.Equal(2u, BpfInterpreter.Run(program, new SeccompData(39, 0)));
        Assert.Equal(1u, BpfInterpreter.Run(program, new SeccompData(40, 0)));
        Assert.Equal(new BpfInstruction(Bpf.JMP | Bpf.JA, 0, 0, 1), program[3]);
    }

    [Fact]
    public void AssemblerRefusesJumpsTooFarForEightBits()
    {
        var asm = new BpfAssembler();
        var far = asm.NewLabel();
        asm.Branch(Bpf.JEQ, 0, far, BpfAssembler.Next);
        for (var i = 0; i < 300; i++)
            asm.Return(0);
        asm.Mark(far);
        asm.Return(1);

        Assert.Throws<InvalidOperationException>(() => asm.Assemble());
    }

    [Fact]
    public void InterpreterRefusesWhatSeccompRefuses()
    {
        // A byte load is not allowed in seccomp programs.
        BpfInstruction[] program = [new(Bpf.LD | Bpf.B | Bpf.ABS, 0, 0, 0), new(Bpf.RET, 0, 0, 0)];

        Assert.Throws<InvalidOperationException>(() => BpfInterpreter.Run(program, new SeccompData(0, 0)));
    }

    [Fact]
    public void InterpreterReadsArgumentsAsTwoWords()
    {
        // ld [args[1].hi]; ret a
        BpfInstruction[] program = [new(Bpf.LD | Bpf.W | Bpf.ABS, 0, 0, Bpf.DataArgs + 8 + 4), new(Bpf.RET | Bpf.A, 0, 0, 0)];

        Assert.Equal(0x12345678u, BpfInterpreter.Run(program, new SeccompData(0, 0, 0, 0x12345678_9abcdef0)));
    }
}
