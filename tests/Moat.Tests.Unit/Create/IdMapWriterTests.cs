using Moat.Oci;
using Moat.Runtime.Create;
using Xunit;

namespace Moat.Tests.Unit.Create;

public sealed class IdMapWriterTests
{
    static LinuxIdMapping Map(uint inside, uint outside, uint size) => new() { ContainerId = inside, HostId = outside, Size = size };

    [Fact]
    public void OnlyASingleMapOfTheCallersOwnIdMayBeWrittenWithoutRoot()
    {
        Assert.True(IdMapWriter.IsOwnIdOnly([Map(0, 1001, 1)], 1001));
        Assert.False(IdMapWriter.IsOwnIdOnly([Map(0, 1002, 1)], 1001));
        Assert.False(IdMapWriter.IsOwnIdOnly([Map(0, 1001, 2)], 1001));
        Assert.False(IdMapWriter.IsOwnIdOnly([Map(0, 1001, 1), Map(1, 100000, 65536)], 1001));
        Assert.False(IdMapWriter.IsOwnIdOnly([], 1001));
        Assert.False(IdMapWriter.IsOwnIdOnly(null, 1001));
    }

    [Fact]
    public void TheHelpersGetThePidThenATripletPerMapping()
    {
        Assert.Equal(["newuidmap", "4242", "0", "1001", "1", "1", "100000", "65536"],
            IdMapWriter.HelperArguments("newuidmap", 4242, [Map(0, 1001, 1), Map(1, 100000, 65536)]));
    }
}
