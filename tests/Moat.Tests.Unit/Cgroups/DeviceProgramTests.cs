using System.Buffers.Binary;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Xunit;

namespace Moat.Tests.Unit.Cgroups;

/// <summary>
/// Runs the instructions <see cref="DeviceProgram.Compile"/> emits on a struct bpf_cgroup_dev_ctx,
/// as the kernel would: only those instructions, 64-bit registers, 32-bit ALU ops zero-extending.
/// </summary>
internal static class DeviceProgramInterpreter
{
    public static int Run(byte[] program, char type, string access, uint major, uint minor)
    {
        var bits = access.Sum(ch => ch switch { 'm' => DeviceProgram.Mknod, 'r' => DeviceProgram.Read, 'w' => DeviceProgram.Write, _ => 0 });
        var ctx = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(ctx, (uint)(bits << 16 | (type == 'b' ? DeviceProgram.Block : DeviceProgram.Char)));
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(4), major);
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(8), minor);
        var r = new ulong[11]; // r1 points at the context: offset 0
        var initialized = new bool[11];
        initialized[1] = true;
        for (var pc = 0; pc < program.Length / 8; pc++)
        {
            var insn = program.AsSpan(pc * 8, 8);
            var (code, dst, src) = (insn[0], insn[1] & 0xf, insn[1] >> 4);
            var off = BinaryPrimitives.ReadInt16LittleEndian(insn[2..]);
            var imm = BinaryPrimitives.ReadInt32LittleEndian(insn[4..]);
            ulong Reg(int i) => initialized[i] ? r[i] : throw new InvalidOperationException($"r{i} read before written at {pc}");
            void Set(int i, ulong v)
            {
                r[i] = v;
                initialized[i] = true;
            }
            switch (code)
            {
                case 0x61: // ldxw dst, [src+off]
                    Assert.Equal(1, src);
                    Set(dst, BinaryPrimitives.ReadUInt32LittleEndian(ctx.AsSpan((int)Reg(src) + off)));
                    break;
                case 0x54: Set(dst, (uint)Reg(dst) & (uint)imm); break;
                case 0x74: Set(dst, (uint)Reg(dst) >> imm); break;
                case 0xb4: Set(dst, (uint)imm); break;
                case 0xbc: Set(dst, (uint)Reg(src)); break;
                case 0x55: if (Reg(dst) != (ulong)(long)imm) pc += off; break; // imm sign-extended to 64 bits
                case 0x15: if (Reg(dst) == (ulong)(long)imm) pc += off; break;
                case 0x95: return (int)Reg(0);
                default: throw new InvalidOperationException($"unexpected opcode 0x{code:x2} at {pc}");
            }
        }
        throw new InvalidOperationException("ran off the end of the program");
    }
}

public sealed class DeviceProgramTests
{
    static byte[] Program(params (bool Allow, string Rule)[] rules) => DeviceProgram.Compile(DeviceProgram.Emulate(rules));

    static byte[] WithDefaults(params (bool Allow, string Rule)[] rules) =>
        Program([.. rules, .. ResourceWriter.DefaultAllowedDevices.Select(d => (true, d))]);

    [Theory]
    [InlineData('c', "rw", 1u, 3u, 1)] // /dev/null
    [InlineData('c', "rwm", 1u, 9u, 1)] // /dev/urandom
    [InlineData('c', "m", 4u, 1u, 1)] // any char device may be created (c *:* m)
    [InlineData('b', "m", 8u, 0u, 1)]
    [InlineData('b', "r", 8u, 0u, 0)] // but not opened
    [InlineData('c', "r", 4u, 1u, 0)]
    [InlineData('c', "rw", 136u, 7u, 1)] // pty slaves, any minor
    [InlineData('c', "rw", 137u, 7u, 0)]
    [InlineData('c', "rw", 10u, 200u, 1)] // net/tun
    [InlineData('c', "rw", 10u, 201u, 0)]
    public void TheDefaultSpecAllowsWhatAContainerNeedsAndNothingElse(char type, string access, uint major, uint minor, int expected)
    {
        var program = WithDefaults((false, "a"));

        Assert.Equal(expected, DeviceProgramInterpreter.Run(program, type, access, major, minor));
    }

    [Fact]
    public void AccessOutsideTheRuleIsRefused()
    {
        var program = Program((false, "a"), (true, "c 1:5 r"));

        Assert.Equal(1, DeviceProgramInterpreter.Run(program, 'c', "r", 1, 5));
        Assert.Equal(0, DeviceProgramInterpreter.Run(program, 'c', "w", 1, 5));
        Assert.Equal(0, DeviceProgramInterpreter.Run(program, 'c', "rw", 1, 5));
        Assert.Equal(0, DeviceProgramInterpreter.Run(program, 'b', "r", 1, 5));
    }

    [Fact]
    public void WithoutARuleForAllTheDefaultIsDeny()
    {
        var program = Program((true, "c 1:3 rwm"));

        Assert.Equal(1, DeviceProgramInterpreter.Run(program, 'c', "rw", 1, 3));
        Assert.Equal(0, DeviceProgramInterpreter.Run(program, 'b', "r", 8, 0));
    }

    [Fact]
    public void AllowAllWithDeniedExceptions()
    {
        var program = Program((true, "a"), (false, "b 8:* w"));

        Assert.Equal(1, DeviceProgramInterpreter.Run(program, 'b', "r", 8, 1));
        Assert.Equal(0, DeviceProgramInterpreter.Run(program, 'b', "w", 8, 1));
        Assert.Equal(0, DeviceProgramInterpreter.Run(program, 'b', "rw", 8, 1)); // touches the denied access
        Assert.Equal(1, DeviceProgramInterpreter.Run(program, 'b', "rw", 9, 1));
        Assert.Equal(1, DeviceProgramInterpreter.Run(program, 'c', "rwm", 1, 3));
    }

    [Fact]
    public void EmulationFollowsCgroupV1()
    {
        // A later rule of the default's kind takes access away from an exception with the same numbers...
        var policy = DeviceProgram.Emulate([(false, "a"), (true, "c 1:3 rw"), (false, "c 1:3 w")]);
        Assert.False(policy.DefaultAllow);
        Assert.Equal([new DeviceProgram.Entry('c', 1, 3, DeviceProgram.Read)], policy.Entries);

        // ...but not from a wildcard that covers it (as the v1 kernel does).
        var wildcard = DeviceProgram.Emulate([(false, "a"), (true, "c *:* m"), (false, "c 1:3 m")]);
        Assert.Equal([new DeviceProgram.Entry('c', -1, -1, DeviceProgram.Mknod)], wildcard.Entries);

        // Same numbers merge; "a" starts over.
        Assert.Equal([new DeviceProgram.Entry('b', 8, 0, DeviceProgram.Read | DeviceProgram.Write)],
            DeviceProgram.Emulate([(false, "a"), (true, "b 8:0 r"), (true, "b 8:0 w")]).Entries);
        var reset = DeviceProgram.Emulate([(false, "a"), (true, "b 8:0 r"), (true, "a")]);
        Assert.True(reset.DefaultAllow);
        Assert.Empty(reset.Entries);
        Assert.Empty(DeviceProgram.Emulate([(false, "a"), (true, "c 1:3 r"), (false, "c 1:3 rwm")]).Entries);
    }

    [Fact]
    public void AnEmptyPolicyIsTwoInstructionsAfterTheLoads()
    {
        var program = Program((true, "a"));

        Assert.Equal(8 * 8, program.Length);
        Assert.Equal(1, DeviceProgramInterpreter.Run(program, 'b', "rwm", 8, 0));
        Assert.Equal([0x61, 0x12, 0, 0, 0, 0, 0, 0], program[..8]); // ldxw r2, [r1+0]
        Assert.Equal([0x95, 0, 0, 0, 0, 0, 0, 0], program[^8..]); // exit
    }

    [Fact]
    public void BadRuleLinesAreRefused()
    {
        Assert.Equal("device rule \"x 1:3 rwm\" is not \"type major:minor access\"",
            Assert.Throws<RuntimeException>(() => DeviceProgram.Emulate([(true, "x 1:3 rwm")])).Message);
        Assert.Equal("device rule \"c 1:3 rwx\" has an unknown access \"x\"",
            Assert.Throws<RuntimeException>(() => DeviceProgram.Emulate([(true, "c 1:3 rwx")])).Message);
        Assert.Equal("device rule \"c 4294967295:3 r\": 4294967295 is not a device number the program can compare (0 to 2147483647)",
            Assert.Throws<RuntimeException>(() => DeviceProgram.Emulate([(true, "c 4294967295:3 r")])).Message);
    }

    // ---- through the writer, on a fake v2 host ----

    [Fact]
    public void ApplyOnV2AttachesTheProgramToTheContainersCgroup()
    {
        using var fs = FakeCgroupFs.V2();
        var attached = new List<(string Dir, byte[] Program)>();
        var writer = new ResourceWriter(fs.Cgroup()) { DeviceProgramAttacher = (dir, program) => attached.Add((dir, program)), OnWrite = (p, v) => fs.Writes.Add((p, v)) };
        var r = new LinuxResources { Devices = [new() { Allow = false, Access = "rwm" }, new() { Allow = true, Type = "b", Major = 8, Minor = 0, Access = "r" }] };

        writer.Validate(r);
        Assert.Empty(attached);
        writer.Apply(r);

        var (dir, program) = Assert.Single(attached);
        Assert.Equal(fs.Dir("unified"), dir);
        Assert.Equal(1, DeviceProgramInterpreter.Run(program, 'b', "r", 8, 0));
        Assert.Equal(0, DeviceProgramInterpreter.Run(program, 'b', "w", 8, 0));
        Assert.Equal(1, DeviceProgramInterpreter.Run(program, 'c', "rw", 1, 3)); // the defaults come after the config's rules
        Assert.Empty(fs.Writes); // no controller to enable, no file to write
    }

    [Fact]
    public void AHybridHostWithoutAV1DevicesHierarchyUsesAProgramToo()
    {
        using var fs = FakeCgroupFs.V1("hugetlb", "hugetlb", "devices");
        var attached = new List<string>();
        var writer = new ResourceWriter(fs.Cgroup()) { DeviceProgramAttacher = (dir, _) => attached.Add(dir) };

        writer.Apply(new LinuxResources { Devices = [new() { Allow = false }] });

        Assert.Equal([fs.Dir("unified")], attached);
    }

    [Fact]
    public void NumbersTheProgramCannotCompareAreRefused()
    {
        using var fs = FakeCgroupFs.V2();

        var e = Assert.Throws<RuntimeException>(() => fs.Writer().Validate(new LinuxResources { Devices = [new() { Allow = true, Type = "c", Major = 1L << 32, Minor = 1 }] }));

        Assert.Equal("linux.resources.devices[0]: major and minor must be at most 2147483647", e.Message);
    }
}
