using Moat.Interop;

namespace Moat.Runtime.Terminal;

/// <summary>--console-socket: the pty master goes to the caller's unix socket (SCM_RIGHTS), as runc and crun send it.</summary>
public static class ConsoleSocket
{
    /// <summary>A terminal needs somewhere to go: the socket, or a caller in the foreground.</summary>
    public static void Check(bool terminal, string? socketPath, bool foreground)
    {
        if (terminal && socketPath is null && !foreground)
            throw new RuntimeException("process.terminal is true: a detached container needs --console-socket to receive its terminal");
        if (!terminal && socketPath is not null)
            throw new RuntimeException("--console-socket was given, but process.terminal is false");
    }

    /// <summary>Sends the master to the socket when there is one (and closes it here); else it stays the caller's.</summary>
    public static FileDescriptor? HandOff(FileDescriptor? master, string? socketPath)
    {
        if (master is null || socketPath is null)
            return master;
        using (master)
            Send(socketPath, master);
        return null;
    }

    public static void Send(string socketPath, FileDescriptor master)
    {
        try
        {
            using var socket = Libc.ConnectUnixStream(socketPath);
            Libc.SendWithDescriptor(socket.Fd, "/dev/ptmx"u8, master.Fd, socketPath);
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"--console-socket {socketPath}: {e.Message}", e);
        }
    }
}
