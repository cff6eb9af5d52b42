using System.Runtime.InteropServices;
using Moat.Interop;

namespace Moat.Cli;

/// <summary>A foreground run or exec: wait for the process, passing on the signals we receive.</summary>
public static class ForegroundProcess
{
    static readonly PosixSignal[] Forwarded = [PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT];

    /// <summary>Returns the exit code (128+signal when killed); the terminal relay, if any, ends after the process.</summary>
    public static int Wait(FileDescriptor pidfd, IDisposable? relay)
    {
        var registrations = Forwarded.Select(signal => PosixSignalRegistration.Create(signal, ctx =>
        {
            ctx.Cancel = true;
            Libc.PidfdSendSignal(pidfd, SignalNumber(ctx.Signal));
        })).ToList();
        try
        {
            return Libc.WaitExitCode(pidfd);
        }
        finally
        {
            registrations.ForEach(r => r.Dispose());
            relay?.Dispose();
        }
    }

    static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGINT => Libc.SIGINT,
        PosixSignal.SIGHUP => Libc.SIGHUP,
        PosixSignal.SIGQUIT => Libc.SIGQUIT,
        _ => Libc.SIGTERM,
    };
}
