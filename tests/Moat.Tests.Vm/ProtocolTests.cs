using Moat.Interop;
using Moat.Vm.Protocol;

namespace Moat.Tests.Vm;

public class ProtocolTests
{
    [Fact]
    public void AFrameHasATwelveByteLittleEndianHeader()
    {
        var bytes = new Frame(FrameType.Stdout, 0x01020304, [0xAA, 0xBB]).Encode();
        Assert.Equal(new byte[] { 2, 0, 0, 0, 7, 0, 0, 0, 4, 3, 2, 1, 0xAA, 0xBB }, bytes);
    }

    [Fact]
    public void FramesRoundTripThroughAPipe()
    {
        var (read, write) = Libc.Pipe();
        using (read)
        using (write)
        {
            var writer = new FrameChannel(write, "test");
            var create = new ProcessRequest("{\"ociVersion\":\"1.2.0\"}"u8.ToArray(), true, 24, 80);
            writer.Write(FrameType.Create, 1, create.Encode());
            writer.Write(FrameType.Signal, 2, new SignalRequest(7, 15, true).Encode());
            writer.Write(FrameType.Exit, 7, new ExitStatus(137).Encode());
            writer.Write(FrameType.Reply, 1, Reply.Failure("no such file").Encode());
            write.Dispose();

            var reader = new FrameChannel(read, "test");
            var first = reader.Read()!.Value;
            Assert.Equal((FrameType.Create, 1u), (first.Type, first.Stream));
            var decoded = ProcessRequest.Decode(first.Payload);
            Assert.Equal(create.Json, decoded.Json);
            Assert.Equal((true, (ushort)24, (ushort)80), (decoded.Terminal, decoded.Rows, decoded.Columns));
            Assert.Equal(new SignalRequest(7, 15, true), SignalRequest.Decode(reader.Read()!.Value.Payload));
            Assert.Equal(137, ExitStatus.Decode(reader.Read()!.Value.Payload).Status);
            Assert.Equal(Reply.Failure("no such file"), Reply.Decode(reader.Read()!.Value.Payload));
            Assert.Null(reader.Read());
        }
    }

    /// <summary>
    /// The guest agent's port once lived only as a number in its channel: the first garbage
    /// collection finalized the owner and closed the port under the agent (the VM stopped after a
    /// dozen execs, or took frames into whatever file reused the number and crashed).
    /// </summary>
    [Fact]
    public void AChannelKeepsItsDescriptorOpenThroughAGarbageCollection()
    {
        var (writer, reader) = ChannelsOverAPipe();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        writer.Write(FrameType.Stdout, 3, [1, 2, 3]);
        var frame = reader.Read()!.Value;
        Assert.Equal((FrameType.Stdout, 3u), (frame.Type, frame.Stream));
        Assert.Equal(new byte[] { 1, 2, 3 }, frame.Payload);
        writer.Descriptor.Dispose();
        reader.Descriptor.Dispose();
    }

    /// <summary>A pipe whose two ends only the channels reference (not inlined: no local of the caller's holds them).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static (FrameChannel Writer, FrameChannel Reader) ChannelsOverAPipe()
    {
        var (read, write) = Libc.Pipe();
        return (new FrameChannel(write, "test writer"), new FrameChannel(read, "test reader"));
    }

    [Fact]
    public void AChannelClosedMidFrameIsAnError()
    {
        var (read, write) = Libc.Pipe();
        using (read)
        {
            var bytes = new Frame(FrameType.Stdout, 0, [1, 2, 3, 4]).Encode();
            Libc.WriteAll(write.Fd, bytes.AsSpan(0, bytes.Length - 1), "test");
            write.Dispose();
            Assert.Throws<ProtocolException>(() => new FrameChannel(read, "test").Read());
        }
    }

    [Fact]
    public void AnOversizedFrameOrASetReservedFieldIsRefused()
    {
        var header = new byte[Frame.HeaderSize];
        BitConverter.TryWriteBytes(header, (uint)(Frame.MaxPayload + 1));
        Assert.Throws<ProtocolException>(() => Frame.DecodeHeader(header));
        var reserved = new Frame(FrameType.Hello, 0, []).Encode();
        reserved[6] = 1;
        Assert.Throws<ProtocolException>(() => Frame.DecodeHeader(reserved));
    }

    [Fact]
    public void AShortPayloadIsAProtocolError()
    {
        Assert.Throws<ProtocolException>(() => SignalRequest.Decode([1, 0, 0]));
        Assert.Throws<ProtocolException>(() => Hello.Decode([1, 0, 0, 0, 0xFF, 0, 0, 0]));
        Assert.Equal(new Hello(Frame.Version, "moat-agent"), Hello.Decode(new Hello(Frame.Version, "moat-agent").Encode()));
    }

    [Fact]
    public void ANetworkRequestRoundTrips()
    {
        var request = new NetworkRequest(
        [
            new GuestInterface("eth0", "02:42:0a:58:00:05", 1500, ["10.88.0.5/16", "fd00::5/64"],
                [new GuestRoute("0.0.0.0/0", "10.88.0.1"), new GuestRoute("::/0", "fd00::1")]),
            new GuestInterface("eth1", "02:42:0a:59:00:02", 9000, [], [new GuestRoute("10.0.0.0/8", "")]),
        ]);
        var decoded = NetworkRequest.Decode(request.Encode());
        Assert.Equal(2, decoded.Interfaces.Count);
        Assert.Equal(("eth0", "02:42:0a:58:00:05", 1500u), (decoded.Interfaces[0].Name, decoded.Interfaces[0].Mac, decoded.Interfaces[0].Mtu));
        Assert.Equal(request.Interfaces[0].Addresses, decoded.Interfaces[0].Addresses);
        Assert.Equal(request.Interfaces[0].Routes, decoded.Interfaces[0].Routes);
        Assert.Equal(request.Interfaces[1].Routes, decoded.Interfaces[1].Routes);
        Assert.Throws<ProtocolException>(() => NetworkRequest.Decode([1, 0]));
    }
}
