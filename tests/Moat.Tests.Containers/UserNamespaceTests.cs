namespace Moat.Tests.Containers;

/// <summary>--userns auto (the default as root) across stores: a second store learns of the first one's running container only through /proc.</summary>
public sealed class UserNamespaceTests(ContainerStore store) : IClassFixture<ContainerStore>
{
    [Fact]
    public void AContainerOfAnotherStoreGetsAnotherRange()
    {
        using var other = new ContainerStore();
        store.Ok("run", "-d", "--name", "first", "busybox", "sleep", "1000");
        try
        {
            other.Ok("run", "-d", "--name", "second", "busybox", "sleep", "1000");
            var first = HostUids(store, "first");
            var second = HostUids(other, "second");
            Assert.NotEqual(0, first.Start); // a range of its own, not the host's ids
            Assert.True(first.Start + first.Length <= second.Start || second.Start + second.Length <= first.Start,
                $"the two containers share host uids: {first} and {second}");
        }
        finally
        {
            store.Run("rm", "-f", "first");
            other.Run("rm", "-f", "second");
        }
    }

    static (long Start, long Length) HostUids(ContainerStore store, string name)
    {
        var pid = store.Inspect(name).GetProperty("State").GetProperty("Pid").GetInt32();
        var fields = File.ReadAllText($"/proc/{pid}/uid_map").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[1]), long.Parse(fields[2]));
    }
}
