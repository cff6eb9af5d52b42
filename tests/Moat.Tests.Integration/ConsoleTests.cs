using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>process.terminal: the pty through --console-socket, and a foreground run or exec on the caller's terminal.</summary>
public sealed class ConsoleTests
{
    [DllImport("libc", SetLastError = true)]
    static extern nint read(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    static extern nint write(int fd, byte[] buffer, nint count);

    [DllImport("libc")]
    static extern int close(int fd);

    /// <summary>Everything the pty master yields until the container side is closed (EIO).</summary>
    static string ReadAll(int master)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        nint n;
        while ((n = read(master, buffer, buffer.Length)) > 0)
            text.Append(Encoding.UTF8.GetString(buffer, 0, (int)n));
        return text.ToString();
    }

    [Fact]
    public async Task ConsoleSocketReceivesAWorkingPty()
    {
        using var bundle = new TestBundle("sh");
        bundle.Spec.Process!.Terminal = true;
        bundle.Spec.Process.ConsoleSize = new Oci.ConsoleSize { Height = 30, Width = 100 };
        var socketPath = Path.Combine(bundle.Directory, "console.sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(socketPath));
        server.Listen(1);
        var received = Task.Run(() =>
        {
            using var connection = server.Accept();
            return SeccompListenerServer.ReceiveWithDescriptor((int)connection.Handle);
        });
        var id = bundle.NewId("console");
        bundle.Create(id, "--console-socket", socketPath).Ok();
        var (_, master) = await received;
        try
        {
            MoatCli.Run("start", id).Ok();
            var input = Encoding.UTF8.GetBytes("tty; stty size; echo $((6*7)); ls -l /dev/console; exit\n");
            Assert.Equal(input.Length, (int)write(master, input, input.Length));
            var output = ReadAll(master);
            Assert.Contains("/dev/pts/0", output);
            Assert.Contains("30 100", output);
            Assert.Contains("42", output);
            Assert.Contains("136,   0 ", output); // /dev/console is the pty slave
        }
        finally
        {
            close(master);
        }
    }

    [Fact]
    public void DetachedTerminalWithoutConsoleSocketIsRefused()
    {
        using var bundle = new TestBundle("sh");
        bundle.Spec.Process!.Terminal = true;
        var id = bundle.NewId();
        var result = bundle.Create(id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("needs --console-socket", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, id)));
    }

    /// <summary>A foreground run with a terminal, driven through a pty pair (script(1) gives moat one).</summary>
    [Fact]
    public void ForegroundRunRelaysTheCallersTerminal()
    {
        using var bundle = new TestBundle("sh");
        bundle.Spec.Process!.Terminal = true;
        bundle.Write();
        var id = bundle.NewId("tty");
        var command = $"printf 'tty; echo $((6*7)); exit 5\\n' | script -qec \"'{MoatCli.Binary}' --root '{MoatCli.StateRoot}' run --bundle '{bundle.Directory}' {id}\" /dev/null";
        var result = MoatCli.Exec("/bin/sh", ["-c", command]);
        Assert.Equal(5, result.ExitCode);
        Assert.Contains("/dev/pts/0", result.Stdout);
        Assert.Contains("42", result.Stdout);
    }

    [Fact]
    public void ExecWithTtyGetsItsOwnPty()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var id = bundle.NewId("exectty");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        var command = $"printf 'tty; exit 3\\n' | script -qec \"'{MoatCli.Binary}' --root '{MoatCli.StateRoot}' exec -t {id} sh\" /dev/null";
        var result = MoatCli.Exec("/bin/sh", ["-c", command]);
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("/dev/pts/", result.Stdout);
    }
}
