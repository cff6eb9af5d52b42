using System.Buffers.Binary;
using Moat.Interop;
using Moat.Runtime;
using Moat.Runtime.Protocol;
using Xunit;

namespace Moat.Tests.Unit.Protocol;

public sealed class SyncChannelTests : IDisposable
{
    readonly SyncChannel left, right;

    public SyncChannelTests()
    {
        var (a, b) = Libc.SocketPair();
        left = new SyncChannel(a);
        right = new SyncChannel(b);
    }

    public void Dispose()
    {
        left.Dispose();
        right.Dispose();
    }

    [Fact]
    public void FrameRoundTrips()
    {
        left.Send(StageFrame.Config, "{\"x\":1}"u8);

        var frame = right.Receive();

        Assert.NotNull(frame);
        Assert.Equal(StageFrame.Config, frame.Value.Frame);
        Assert.Equal("{\"x\":1}"u8.ToArray(), frame.Value.Payload);
    }

    [Fact]
    public void EmptyPayloadRoundTrips()
    {
        left.Send(StageFrame.Go);

        var frame = right.Receive();

        Assert.Equal(StageFrame.Go, frame!.Value.Frame);
        Assert.Empty(frame.Value.Payload);
    }

    [Fact]
    public void FramesArriveInOrderInBothDirections()
    {
        left.Send(StageFrame.ReadyForSetup);
        left.Send(StageFrame.Pid, BitConverter.GetBytes(1234));
        right.Send(StageFrame.StateSaved, [1, 2, 3]);

        var first = right.Receive()!.Value;
        var second = right.Receive()!.Value;
        var back = left.Receive()!.Value;

        Assert.Equal(StageFrame.ReadyForSetup, first.Frame);
        Assert.Equal(StageFrame.Pid, second.Frame);
        Assert.Equal(1234, BitConverter.ToInt32(second.Payload));
        Assert.Equal(StageFrame.StateSaved, back.Frame);
        Assert.Equal([1, 2, 3], back.Payload);
    }

    [Fact]
    public async Task LargePayloadRoundTrips()
    {
        var payload = new byte[1 << 20];
        new Random(42).NextBytes(payload);

        // The socket buffer is smaller than the payload: send from another thread.
        var sender = Task.Run(() => left.Send(StageFrame.Config, payload));
        var frame = right.Receive();
        await sender.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(payload, frame!.Value.Payload);
    }

    [Fact]
    public void FrameHeaderIsTagThenLittleEndianLength()
    {
        left.Send(StageFrame.Error, "boom"u8);

        var raw = new byte[9];
        var n = 0;
        while (n < raw.Length)
            n += Libc.Read(right.Socket.Fd, raw.AsSpan(n), "test");

        Assert.Equal((byte)'E', raw[0]);
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(1, 4)));
        Assert.Equal("boom"u8.ToArray(), raw[5..]);
    }

    [Fact]
    public void CleanEndOfFileGivesNull()
    {
        left.Dispose();

        Assert.Null(right.Receive());
    }

    [Fact]
    public void EndOfFileAfterAFullFrameGivesTheFrameThenNull()
    {
        left.Send(StageFrame.Created, "ok"u8);
        left.Dispose();

        Assert.Equal(StageFrame.Created, right.Receive()!.Value.Frame);
        Assert.Null(right.Receive());
    }

    [Fact]
    public void TruncatedHeaderThrows()
    {
        Libc.WriteAll(left.Socket.Fd, new byte[] { (byte)'C', 5, 0 }, "test");
        left.Dispose();

        Assert.Throws<InvalidDataException>(() => right.Receive());
    }

    [Fact]
    public void TruncatedPayloadThrows()
    {
        Span<byte> frame = [(byte)'C', 10, 0, 0, 0, 1, 2, 3];
        Libc.WriteAll(left.Socket.Fd, frame, "test");
        left.Dispose();

        Assert.Throws<InvalidDataException>(() => right.Receive());
    }

    [Fact]
    public void OversizedFrameIsRefused()
    {
        Span<byte> header = [(byte)'C', 0, 0, 0, 0];
        BinaryPrimitives.WriteUInt32LittleEndian(header[1..], 64 * 1024 * 1024 + 1);
        Libc.WriteAll(left.Socket.Fd, header, "test");

        var e = Assert.Throws<InvalidDataException>(() => right.Receive());

        Assert.Contains("too large", e.Message);
    }

    // The typed messages: each side's methods against the other side's.

    static string Target(FileDescriptor fd) => new FileInfo($"/proc/self/fd/{fd.Fd}").LinkTarget!;

    [Fact]
    public void PidFrameGivesTheForkedInitsPid()
    {
        left.Send(StageFrame.Pid, [0xd2, 0x04, 0, 0]);

        Assert.Equal(1234, right.ReceivePid());
    }

    [Fact]
    public void APidOfTheWrongSizeIsRefused()
    {
        left.Send(StageFrame.Pid, [1, 2]);

        var e = Assert.Throws<RuntimeException>(() => right.ReceivePid());

        Assert.Equal("container init sent a pid of 2 bytes", e.Message);
    }

    [Fact]
    public void AnErrorWhereAFrameIsExpectedIsThrownWithItsText()
    {
        left.SendError("setns /proc/1/ns/net: errno 1");

        var e = Assert.Throws<RuntimeException>(() => right.ReceiveReadyForSetup());

        Assert.Equal("setns /proc/1/ns/net: errno 1", e.Message);
    }

    [Fact]
    public void AnotherFrameWhereOneIsExpectedNamesBoth()
    {
        left.SendGo();

        var e = Assert.Throws<RuntimeException>(() => right.ReceiveReadyForSetup());

        Assert.Equal("container init sent 'G' where 'R' was expected", e.Message);
    }

    [Fact]
    public void TheInitsEndWithoutAReportSaysSo()
    {
        left.Dispose();

        var e = Assert.Throws<RuntimeException>(() => right.ReceiveInitReport());

        Assert.StartsWith("container init exited before it reported", e.Message);
    }

    [Fact]
    public void ConfigArrivesWithTheBindSourcesInMountOrder()
    {
        using var dir = new Moat.Tests.Unit.Runtime.TempDirectory();
        var first = Path.Combine(dir.Path, "first");
        var second = Path.Combine(dir.Path, "second");
        File.WriteAllText(first, "");
        File.WriteAllText(second, "");
        using var firstFd = Libc.Open(first, Libc.O_PATH | Libc.O_CLOEXEC);
        using var secondFd = Libc.Open(second, Libc.O_PATH | Libc.O_CLOEXEC);

        left.SendConfig(new InitMessage { Id = "c1", HostPid = 42, BindSourceMounts = [4, 1] }, [firstFd, secondFd]);
        var init = right.ReceiveConfig()!;

        Assert.Equal("c1", init.Id);
        Assert.Equal(42, init.HostPid);
        Assert.Equal([1, 4], init.BindSourceFds!.Keys.Order());
        Assert.Equal(first, Target(init.BindSourceFds[4]));
        Assert.Equal(second, Target(init.BindSourceFds[1]));
        foreach (var fd in init.BindSourceFds.Values)
            fd.Dispose();
    }

    [Fact]
    public void ConfigWithoutBindSourcesReadsNothingMore()
    {
        left.SendConfig(new InitMessage { Id = "c1" }, null);
        left.SendPlaced();

        Assert.Null(right.ReceiveConfig()!.BindSourceFds);
        right.ReceivePlaced();
    }

    [Fact]
    public void TheInitGetsNoConfigWhenTheRuntimeDied()
    {
        left.Dispose();

        Assert.Null(right.ReceiveConfig());
    }

    [Fact]
    public void TheInitRefusesAnyOtherFirstFrame()
    {
        left.SendPlaced();

        var e = Assert.Throws<RuntimeException>(() => right.ReceiveConfig());

        Assert.Equal("init: unexpected message 'J'", e.Message);
    }

    [Fact]
    public void TheInitWaitsForPlacedAndSaysWhenTheRuntimeDiedFirst()
    {
        left.Dispose();

        var e = Assert.Throws<RuntimeException>(() => right.ReceivePlaced());

        Assert.Equal("the runtime exited before it placed the container in its cgroups", e.Message);
    }

    [Fact]
    public async Task TheInitWaitsAtTheHooksPointUntilTheRuntimeRanItsHooks()
    {
        var init = Task.Run(right.WaitForRuntimeHooks);

        var report = left.ReceiveInitReport();
        Assert.Equal(StageFrame.HooksPoint, report.Frame);
        Assert.False(init.IsCompleted);
        left.SendHooksDone();

        await init.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void TheConsoleReportCarriesThePtyMaster()
    {
        using var dir = new Moat.Tests.Unit.Runtime.TempDirectory();
        var path = Path.Combine(dir.Path, "pty");
        File.WriteAllText(path, "");
        using var master = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);

        right.SendConsole(master);
        right.SendCreated();
        var console = left.ReceiveInitReport();
        var created = left.ReceiveInitReport();

        Assert.Equal(StageFrame.Console, console.Frame);
        using (console.Console)
            Assert.Equal(path, Target(console.Console!));
        Assert.Equal(new InitReport(StageFrame.Created), created);
    }

    [Fact]
    public void AFrameTheInitMayNotSendIsOutOfTurn()
    {
        right.SendStateSaved();

        var e = Assert.Throws<RuntimeException>(() => left.ReceiveInitReport());

        Assert.Equal("container init sent 'S' out of turn", e.Message);
    }

    [Fact]
    public void StateSavedLetsTheInitGoOnAndTheRuntimesEndDoesNot()
    {
        left.SendStateSaved();
        left.Dispose();

        Assert.True(right.ReceiveStateSaved());
        Assert.False(right.ReceiveStateSaved());
    }

    [Fact]
    public void AnExitedInitsErrorIsReadOnlyWhenItIsOne()
    {
        right.SendError("mount /proc: errno 1");
        right.SendCreated();

        Assert.Equal("mount /proc: errno 1", left.ReceiveErrorIfAny());
        Assert.Null(left.ReceiveErrorIfAny());
    }

    [Fact]
    public async Task RunWaitsForTheInitsEndOfFile()
    {
        var wait = Task.Run(left.WaitForExec);
        right.Send(StageFrame.Created);
        Assert.False(wait.IsCompleted);

        right.Dispose();

        await wait.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
