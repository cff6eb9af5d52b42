namespace Moat.Monitor.Protocol;

/// <summary>
/// The files in a container's directory (`&lt;root&gt;/containers/&lt;id&gt;/`) through which the engine and the
/// monitor talk. Every JSON file is written whole (temporary file, rename): a reader sees the old content or
/// the new, never half, also after a crash of the writer. Only health.json is also fsynced; status, exit and
/// monitor.json describe processes a power cut ends (<see cref="ProtocolFiles.Write{T}"/>).
/// </summary>
public static class ContainerFiles
{
    /// <summary><see cref="MonitorConfig"/>, written by the engine.</summary>
    public const string MonitorConfig = "monitor.json";
    /// <summary><see cref="MonitorStatus"/>, written by the monitor at each change (created, running, restarting, exited).</summary>
    public const string Status = "status.json";
    /// <summary><see cref="ExitRecord"/> of the last exit, written by the monitor before anything else happens after an exit.</summary>
    public const string Exit = "exit.json";
    /// <summary><see cref="HealthRecord"/>, written by the monitor after each check.</summary>
    public const string Health = "health.json";
    /// <summary>
    /// Made by the engine (empty) before it signals the container for `stop`/`kill`/`rm -f`: the exit that
    /// follows was asked for, so `unless-stopped`, `always` and `on-failure` do not restart it. The engine
    /// removes it before a `start`.
    /// </summary>
    public const string StopRequested = "stop-requested";
    /// <summary>The monitor's SOCK_SEQPACKET attach socket (<see cref="AttachFrames"/>).</summary>
    public const string AttachSocket = "attach.sock";
    /// <summary>The OCI bundle the engine writes (config.json; the rootfs is the mounted container layer).</summary>
    public const string Bundle = "bundle";
    /// <summary>
    /// The monitor's file descriptor 3 when the engine starts it: a pipe on which the monitor writes one
    /// JSON line, <c>{"pid":N}</c> once the runtime's create has succeeded (the container is created, not
    /// started) or <c>{"error":"sentence"}</c> (the monitor then exits, having deleted what it made), and
    /// closes it.
    /// </summary>
    public const int SyncDescriptor = 3;
    /// <summary>The monitor's own log (its warnings and failures; never the container's output).</summary>
    public const string MonitorLog = "monitor.log";
    /// <summary>The container's output log (when the config names no other path).</summary>
    public const string ContainerLog = "ctr.log";
    /// <summary>The init's pid as the runtime's create wrote it (--pid-file); the monitor's own record is <see cref="Status"/>.</summary>
    public const string PidFile = "pid";
    /// <summary>
    /// The socket on which the monitor receives the pty master from the runtime's create (--console-socket),
    /// there only during a create with a terminal.
    /// </summary>
    public const string ConsoleSocket = "console.sock";
}
