using Moat.Interop;
using Moat.Monitor;
using Moat.Monitor.Protocol;

namespace Moat.Tests.Monitor;

/// <summary>The attach server's socket handling, on a socket pair (no container).</summary>
public sealed unsafe class AttachServerTests
{
    [Fact]
    public void AClientThatSentSomethingUnreadStillGetsItsExitedFrame()
    {
        // A unix socket closed with unread messages resets the connection, and the peer's recv then fails
        // with ECONNRESET before it reads what is queued for it. A client whose Stdin frame arrived as the
        // container exited lost Exited so (StdioTests.WithoutStdinTheContainerReadsEndOfFile, 1 CI run of 3).
        var sv = stackalloc int[2];
        Errors.Check(Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0, sv), "socketpair");
        using var clientEnd = new FileDescriptor(sv[1]);
        using var listener = Libc.Open("/dev/null", Libc.O_RDONLY);
        var log = Path.Combine(Path.GetTempPath(), $"moat-attach-test-{Guid.NewGuid():N}.log");
        using var server = new AttachServer(listener, new MonitorLog(log));
        var client = new AttachedClient(new FileDescriptor(sv[0]));
        server.Clients.Add(client);
        byte[] stdin = [AttachFrames.Stdin, (byte)'x'];
        fixed (byte* p = stdin)
            Errors.Check((long)Libc.send(clientEnd.Fd, p, stdin.Length, Libc.MSG_NOSIGNAL), "send", "socket pair");

        server.ExitAll(7); // Exited, then the connection closes once sent, the Stdin frame never read

        Assert.Empty(server.Clients);
        var buffer = new byte[64];
        nint n;
        fixed (byte* p = buffer)
            n = Libc.recv(clientEnd.Fd, p, buffer.Length, 0);
        Assert.True(n > 0, $"recv after the monitor closed: {(n < 0 ? "errno " + Errors.LastErrno : "end of file")}, no Exited frame");
        Assert.Equal(AttachFrames.Exited, buffer[0]);
        Assert.Equal(7, AttachClient.Number(buffer[1..5]));
        File.Delete(log);
    }
}
