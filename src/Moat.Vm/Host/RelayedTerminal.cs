using System.Runtime.InteropServices;
using Moat.Interop;
using Moat.Vm.Protocol;

namespace Moat.Vm.Host;

/// <summary>
/// The host end of a terminal relayed to the guest (the shim's or an exec relay's descriptor 0, a
/// pty slave whose master the caller holds): made this session's controlling terminal and raw (the
/// guest's pty does the line discipline), and its window size passed to the guest's pty whenever
/// it changes. A resize arrives as SIGWINCH, which can come after input the caller typed after
/// resizing; so whoever relays input also calls <see cref="PassSize"/> before each read it passes
/// on, and the guest never sees input before the resize that preceded it.
/// </summary>
public sealed class RelayedTerminal : IDisposable
{
    readonly int fd;
    readonly Action<WindowSize> send;
    readonly Lock gate = new();
    (ushort Rows, ushort Columns) sent;
    PosixSignalRegistration? resized;

    RelayedTerminal(int fd, WindowSize initial, Action<WindowSize> send)
    {
        this.fd = fd;
        this.send = send;
        sent = (initial.Rows, initial.Columns);
    }

    /// <summary>
    /// Takes the terminal once the guest's process exists (its pty got <paramref name="initial"/>),
    /// and before the caller is told it may use it: a resize made as soon as the caller has the
    /// master then either shows in the size read here or raises SIGWINCH, which is handled by now.
    /// </summary>
    public static RelayedTerminal Take(int fd, WindowSize initial, Action<WindowSize> send)
    {
        Libc.ioctl(fd, Libc.TIOCSCTTY, 0);
        MakeRaw(fd);
        var terminal = new RelayedTerminal(fd, initial, send);
        terminal.resized = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context =>
        {
            context.Cancel = true;
            terminal.PassSize();
        });
        terminal.PassSize();
        return terminal;
    }

    /// <summary>The size as the terminal has it now.</summary>
    public static WindowSize SizeOf(int fd) =>
        Libc.GetWindowSize(fd) is { } size ? new WindowSize(size.Rows, size.Columns) : new WindowSize(0, 0);

    /// <summary>Sends the terminal's size to the guest if it differs from the last one sent.</summary>
    public void PassSize()
    {
        lock (gate)
        {
            var size = SizeOf(fd);
            if ((size.Rows, size.Columns) == sent)
                return;
            sent = (size.Rows, size.Columns);
            try
            {
                send(size);
            }
            catch (SyscallException)
            {
                // The channel is gone: the process is, too.
            }
        }
    }

    unsafe static void MakeRaw(int fd)
    {
        Libc.Termios termios;
        if (Libc.tcgetattr(fd, &termios) == 0)
        {
            Libc.cfmakeraw(&termios);
            Libc.tcsetattr(fd, Libc.TCSANOW, &termios);
        }
    }

    public void Dispose() => resized?.Dispose();
}
