using System.Buffers.Binary;
using Moat.Interop;
using Moat.Runtime;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

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
        left.Send(SyncChannel.Config, "{\"x\":1}"u8);

        var frame = right.Receive();

        Assert.NotNull(frame);
        Assert.Equal(SyncChannel.Config, frame.Value.Tag);
        Assert.Equal("{\"x\":1}"u8.ToArray(), frame.Value.Payload);
    }

    [Fact]
    public void EmptyPayloadRoundTrips()
    {
        left.Send(SyncChannel.Go);

        var frame = right.Receive();

        Assert.Equal(SyncChannel.Go, frame!.Value.Tag);
        Assert.Empty(frame.Value.Payload);
    }

    [Fact]
    public void FramesArriveInOrderInBothDirections()
    {
        left.Send(SyncChannel.ReadyForSetup);
        left.Send(SyncChannel.Pid, BitConverter.GetBytes(1234));
        right.Send(SyncChannel.StateSaved, [1, 2, 3]);

        var first = right.Receive()!.Value;
        var second = right.Receive()!.Value;
        var back = left.Receive()!.Value;

        Assert.Equal(SyncChannel.ReadyForSetup, first.Tag);
        Assert.Equal(SyncChannel.Pid, second.Tag);
        Assert.Equal(1234, BitConverter.ToInt32(second.Payload));
        Assert.Equal(SyncChannel.StateSaved, back.Tag);
        Assert.Equal([1, 2, 3], back.Payload);
    }

    [Fact]
    public async Task LargePayloadRoundTrips()
    {
        var payload = new byte[1 << 20];
        new Random(42).NextBytes(payload);

        // The socket buffer is smaller than the payload: send from another thread.
        var sender = Task.Run(() => left.Send(SyncChannel.Config, payload));
        var frame = right.Receive();
        await sender.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(payload, frame!.Value.Payload);
    }

    [Fact]
    public void FrameHeaderIsTagThenLittleEndianLength()
    {
        left.Send(SyncChannel.Error, "boom"u8);

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
        left.Send(SyncChannel.Created, "ok"u8);
        left.Dispose();

        Assert.Equal(SyncChannel.Created, right.Receive()!.Value.Tag);
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
}
