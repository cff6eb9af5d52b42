using System.Runtime.InteropServices;
using Moat.Interop;

namespace Moat.Runtime.Foreground;

/// <summary>
/// A foreground run or exec: catches the signals to pass on from before the process exists, then
/// waits for it, passing them on. A signal that arrives while the container is still being made
/// (a caller may signal us as soon as the process writes its first output, before we would
/// otherwise be listening) is kept and delivered once the process is known; it is neither lost
/// nor fatal to the runtime.
/// </summary>
public sealed class ForegroundProcess : IDisposable
{
    static readonly PosixSignal[] Forwarded = [PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT];

    readonly List<PosixSignalRegistration> registrations;
    readonly Lock gate = new();
    readonly List<int> pending = [];
    FileDescriptor? target;

    ForegroundProcess()
    {
        // An ignored signal (nohup's SIGHUP) never reaches a registration: forward it like the rest.
        foreach (var signal in Forwarded)
            Libc.DefaultIfIgnored(SignalNumber(signal));
        registrations = Forwarded.Select(signal => PosixSignalRegistration.Create(signal, ctx =>
        {
            ctx.Cancel = true;
            Forward(SignalNumber(ctx.Signal));
        })).ToList();
    }

    /// <summary>Starts catching SIGINT, SIGTERM, SIGHUP and SIGQUIT; call before creating the process.</summary>
    public static ForegroundProcess CatchSignals() => new();

    void Forward(int signal)
    {
        lock (gate)
        {
            if (target is null)
                pending.Add(signal);
            else
                Libc.PidfdSendSignal(target, signal);
        }
    }

    /// <summary>Returns the exit code (128+signal when killed); the terminal relay, if any, ends after the process.</summary>
    public int Wait(FileDescriptor pidfd, IDisposable? relay)
    {
        try
        {
            lock (gate)
            {
                target = pidfd;
                foreach (var signal in pending)
                    Libc.PidfdSendSignal(pidfd, signal);
                pending.Clear();
            }
            return Libc.WaitExitCode(pidfd);
        }
        finally
        {
            Dispose();
            relay?.Dispose();
        }
    }

    public void Dispose()
    {
        lock (gate)
            target = null;
        registrations.ForEach(r => r.Dispose());
        registrations.Clear();
    }

    static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGINT => Libc.SIGINT,
        PosixSignal.SIGHUP => Libc.SIGHUP,
        PosixSignal.SIGQUIT => Libc.SIGQUIT,
        _ => Libc.SIGTERM,
    };
}
