using Moat.Oci;
using Xunit;

namespace Moat.Tests.Unit.Oci;

public class NameTableTests
{
    [Theory]
    [InlineData("CAP_CHOWN", 0)]
    [InlineData("CAP_KILL", 5)]
    [InlineData("CAP_NET_BIND_SERVICE", 10)]
    [InlineData("CAP_SYS_ADMIN", 21)]
    [InlineData("CAP_AUDIT_WRITE", 29)]
    [InlineData("CAP_SETFCAP", 31)]
    [InlineData("CAP_AUDIT_READ", 37)]
    [InlineData("CAP_PERFMON", 38)]
    [InlineData("CAP_BPF", 39)]
    [InlineData("CAP_CHECKPOINT_RESTORE", 40)]
    public void CapabilityNumbersMatchTheKernel(string name, int number)
    {
        Assert.Equal(number, Capabilities.GetNumber(name));
        Assert.Equal(name, Capabilities.GetName(number));
        Assert.True(Capabilities.TryGetNumber(name, out var parsed));
        Assert.Equal(number, parsed);
    }

    [Fact]
    public void CapabilityTableIsDenseAndEndsAtLast()
    {
        Assert.Equal(Capabilities.Last + 1, Capabilities.Names.Count);
        Assert.Equal(Capabilities.Names.Count, Capabilities.Names.Distinct().Count());
        Assert.All(Capabilities.Names, name => Assert.StartsWith("CAP_", name));
    }

    [Fact]
    public void UnknownCapabilitiesAreRejected()
    {
        Assert.False(Capabilities.IsKnown("CAP_NOPE"));
        Assert.False(Capabilities.IsKnown("chown"));
        Assert.False(Capabilities.TryGetNumber("CAP_NOPE", out _));
        Assert.Throws<ArgumentException>(() => Capabilities.GetNumber("CAP_NOPE"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Capabilities.GetName(41));
        Assert.Throws<ArgumentOutOfRangeException>(() => Capabilities.GetName(-1));
    }

    [Theory]
    [InlineData("RLIMIT_CPU", 0)]
    [InlineData("RLIMIT_FSIZE", 1)]
    [InlineData("RLIMIT_DATA", 2)]
    [InlineData("RLIMIT_STACK", 3)]
    [InlineData("RLIMIT_CORE", 4)]
    [InlineData("RLIMIT_RSS", 5)]
    [InlineData("RLIMIT_NPROC", 6)]
    [InlineData("RLIMIT_NOFILE", 7)]
    [InlineData("RLIMIT_MEMLOCK", 8)]
    [InlineData("RLIMIT_AS", 9)]
    [InlineData("RLIMIT_LOCKS", 10)]
    [InlineData("RLIMIT_SIGPENDING", 11)]
    [InlineData("RLIMIT_MSGQUEUE", 12)]
    [InlineData("RLIMIT_NICE", 13)]
    [InlineData("RLIMIT_RTPRIO", 14)]
    [InlineData("RLIMIT_RTTIME", 15)]
    public void RlimitNumbersMatchTheKernel(string name, int number)
    {
        Assert.Equal(number, Rlimits.GetNumber(name));
        Assert.Equal(name, Rlimits.GetName(number));
    }

    [Fact]
    public void RlimitTableHasSixteenEntriesAndRejectsOthers()
    {
        Assert.Equal(16, Rlimits.Names.Count);
        Assert.False(Rlimits.IsKnown("RLIMIT_OFILE"));
        Assert.False(Rlimits.TryGetNumber("rlimit_nofile", out _));
        Assert.Throws<ArgumentException>(() => Rlimits.GetNumber("RLIMIT_OFILE"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rlimits.GetName(16));
        Assert.Equal(ulong.MaxValue, Rlimits.Infinity);
    }

    [Theory]
    [InlineData("pid", 0x20000000, "pid")]
    [InlineData("network", 0x40000000, "net")]
    [InlineData("mount", 0x00020000, "mnt")]
    [InlineData("ipc", 0x08000000, "ipc")]
    [InlineData("uts", 0x04000000, "uts")]
    [InlineData("user", 0x10000000, "user")]
    [InlineData("cgroup", 0x02000000, "cgroup")]
    [InlineData("time", 0x00000080, "time")]
    public void NamespaceTypesMapToCloneFlagsAndProcFiles(string type, int cloneFlag, string procFile)
    {
        Assert.True(NamespaceType.IsKnown(type));
        Assert.Equal(cloneFlag, NamespaceType.GetCloneFlag(type));
        Assert.Equal(procFile, NamespaceType.GetProcFileName(type));
        Assert.Contains(type, NamespaceType.All);
    }

    [Fact]
    public void UnknownNamespaceTypesAreRejected()
    {
        Assert.Equal(8, NamespaceType.All.Count);
        Assert.False(NamespaceType.IsKnown("net"));
        Assert.False(NamespaceType.TryGetCloneFlag("mnt", out _));
        Assert.False(NamespaceType.TryGetProcFileName("", out _));
        Assert.Throws<ArgumentException>(() => NamespaceType.GetCloneFlag("foo"));
        Assert.Throws<ArgumentException>(() => NamespaceType.GetProcFileName("foo"));
    }

    [Fact]
    public void SeccompNamesCoverTheSpecLists()
    {
        Assert.Equal(9, SeccompNames.Actions.Count);
        Assert.Equal(7, SeccompNames.Operators.Count);
        Assert.Equal(23, SeccompNames.Architectures.Count);
        Assert.Equal(4, SeccompNames.Flags.Count);
        Assert.True(SeccompNames.IsAction("SCMP_ACT_KILL_PROCESS"));
        Assert.True(SeccompNames.IsOperator("SCMP_CMP_MASKED_EQ"));
        Assert.True(SeccompNames.IsArchitecture("SCMP_ARCH_RISCV64"));
        Assert.True(SeccompNames.IsFlag("SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
        Assert.False(SeccompNames.IsAction("SCMP_ACT_allow"));
        Assert.True(SeccompNames.ActionTakesErrno("SCMP_ACT_TRACE"));
        Assert.False(SeccompNames.ActionTakesErrno("SCMP_ACT_LOG"));
    }

    [Theory]
    [InlineData("1.2.0", 1, 2, 0)]
    [InlineData("1.0.2-dev", 1, 0, 2)]
    [InlineData("1.1.0-rc.3+build.7", 1, 1, 0)]
    [InlineData("10.20.30", 10, 20, 30)]
    public void SpecVersionParsesSemVer(string version, int major, int minor, int patch)
    {
        Assert.True(SpecVersion.TryParse(version, out var parsedMajor, out var parsedMinor, out var parsedPatch));
        Assert.Equal((major, minor, patch), (parsedMajor, parsedMinor, parsedPatch));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("1.2")]
    [InlineData("1.2.0.0")]
    [InlineData("01.2.0")]
    [InlineData("v1.2.0")]
    [InlineData("1.2.0-")]
    [InlineData("1.-2.0")]
    public void SpecVersionRejectsNonSemVer(string? version) =>
        Assert.False(SpecVersion.TryParse(version, out _, out _, out _));
}
