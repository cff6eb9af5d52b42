using System.Text;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Hooks;

/// <summary>
/// Runs the config's hooks as runtime-spec "Lifecycle" and "POSIX-platform Hooks" say: path with
/// args (args[0] is argv[0]) and exactly env (without env, the environment of the moat process that
/// runs the hook, as runc and crun), the container state JSON on stdin, killed when the timeout
/// passes. Output is kept to explain a failure.
/// </summary>
public static class HookRunner
{
    public const string Prestart = "prestart", CreateRuntime = "createRuntime", CreateContainer = "createContainer",
        StartContainer = "startContainer", Poststart = "poststart", Poststop = "poststop";

    public static IReadOnlyList<Hook> Of(Oci.Hooks? hooks, string kind) => kind switch
    {
        Prestart => hooks?.Prestart ?? [],
        CreateRuntime => hooks?.CreateRuntime ?? [],
        CreateContainer => hooks?.CreateContainer ?? [],
        StartContainer => hooks?.StartContainer ?? [],
        Poststart => hooks?.Poststart ?? [],
        Poststop => hooks?.Poststop ?? [],
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The runtime-spec state of the container, as hooks and the seccomp listener get it.</summary>
    public static ContainerState State(string id, string status, int pid, string bundle, Dictionary<string, string>? annotations) => new()
    {
        OciVersion = SpecVersion.Current,
        Id = id,
        Status = status,
        Pid = pid,
        Bundle = bundle,
        Annotations = annotations,
    };

    public static byte[] StateJson(string id, string status, int pid, string bundle, Dictionary<string, string>? annotations) =>
        OciJson.SerializeToUtf8Bytes(State(id, status, pid, bundle, annotations));

    /// <summary>Runs every hook of a kind in order; the first failure stops them and throws.</summary>
    public static void RunAll(Oci.Hooks? hooks, string kind, byte[] stateJson)
    {
        var list = Of(hooks, kind);
        for (var i = 0; i < list.Count; i++)
        {
            try
            {
                Run(list[i], stateJson);
            }
            catch (Exception e) when (e is RuntimeException or SyscallException or IOException)
            {
                throw new RuntimeException($"{kind} hook #{i} ({list[i].Path}): {(e is IOException ? ErrorText.Of(e) : e.Message)}", e);
            }
        }
    }

    /// <summary>Runs every hook of a kind, turning failures into warnings (poststart, poststop).</summary>
    public static void RunAllWarning(Oci.Hooks? hooks, string kind, byte[] stateJson, Action<string> warn)
    {
        var list = Of(hooks, kind);
        for (var i = 0; i < list.Count; i++)
        {
            try
            {
                Run(list[i], stateJson);
            }
            catch (Exception e) when (e is RuntimeException or SyscallException or IOException)
            {
                warn($"{kind} hook #{i} ({list[i].Path}) failed: {(e is IOException ? ErrorText.Of(e) : e.Message)}");
            }
        }
    }

    public static unsafe void Run(Hook hook, byte[] stateJson)
    {
        var (stdinRead, stdinWrite) = Pipe();
        using var output = new FileDescriptor(Errors.Check(Libc.memfd_create("moat-hook-output", Libc.MFD_CLOEXEC), "memfd_create"));
        int pid;
        using (stdinRead)
        {
            var argv = hook.Args is { Count: > 0 } args ? args : [hook.Path];
            // Default signal actions: a hook must not inherit what its caller ignores (the monitor, which
            // runs start and delete in-process, ignores SIGPIPE, SIGHUP and SIGINT).
            pid = Libc.Spawn(hook.Path, argv, hook.Env ?? OwnEnvironment(), stdinRead.Fd, output.Fd, output.Fd, defaultSignals: true);
        }
        using var pidfd = Libc.PidfdOpen(pid);
        using (stdinWrite)
        {
            // A hook that never reads its stdin must not block us: a closed pipe is fine.
            try
            {
                Libc.WriteAll(stdinWrite.Fd, stateJson, "hook stdin");
            }
            catch (SyscallException e) when (e.Errno == Errors.EPIPE)
            {
            }
        }
        var timeoutMs = hook.Timeout is { } seconds ? (int)Math.Min((long)seconds * 1000, int.MaxValue) : -1;
        var fd = new Libc.PollFd { Fd = pidfd.Fd, Events = Libc.POLLIN };
        int ready;
        do
            ready = Libc.poll(&fd, 1, timeoutMs);
        while (ready < 0 && Errors.LastErrno == Errors.EINTR);
        if (ready == 0)
        {
            Libc.PidfdSendSignal(pidfd, Libc.SIGKILL);
            Libc.WaitExitCode(pidfd);
            throw new RuntimeException($"timed out after {hook.Timeout} s{OutputOf(output)}");
        }
        var status = Libc.WaitExitCode(pidfd);
        if (status != 0)
            throw new RuntimeException($"exited with status {status}{OutputOf(output)}");
    }

    /// <summary>This process's environment as NAME=value strings.</summary>
    static List<string> OwnEnvironment()
    {
        var variables = Environment.GetEnvironmentVariables();
        var list = new List<string>(variables.Count);
        foreach (System.Collections.DictionaryEntry entry in variables)
            list.Add($"{entry.Key}={entry.Value}");
        return list;
    }

    static unsafe (FileDescriptor Read, FileDescriptor Write) Pipe()
    {
        var fds = stackalloc int[2];
        Errors.Check(Libc.pipe2(fds, Libc.O_CLOEXEC), "pipe2");
        // SIGPIPE would kill the runtime if the hook exits without reading; EPIPE is handled instead.
        return (new FileDescriptor(fds[0]), new FileDescriptor(fds[1]));
    }

    static unsafe string OutputOf(FileDescriptor output)
    {
        var buffer = new byte[4096];
        var n = 0;
        fixed (byte* b = buffer)
            n = (int)Libc.pread(output.Fd, b, buffer.Length, 0);
        var text = n > 0 ? Encoding.UTF8.GetString(buffer, 0, n).Trim() : "";
        return text.Length == 0 ? "" : $": {text}";
    }
}
