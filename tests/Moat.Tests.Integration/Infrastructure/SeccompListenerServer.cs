using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Moat.Tests.Integration.Infrastructure;

/// <summary>
/// A seccomp notification listener as an engine would run one: accepts the runtime's connection on
/// a unix socket, receives the container state and the notify descriptor (SCM_RIGHTS), and answers
/// every notification with "success, return 0" without running the call.
/// </summary>
public sealed unsafe class SeccompListenerServer : IDisposable
{
    readonly Socket server;
    readonly Thread thread;
    volatile bool stopping;

    public SeccompListenerServer(string path)
    {
        Path = path;
        server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(path));
        server.Listen(4);
        thread = new Thread(Serve) { IsBackground = true };
        thread.Start();
    }

    public string Path { get; }
    public string? StateJson { get; private set; }
    public int Answered;
    public Exception? Failure { get; private set; }

    /// <summary>How many processes handed a descriptor over (the init, then one per exec).</summary>
    public int Connections;

    void Serve()
    {
        try
        {
            while (!stopping)
            {
                var connection = server.Accept();
                new Thread(() => Answer(connection)) { IsBackground = true }.Start();
            }
        }
        catch (Exception e) when (!stopping)
        {
            Failure = e;
        }
        catch (Exception)
        {
        }
    }

    void Answer(Socket accepted)
    {
        try
        {
            using var connection = accepted;
            var (json, notifyFd) = ReceiveWithDescriptor((int)connection.Handle);
            StateJson = json;
            Interlocked.Increment(ref Connections);
            var notif = stackalloc byte[80];
            var resp = stackalloc byte[24];
            try
            {
                while (!stopping)
                {
                    new Span<byte>(notif, 80).Clear();
                    if (ioctl(notifyFd, 0xC0502100, notif) < 0)
                        return; // the container's filter is gone (it exited)
                    new Span<byte>(resp, 24).Clear();
                    *(ulong*)resp = *(ulong*)notif; // id; val 0, error 0: the call "succeeds"
                    if (ioctl(notifyFd, 0xC0182101, resp) == 0)
                        Interlocked.Increment(ref Answered);
                }
            }
            finally
            {
                close(notifyFd);
            }
        }
        catch (Exception e) when (!stopping)
        {
            Failure = e;
        }
        catch (Exception)
        {
        }
    }

    /// <summary>Receives one message and the descriptor it carries (SCM_RIGHTS).</summary>
    public static (string Json, int Fd) ReceiveWithDescriptor(int socket)
    {
        var data = new byte[65536];
        var control = stackalloc byte[64];
        fixed (byte* d = data)
        {
            var iov = stackalloc nint[2];
            iov[0] = (nint)d;
            iov[1] = data.Length;
            // struct msghdr on x86_64: name, namelen, iov, iovlen, control, controllen, flags.
            var msg = stackalloc byte[56];
            new Span<byte>(msg, 56).Clear();
            *(nint*)(msg + 16) = (nint)iov;
            *(nint*)(msg + 24) = 1;
            *(nint*)(msg + 32) = (nint)control;
            *(nint*)(msg + 40) = 64;
            var n = recvmsg(socket, msg, 0);
            if (n <= 0)
                throw new IOException($"recvmsg returned {n} (errno {Marshal.GetLastPInvokeError()})");
            // struct cmsghdr: len (8), level (4), type (4), then the descriptor.
            if (*(int*)(control + 8) != 1 || *(int*)(control + 12) != 1)
                throw new IOException("no SCM_RIGHTS message with the state");
            return (Encoding.UTF8.GetString(data, 0, (int)n), *(int*)(control + 16));
        }
    }

    public void Dispose()
    {
        stopping = true;
        server.Dispose();
        File.Delete(Path);
    }

    [DllImport("libc", SetLastError = true)]
    static extern nint recvmsg(int socket, byte* msg, int flags);

    [DllImport("libc", SetLastError = true)]
    static extern int ioctl(int fd, ulong request, byte* arg);

    [DllImport("libc")]
    static extern int close(int fd);
}
