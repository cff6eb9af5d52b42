using System.Diagnostics;
using Process = System.Diagnostics.Process;
using System.Net.Sockets;
using Moat.Interop;
using Moat.Oci;
using Moat.Oci.Json;

namespace Moat.Audit.Seccomp;

/// <summary>What <see cref="RecordedRun.Run"/> gives back: the recording and how the program ended.</summary>
public sealed record RecordedRunResult(SyscallRecording Recording, int ExitCode, IReadOnlyList<string>? Architectures);

/// <summary>
/// Runs an OCI bundle once under the recording filter (<see cref="RecordingProfile"/>) through an OCI
/// runtime's `run`, with the runtime's own stdio, and records every system call the container's
/// processes make until the last of them exits. The bundle is not changed: its config is copied into
/// a private bundle whose root is the original's rootfs and whose seccomp is the recording filter (the
/// config's own profile is replaced: the point is to learn what the program needs, not what it was allowed).
/// </summary>
public static class RecordedRun
{
    public static RecordedRunResult Run(string bundleDirectory, string runtime, IReadOnlyList<string> runtimeGlobalArgs, Action<string>? warn = null)
    {
        var bundle = Path.GetFullPath(bundleDirectory);
        var spec = SpecLoader.Load(bundle);
        if (spec.Root is null || string.IsNullOrEmpty(spec.Root.Path))
            throw new AuditException($"{Oci.Bundle.ConfigPath(bundle)} has no root.path");
        if (!Libseccomp.IsAvailable)
            throw new AuditException("recording needs libseccomp (libseccomp.so.2), which this host lacks: apt install libseccomp2");
        if (!Libc.SeccompFlagsSupported(Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER))
            throw new AuditException("recording needs seccomp user notification (Linux 5.0 or later), which this kernel lacks");

        // A short path: a socket's path must fit in 108 bytes.
        var work = Directory.CreateTempSubdirectory("moat-seccomp-").FullName;
        var id = "moat-seccomp-" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            var listenerPath = Path.Combine(work, "listener.sock");
            var recordingBundle = Path.Combine(work, "bundle");
            Directory.CreateDirectory(recordingBundle);
            spec.Root.Path = Path.IsPathRooted(spec.Root.Path) ? spec.Root.Path : Path.GetFullPath(Path.Combine(bundle, spec.Root.Path));
            spec.Linux ??= new Linux();
            var recordingFilter = RecordingProfile.For(listenerPath);
            spec.Linux.Seccomp = recordingFilter;
            File.WriteAllBytes(Oci.Bundle.ConfigPath(recordingBundle), SpecJson.ToUtf8Bytes(spec, indented: true));

            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(listenerPath));
            listener.Listen(1);

            var start = new ProcessStartInfo(runtime) { UseShellExecute = false };
            foreach (var arg in runtimeGlobalArgs)
                start.ArgumentList.Add(arg);
            foreach (var arg in new[] { "run", "--bundle", recordingBundle, id })
                start.ArgumentList.Add(arg);
            using var process = StartRuntime(start, runtime);

            SyscallRecording recording;
            using (var notify = AcceptNotifyDescriptor(listener, process))
            {
                if (notify is null)
                {
                    process.WaitForExit();
                    throw new AuditException($"the container did not start under {runtime} (exit status {process.ExitCode}); its error is above");
                }
                recording = SyscallRecorder.Record(notify.Fd);
            }
            process.WaitForExit();
            if (recording.Unnamed.Count > 0)
                warn?.Invoke($"calls libseccomp has no name for (not in the profile): {string.Join(", ", recording.Unnamed)}");
            return new RecordedRunResult(recording, process.ExitCode, recordingFilter.Architectures);
        }
        finally
        {
            // `run` deletes its container when the program exits; one left by a killed runtime goes here.
            try
            {
                using var delete = Process.Start(new ProcessStartInfo(runtime, [.. runtimeGlobalArgs, "delete", "--force", id])
                {
                    UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true,
                });
                delete?.WaitForExit();
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
            Directory.Delete(work, recursive: true);
        }
    }

    static Process StartRuntime(ProcessStartInfo start, string runtime)
    {
        try
        {
            return Process.Start(start) ?? throw new AuditException($"cannot start {runtime}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new AuditException($"cannot start the OCI runtime {runtime}: {e.Message}", e);
        }
    }

    /// <summary>The runtime's init connects once the filter is loaded; null if the runtime ended first.</summary>
    static FileDescriptor? AcceptNotifyDescriptor(Socket listener, Process process)
    {
        while (!listener.Poll(TimeSpan.FromMilliseconds(100), SelectMode.SelectRead))
            if (process.HasExited)
                return null;
        using var connection = listener.Accept();
        try
        {
            return Libc.ReceiveDescriptor((int)connection.Handle, "seccomp listener");
        }
        catch (SyscallException)
        {
            // The init connects early and hangs up without a descriptor when it fails before the filter.
            return null;
        }
    }
}
