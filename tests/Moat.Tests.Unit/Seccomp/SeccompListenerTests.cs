using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Seccomp;
using Xunit;

namespace Moat.Tests.Unit.Seccomp;

public sealed partial class SeccompListenerTests
{
    static ContainerState State() => new()
    {
        OciVersion = "1.2.0",
        Id = "web",
        Status = ContainerStatus.Creating,
        Pid = 4422,
        Bundle = "/run/bundles/web",
        Annotations = new() { ["io.example"] = "yes" },
    };

    [Theory]
    [InlineData("MKNOD=/dev/null;BPF=hash")]
    [InlineData(null)]
    [InlineData("\u00e9\"<\n")]
    public void StateJsonIsTheSerializersByteForByte(string? metadata)
    {
        var expected = JsonSerializer.SerializeToUtf8Bytes(new ContainerProcessState
        {
            OciVersion = "1.2.0",
            Fds = ["seccompFd"],
            Pid = 4422,
            Metadata = metadata,
            State = State(),
        }, SeccompJsonContext.Default.ContainerProcessState);

        Assert.Equal(expected, SeccompListener.BuildStateJson("1.2.0", 4422, metadata, State()));
    }

    [Fact]
    public void StateJsonHasTheRuntimeSpecShape()
    {
        var json = SeccompListener.BuildStateJson("1.2.0", 4422, "MKNOD=/dev/null;BPF=hash", State());

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(new[] { "ociVersion", "fds", "pid", "metadata", "state" }, root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("1.2.0", root.GetProperty("ociVersion").GetString());
        Assert.Equal(new[] { "seccompFd" }, root.GetProperty("fds").EnumerateArray().Select(e => e.GetString() ?? "").ToArray());
        Assert.Equal(4422, root.GetProperty("pid").GetInt32());
        Assert.Equal("MKNOD=/dev/null;BPF=hash", root.GetProperty("metadata").GetString());
        var state = root.GetProperty("state");
        Assert.Equal("1.2.0", state.GetProperty("ociVersion").GetString());
        Assert.Equal("web", state.GetProperty("id").GetString());
        Assert.Equal("creating", state.GetProperty("status").GetString());
        Assert.Equal(4422, state.GetProperty("pid").GetInt32());
        Assert.Equal("/run/bundles/web", state.GetProperty("bundle").GetString());
        Assert.Equal("yes", state.GetProperty("annotations").GetProperty("io.example").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void MetadataIsLeftOutWhenEmpty(string? metadata)
    {
        var json = SeccompListener.BuildStateJson("1.2.0", 7, metadata, State());

        using var document = JsonDocument.Parse(json);
        Assert.False(document.RootElement.TryGetProperty("metadata", out _));
    }

    [Fact]
    public void SendPassesTheDescriptorWithTheJson()
    {
        var (left, right) = Libc.SocketPair();
        using var _ = left;
        using var __ = right;
        using var pipe = new AnonymousPipe();
        var json = SeccompListener.BuildStateJson("1.2.0", 42, "m", State());

        SeccompListener.SendNotifyFd(left.Fd, pipe.WriteFd, json);
        var (body, fds) = Receive(right.Fd, json.Length);

        Assert.Equal(json, body);
        var received = Assert.Single(fds);
        using var receivedFd = new FileDescriptor(received);
        // The received descriptor is the same pipe: what is written through it comes out of the read end.
        Libc.WriteAll(received, "x"u8, "test pipe");
        var buffer = new byte[1];
        Assert.Equal(1, Libc.Read(pipe.ReadFd, buffer, "test pipe"));
        Assert.Equal((byte)'x', buffer[0]);
    }

    [Fact]
    public async Task LargeStateArrivesWhole()
    {
        var (left, right) = Libc.SocketPair();
        using var _ = left;
        using var __ = right;
        using var pipe = new AnonymousPipe();
        var state = State();
        state.Annotations = Enumerable.Range(0, 2000).ToDictionary(i => $"key{i}", i => new string('v', 40));
        var json = SeccompListener.BuildStateJson("1.2.0", 42, null, state);
        Assert.True(json.Length > 64 * 1024);

        var reader = Task.Run(() => Receive(right.Fd, json.Length));
        SeccompListener.SendNotifyFd(left.Fd, pipe.WriteFd, json);
        var (body, fds) = await reader;

        Assert.Equal(json, body);
        Libc.close(Assert.Single(fds));
    }

    [Fact]
    public void ConnectReachesAListeningSocket()
    {
        var dir = Directory.CreateTempSubdirectory("moat-seccomp-");
        try
        {
            var path = Path.Combine(dir.FullName, "agent.sock");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            using var pipe = new AnonymousPipe();

            var fd = SeccompListener.ConnectListener(path);
            using var connected = new FileDescriptor(fd);
            using var accepted = listener.Accept();
            var json = SeccompListener.BuildStateJson("1.2.0", 1, null, State());
            SeccompListener.SendNotifyFd(fd, pipe.WriteFd, json);
            var (body, fds) = Receive((int)accepted.Handle, json.Length);

            Assert.Equal(json, body);
            Libc.close(Assert.Single(fds));
            Assert.Equal(Libc.FD_CLOEXEC, Libc.fcntl(fd, Libc.F_GETFD, 0) & Libc.FD_CLOEXEC);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ConnectToNothingNamesListenerPath()
    {
        var error = Assert.Throws<RuntimeException>(() => SeccompListener.ConnectListener("/nonexistent/moat/agent.sock"));

        Assert.StartsWith("linux.seccomp.listenerPath: cannot connect to /nonexistent/moat/agent.sock:", error.Message);
    }

    [Fact]
    public void PathTooLongForSockaddrUnIsRefused()
    {
        var error = Assert.Throws<RuntimeException>(() => SeccompListener.ConnectListener("/" + new string('a', 120)));

        Assert.Contains("errno 36", error.Message);
    }

    // ---- receiving side (what a seccomp agent does) ----

    sealed class AnonymousPipe : IDisposable
    {
        public int ReadFd { get; }
        public int WriteFd { get; }

        public unsafe AnonymousPipe()
        {
            var fds = stackalloc int[2];
            Assert.Equal(0, pipe2(fds, Libc.O_CLOEXEC));
            ReadFd = fds[0];
            WriteFd = fds[1];
        }

        public void Dispose()
        {
            Libc.close(ReadFd);
            Libc.close(WriteFd);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint recvmsg(int fd, Libc.MsgHdr* message, int flags);

    const int MSG_CMSG_CLOEXEC = 0x40000000;

    /// <summary>Reads exactly <paramref name="length"/> bytes and every SCM_RIGHTS descriptor that came with them.</summary>
    static unsafe (byte[] Body, List<int> Fds) Receive(int socketFd, int length)
    {
        var body = new byte[length];
        var fds = new List<int>();
        var received = 0;
        var control = stackalloc byte[64];
        fixed (byte* p = body)
        {
            while (received < length)
            {
                var iov = new Libc.IoVec { Base = p + received, Length = length - received };
                var message = new Libc.MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = 64 };
                var n = recvmsg(socketFd, &message, MSG_CMSG_CLOEXEC);
                if (n <= 0)
                    throw new InvalidOperationException($"recvmsg: {n} ({Marshal.GetLastPInvokeError()})");
                received += (int)n;
                if (message.ControlLen >= Libc.CmsgLenOneFd)
                {
                    var header = (Libc.CmsgOneFd*)control;
                    Assert.Equal(Libc.SOL_SOCKET, header->Level);
                    Assert.Equal(Libc.SCM_RIGHTS, header->Type);
                    var count = (int)(header->Len - 16) / sizeof(int);
                    for (var i = 0; i < count; i++)
                        fds.Add(((int*)(control + 16))[i]);
                }
            }
        }
        return (body, fds);
    }
}
