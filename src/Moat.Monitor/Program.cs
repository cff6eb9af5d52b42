using Moat.Interop;
using Moat.Monitor;
using Moat.Monitor.Protocol;

// moat-monitor CONTAINER_DIR: started by the engine detached (new session, stdio /dev/null, descriptor 3
// the sync pipe); see docs/engine.md, "Monitor".
if (args.Length != 1 || args[0].StartsWith('-'))
{
    DescriptorWriter.ErrorLine("usage: moat-monitor CONTAINER_DIR (started by moat; see docs/engine.md)");
    return 2;
}
SyncReport.Init();
var directoryPath = Path.GetFullPath(args[0]);
var log = new MonitorLog(Path.Combine(directoryPath, ContainerFiles.MonitorLog));
try
{
    // Nothing this process inherited (the sync pipe at 3, anything an engine leaked) reaches the runtime
    // or the container: the sync pipe must reach end of file when the monitor closes it, not when the container ends.
    Libc.CloseRangeOnExec(ContainerFiles.SyncDescriptor);
    // The engine's working directory may be on a mount someone will want to unmount while the container runs.
    Libc.chdir("/");
    // A client that goes away mid-send (EPIPE, not SIGPIPE), a hang-up of a session it no longer has, a ^C
    // meant for the engine that started it: none of these may end the monitor and orphan its container.
    Libc.Ignore(Libc.SIGPIPE);
    Libc.Ignore(Libc.SIGHUP);
    Libc.Ignore(Libc.SIGINT);
    var config = ProtocolFiles.Read<MonitorConfig>(Path.Combine(directoryPath, ContainerFiles.MonitorConfig))
        ?? throw new MonitorException($"{Path.Combine(directoryPath, ContainerFiles.MonitorConfig)} does not exist");
    // Subreaper: the container's init is the runtime's child; when the runtime exits, it becomes ours to wait for.
    Libc.Prctl(Libc.PR_SET_CHILD_SUBREAPER, 1, "PR_SET_CHILD_SUBREAPER");
    using var directory = new ContainerDirectory(directoryPath);
    return new ContainerMonitor(config, directory, log).Run();
}
catch (Exception e)
{
    var sentence = e is MonitorException or SyscallException ? e.Message : Moat.Oci.ErrorText.Of(e);
    // An unexpected exception is a bug: its stack goes to the monitor's log with it.
    log.Write(e is MonitorException or SyscallException ? $"fatal: {sentence}" : $"fatal: {sentence}\n{e}");
    SyncReport.Error(sentence);
    return 1;
}
