using System.Text;
using System.Text.Json;
using Moat.Oci;
using Moat.Runtime.Init;
using Moat.Runtime.Protocol;
using Moat.Tests.Unit.Runtime;
using Xunit;

namespace Moat.Tests.Unit.Protocol;

/// <summary>The config frame's payload, the init message, through its hand-written codec.</summary>
public sealed class InitMessageCodecTests
{
    [Fact]
    public void InitMessageRoundTripsEveryField()
    {
        var message = new InitMessage
        {
            Id = "c1",
            Spec = DefaultSpec.Create(rootless: false, 0, 0),
            Bundle = "/b",
            Rootfs = "/b/rootfs",
            NoPivot = true,
            NoNewKeyring = true,
            PreserveFds = 2,
            StateDirFd = 7,
            StartImmediately = true,
            Exec = true,
            RuntimeHooks = true,
            Seccomp = RuntimeJsonTests.Filter("/run/listener.sock"),
            CgroupPath = "/moat/c1",
            IdmapFds = new() { [0] = 9, [3] = 10 },
            BindSourceMounts = [-1, -2, 4, 1],
            SeccompListenerFd = 12,
            LendSeccompFd = true,
            CgroupHierarchies = [new CgroupMountSource { Name = "pids", Directory = "/sys/fs/cgroup/pids/moat/c1", Controllers = ["pids"] },
                                 new CgroupMountSource { Name = "unified", Directory = "/sys/fs/cgroup/unified/moat/c1", IsV2 = true }],
            Capabilities = new CapabilitySets(1UL << 40 | 1, 2, 4, 8, 1UL << 63),
            LastCapability = 39,
            HostPid = 4321,
        };

        var back = InitMessageCodec.Read(InitMessageCodec.Write(message));

        Assert.Equal(InitMessageCodec.Write(message), InitMessageCodec.Write(back));
        Assert.Equal(message.IdmapFds, back.IdmapFds);
        Assert.Equal([-1, -2, 4, 1], back.BindSourceMounts);
        Assert.Equal((12, true), (back.SeccompListenerFd, back.LendSeccompFd));
        Assert.Equal(message.Seccomp.Program, back.Seccomp!.Program);
        Assert.Equal("meta", back.Seccomp.ListenerMetadata);
        Assert.True(back.CgroupHierarchies[1].IsV2);
        Assert.Equal(["pids"], back.CgroupHierarchies[0].Controllers);
        Assert.Equal(message.Capabilities, back.Capabilities);
        Assert.Equal(39, back.LastCapability);
        Assert.Equal(4321, back.HostPid);
    }

    [Fact]
    public void UnknownPropertiesAreSkippedAndMissingOnesKeepTheirDefaults()
    {
        var message = InitMessageCodec.Read("""{"future":{"a":[1]},"id":"c1","hostPid":7}"""u8);

        Assert.Equal("c1", message.Id);
        Assert.Equal(7, message.HostPid);
        Assert.Null(message.BindSourceMounts);
        Assert.Equal(Moat.Oci.Capabilities.Last, message.LastCapability);
    }

    [Theory]
    [InlineData("""{"idmapFds":{"x":3}}""", "expected integer keys")]
    [InlineData("""{"hostPid":"5"}""", "invalid value at $.hostPid (line 1): expected a 32-bit signed integer")]
    public void WrongValuesAreRefusedNamingTheProperty(string json, string message)
    {
        var error = Assert.ThrowsAny<JsonException>(() => InitMessageCodec.Read(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(message, error.Message);
    }
}
