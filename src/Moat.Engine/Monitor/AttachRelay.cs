using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Engine.Monitor;

/// <summary>
/// `run` and `start -a`: our stdin to the container (with -i), its output to our stdout and stderr, our
/// terminal in raw mode with its size sent at start and on every SIGWINCH (with -t).
/// </summary>
public static unsafe class AttachRelay
{
    /// <summary>
    /// Sends Start on <paramref name="client"/>, relays until the container exits, and returns its exit code
    /// (null when the monitor went away without saying: the caller asks the record).
    /// <paramref name="started"/> gets the init's pid.
    /// </summary>
    public static int? Run(AttachClient client, bool stdin, bool tty, Action<int> started)
    {
        // struct termios is 60 bytes in glibc; a roomy buffer, restored byte for byte.
        var saved = stackalloc byte[256];
        var raw = tty && Libc.isatty(0) == 1 && Libc.tcgetattr(0, (Libc.Termios*)saved) == 0;
        PosixSignalRegistration? winch = null;
        try
        {
            if (raw)
            {
                var changed = stackalloc byte[256];
                new Span<byte>(saved, 256).CopyTo(new Span<byte>(changed, 256));
                Libc.cfmakeraw((Libc.Termios*)changed);
                Libc.tcsetattr(0, Libc.TCSANOW, (Libc.Termios*)changed);
            }
            if (tty)
            {
                SendSize(client);
                winch = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => SendSize(client));
            }
            var pid = client.Start(Write);
            started(pid);
            if (stdin)
                new Thread(() => PumpInput(client)) { IsBackground = true, Name = "stdin" }.Start();
            while (client.Receive() is { } frame)
            {
                if (frame.Frame == AttachFrames.Exited)
                    return frame.Payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(frame.Payload.Span) : null;
                Write(frame.Frame, frame.Payload);
            }
            return null;
        }
        finally
        {
            winch?.Dispose();
            if (raw)
                Libc.tcsetattr(0, Libc.TCSANOW, (Libc.Termios*)saved);
        }
    }

    static void SendSize(AttachClient client)
    {
        var fd = Libc.isatty(0) == 1 ? 0 : Libc.isatty(1) == 1 ? 1 : -1;
        if (fd < 0 || Libc.GetWindowSize(fd) is not { } size)
            return;
        try
        {
            client.Resize(size.Rows, size.Columns);
        }
        catch (SyscallException)
        {
            // The monitor is gone; the main loop finds out.
        }
    }

    static void Write(byte frame, ReadOnlyMemory<byte> payload)
    {
        var fd = frame == AttachFrames.Stderr ? 2 : frame == AttachFrames.Stdout ? 1 : -1;
        if (fd < 0 || payload.IsEmpty)
            return;
        try
        {
            Libc.WriteAll(fd, payload.Span, fd == 1 ? "stdout" : "stderr");
        }
        catch (SyscallException)
        {
            // Our reader went away (a closed pipe): the container goes on.
        }
    }

    static void PumpInput(AttachClient client)
    {
        var buffer = new byte[AttachFrames.MaxPayload];
        try
        {
            while (true)
            {
                var n = Libc.Read(0, buffer, "stdin");
                if (n <= 0)
                    break;
                client.SendInput(buffer.AsSpan(0, n));
            }
            client.Send(AttachFrames.CloseStdin);
        }
        catch (SyscallException)
        {
            // stdin or the socket closed under us: nothing more to forward.
        }
    }
}
