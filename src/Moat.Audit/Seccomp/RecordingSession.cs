using System.Net.Sockets;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Audit.Seccomp;

/// <summary>
/// A recording beside a container someone else starts (`moat run --seccomp-record`: the engine's monitor runs
/// the runtime): <see cref="Attach"/> puts the recording filter in the spec with a listener socket of ours,
/// a thread takes the notification descriptor when the runtime's init hands it over and records until no
/// process uses the filter any more; <see cref="Finish"/> waits for that. <see cref="RecordedRun"/> is the
/// same for a bundle `moat` runs itself.
/// </summary>
public sealed class RecordingSession : IDisposable
{
    readonly string work;
    readonly Socket listener;
    readonly CancellationTokenSource stop = new();
    Thread? thread;
    SyscallRecording? recording;
    Exception? failure;
    volatile bool handedOver;

    /// <summary>The architectures of the recording filter (the profile written covers the same).</summary>
    public IReadOnlyList<string>? Architectures { get; private set; }

    RecordingSession(string work, Socket listener)
    {
        this.work = work;
        this.listener = listener;
    }

    /// <summary>Checks the host can record (libseccomp, seccomp user notification) and listens on a socket of its own.</summary>
    public static RecordingSession Open()
    {
        if (!Libseccomp.IsAvailable)
            throw new AuditException("recording needs libseccomp (libseccomp.so.2), which this host lacks: apt install libseccomp2");
        if (!Libc.SeccompFlagsSupported(Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER))
            throw new AuditException("recording needs seccomp user notification (Linux 5.0 or later), which this kernel lacks");
        // A short path: a socket's path must fit in 108 bytes.
        var work = Directory.CreateTempSubdirectory("moat-seccomp-").FullName;
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(work, "listener.sock")));
            listener.Listen(1);
        }
        catch
        {
            listener.Dispose();
            Directory.Delete(work, recursive: true);
            throw;
        }
        return new RecordingSession(work, listener);
    }

    /// <summary>Replaces the spec's seccomp profile with the recording filter and starts waiting for the runtime's init.</summary>
    public void Attach(Spec spec)
    {
        if (thread is not null)
            throw new InvalidOperationException("the recording is attached already");
        spec.Linux ??= new Linux();
        var filter = RecordingProfile.For(Path.Combine(work, "listener.sock"));
        spec.Linux.Seccomp = filter;
        Architectures = filter.Architectures;
        thread = new Thread(Record) { IsBackground = true, Name = "seccomp recorder" };
        thread.Start();
    }

    void Record()
    {
        try
        {
            while (!listener.Poll(TimeSpan.FromMilliseconds(100), SelectMode.SelectRead))
                if (stop.IsCancellationRequested)
                    return;
            using var connection = listener.Accept();
            using var notify = Libc.ReceiveDescriptor((int)connection.Handle, "seccomp listener");
            handedOver = true;
            recording = SyscallRecorder.Record(notify.Fd, stop.Token);
        }
        catch (Exception e)
        {
            failure = e;
        }
    }

    /// <summary>
    /// The recording, once every process that used the filter has exited (the container's last one did when its
    /// init exited, unless it left others behind); waits up to <paramref name="timeout"/> for that.
    /// </summary>
    public SyscallRecording Finish(TimeSpan timeout)
    {
        if (thread is null)
            throw new InvalidOperationException("the recording was never attached");
        if (!thread.Join(timeout))
        {
            stop.Cancel();
            thread.Join();
            if (recording is not null)
                return recording;
        }
        if (failure is not null)
            throw new AuditException($"the recording failed: {ErrorText.Reason(failure)}", failure);
        if (!handedOver || recording is null)
            throw new AuditException("the runtime never handed over the seccomp notification descriptor (linux.seccomp.listenerPath): nothing was recorded");
        return recording;
    }

    public void Dispose()
    {
        stop.Cancel();
        thread?.Join();
        listener.Dispose();
        stop.Dispose();
        try { Directory.Delete(work, recursive: true); } catch (IOException) { }
    }
}
