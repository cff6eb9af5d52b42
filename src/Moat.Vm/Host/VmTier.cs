using System.Text;
using Moat.Interop;
using Moat.Oci;
using Moat.Oci.Json;
using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Create;
using Moat.Runtime.Exec;
using Moat.Runtime.Hooks;
using Moat.Runtime.Lifecycle;
using Moat.Runtime.State;
using Moat.Runtime.Tiers;
using Moat.Vm.Protocol;
using Moat.Vm.Provisioning;
using ContainerStatus = Moat.Runtime.State.ContainerStatus;

namespace Moat.Vm.Host;

/// <summary>
/// The vm tier: each container in a QEMU microVM of its own, with Moat's agent as the guest's init
/// running the container with the container tier inside (docs/vm.md). Create provisions the guest
/// kernel and initramfs (once), writes the launch file and starts the shim, which boots QEMU and
/// creates the container in the guest; every later verb goes to the shim's control socket. state.json's
/// pid is the shim's, which exits with the container's status once the guest reports it or QEMU
/// dies, whatever killed it: an engine's monitor (a subreaper, the shim's parent once create has
/// exited) reaps it as it reaps a container tier's init.
/// </summary>
public sealed class VmTier(StateStore store, Action<string> warn, Action<string>? debug) : IIsolationTier
{
    public Isolation Isolation => Isolation.Vm;

    /// <summary>MOAT_VM_ACCEL=kvm|tcg forces the accelerator; otherwise KVM when /dev/kvm opens and boots the guest kernel (<see cref="KvmProbe"/>), TCG (slow) when not.</summary>
    public const string AcceleratorVariable = "MOAT_VM_ACCEL";

    /// <summary>MOAT_VM_BOOT_TIMEOUT (seconds): how long create waits for the guest's agent (default 300: TCG on a loaded machine).</summary>
    public const string BootTimeoutVariable = "MOAT_VM_BOOT_TIMEOUT";

    static void Progress(string line) => DescriptorWriter.ErrorLine($"moat: vm: {line}");

    public static string ChooseAccelerator(VmDirectories dirs, string kernel, Action<string> warn)
    {
        if (Environment.GetEnvironmentVariable(AcceleratorVariable) is { Length: > 0 } forced)
            return forced is "kvm" or "tcg" ? forced : throw new RuntimeException($"{AcceleratorVariable}={forced}: use kvm or tcg");
        if (Libc.open("/dev/kvm", Libc.O_RDWR | Libc.O_CLOEXEC, 0) is var fd and >= 0)
        {
            Libc.close(fd);
            if (KvmProbe.Boots(dirs, kernel, Progress))
                return "kvm";
            warn("/dev/kvm cannot boot the guest kernel here (a KVM without what a stock kernel needs): the guest runs under QEMU's TCG emulation, which is slow (seconds to boot, every instruction emulated)");
            return "tcg";
        }
        warn("no usable /dev/kvm: the guest runs under QEMU's TCG emulation, which is slow (seconds to boot, every instruction emulated)");
        return "tcg";
    }

    public ContainerCreator.Created Create(CreateOptions options, string bundle, Spec spec)
    {
        SpecValidator.Validate(spec, bundle);
        Moat.Runtime.Terminal.ConsoleSocket.Check(spec.Process!.Terminal, options.ConsoleSocket, options.Foreground);
        if (options.PreserveFds > 0 || options.ListenFds > 0)
            throw new RuntimeException("--preserve-fds and socket activation cannot reach a process inside a virtual machine (the vm tier)");
        var (guest, shares, networkNamespace) = GuestConfig.For(spec, options.Id, bundle, warn);
        var dirs = VmDirectories.Default();
        var kernel = GuestKernel.Provide(dirs, Progress);
        var binary = Environment.ProcessPath ?? throw new RuntimeException("cannot find this moat binary (for the guest's agent)");
        var initramfs = InitramfsBuilder.Provide(dirs, kernel, binary);
        var accelerator = ChooseAccelerator(dirs, kernel.Image, warn);
        var terminal = spec.Process.Terminal;

        using var directory = store.Create(options.Id);
        var files = new VmFiles(directory.Path);
        var state = new RuntimeState
        {
            Id = options.Id,
            Bundle = bundle,
            Rootfs = shares[0].HostPath,
            Created = DateTimeOffset.UtcNow,
            Owner = Moat.Runtime.Host.HostContext.Current.Identity.UserName,
            Isolation = Isolation.Vm.ToName(),
            Annotations = spec.Annotations,
            Config = spec,
        };
        directory.WriteState(state);
        int shimPid = 0;
        FileDescriptor? master = null;
        try
        {
            var guestConfig = Path.Combine(directory.Path, "guest.json");
            VmFiles.WriteAtomically(guestConfig, SpecJson.ToUtf8Bytes(guest));
            // The container's interfaces as the engine made them in its namespace: the guest's NICs get the same.
            var nics = networkNamespace is null ? [] : GuestNetworking.Read(networkNamespace);
            var machine = new VmMachine(kernel.Image, initramfs, VmMachine.MemoryFor(spec.Linux?.Resources),
                VmMachine.CpusFor(spec.Linux?.Resources, Environment.ProcessorCount), accelerator, files.AgentSocket, files.Console, shares, nics);
            var launch = new VmLaunch
            {
                Qemu = [.. QemuCommandLine.Build(machine)],
                GuestConfig = guestConfig,
                Terminal = terminal,
                StartImmediately = options.StartImmediately,
                NetworkNamespace = networkNamespace,
                Network = networkNamespace is null ? null : new NetworkRequest(nics).Encode(),
                BootTimeoutSeconds = int.TryParse(Environment.GetEnvironmentVariable(BootTimeoutVariable), out var t) && t > 0 ? t : 300,
            };
            VmFiles.WriteAtomically(files.Launch, launch.ToJson());
            debug?.Invoke($"create {options.Id}: vm {machine.MemoryMiB} MiB, {machine.Cpus} vCPU, {accelerator}, kernel {kernel.Image}");
            if (!options.StartImmediately)
                File.WriteAllBytes(directory.FifoPath, []); // the "created, not started" mark the status reads

            FileDescriptor? slave = null;
            if (terminal)
                (master, slave) = OpenTerminal(spec.Process, onCallersTerminal: options.Foreground && options.ConsoleSocket is null);
            string message;
            using (slave)
                (message, shimPid) = SpawnHelper(binary, [VmNames.ShimVerb, directory.Path], slave);
            if (!message.StartsWith("ok ", StringComparison.Ordinal))
            {
                HostCommand.Wait(shimPid);
                shimPid = 0;
                throw new RuntimeException(message.StartsWith("error: ", StringComparison.Ordinal) ? message["error: ".Length..] : "the virtual machine's shim failed to start");
            }
            state.Pid = shimPid;
            state.PidStartTime = ProcessInfo.Read(shimPid)?.StartTime ?? 0;
            state.Phase = RuntimeState.Phases.Created;
            directory.WriteState(state);
            // prestart and createRuntime hooks: the machine and the container in it exist, the
            // user's program has not started (runtime-spec); a failure undoes the create.
            var hookState = HookRunner.StateJson(options.Id, "creating", shimPid, bundle, spec.Annotations);
            HookRunner.RunAll(spec.Hooks, HookRunner.Prestart, hookState);
            HookRunner.RunAll(spec.Hooks, HookRunner.CreateRuntime, hookState);
            if (options.PidFile is { } pidFile)
                PidFile.Write(pidFile, shimPid);
            var pidfd = Libc.PidfdOpen(shimPid);
            var console = Moat.Runtime.Terminal.ConsoleSocket.HandOff(master, options.ConsoleSocket);
            master = null;
            return new ContainerCreator.Created(state, pidfd, console);
        }
        catch
        {
            master?.Dispose();
            StopMachine(files, state);
            if (shimPid > 0)
            {
                Libc.kill(shimPid, Libc.SIGKILL);
                HostCommand.Wait(shimPid);
            }
            directory.Remove();
            throw;
        }
    }

    /// <summary>
    /// The host's pty for a process with a terminal; the guest's pty starts at its size. On the
    /// caller's terminal (a foreground run or exec without --console-socket, as runc runs one) that
    /// is the caller's size: the relay makes the master follow it anyway, and a resize after the
    /// guest's process started would reach it only as a SIGWINCH (a `stty size` run first could
    /// still see the old one). Otherwise process.consoleSize when the config gives one (as the
    /// container tier sizes its pty), else 0x0 until the caller resizes, as with runc.
    /// </summary>
    static (FileDescriptor Master, FileDescriptor Slave) OpenTerminal(Process process, bool onCallersTerminal)
    {
        var (master, slave, _) = Libc.OpenPty("/dev/ptmx");
        try
        {
            if (onCallersTerminal && Libc.GetWindowSize(0) is { Rows: > 0, Columns: > 0 } callers)
                Libc.SetWindowSize(master.Fd, callers.Rows, callers.Columns);
            else if (process.ConsoleSize is { } size)
                Libc.SetWindowSize(master.Fd, (ushort)Math.Min(size.Height, ushort.MaxValue), (ushort)Math.Min(size.Width, ushort.MaxValue));
            return (master, slave);
        }
        catch
        {
            master.Dispose();
            slave.Dispose();
            throw;
        }
    }

    /// <summary>Starts a helper of this binary (shim, exec relay) in a session of its own; its first words come on descriptor 3.</summary>
    static (string Message, int Pid) SpawnHelper(string binary, string[] args, FileDescriptor? terminal)
    {
        var (read, write) = Libc.Pipe();
        int pid;
        using (write)
        {
            var env = Environment.GetEnvironmentVariables().Keys.Cast<string>().Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}").ToList();
            var stdio = terminal?.Fd;
            pid = Libc.SpawnDetached(binary, ["moat-runtime", .. args], env,
                [(stdio ?? 0, 0), (stdio ?? 1, 1), (stdio ?? 2, 2), (write.Fd, 3)], newSession: true);
        }
        using (read)
        {
            var output = new MemoryStream();
            var buffer = new byte[4096];
            int n;
            while ((n = Libc.Read(read.Fd, buffer, "helper")) > 0)
                output.Write(buffer, 0, n);
            return (Encoding.UTF8.GetString(output.ToArray()), pid);
        }
    }

    public void Start(LocatedContainer container)
    {
        switch (container.View.Status)
        {
            case ContainerStatus.Created:
                break;
            case ContainerStatus.Stopped:
                throw new RuntimeException("cannot start a container that has stopped");
            case ContainerStatus.Running:
                throw new RuntimeException("cannot start an already running container");
            default:
                throw new RuntimeException($"cannot start a container in the {container.View.Status.ToSpecString()} state");
        }
        ShimClient.Ask(new VmFiles(container.Directory.Path), FrameType.Start);
        File.Delete(container.Directory.FifoPath);
        // The agent replies once the container tier in the guest has started the user's program.
        if (container.View.State is { } state)
            RunPoststart(state);
    }

    public void Kill(LocatedContainer container, int signal, bool all)
    {
        if (container.View.Status is ContainerStatus.Stopped or ContainerStatus.Creating)
            throw new RuntimeException("container not running");
        ShimClient.Ask(new VmFiles(container.Directory.Path), FrameType.Signal, new SignalRequest(0, signal, all).Encode());
    }

    public void Delete(LocatedContainer container, bool force)
    {
        var view = container.View;
        if (!force && view.Status is ContainerStatus.Running or ContainerStatus.Paused)
            throw new RuntimeException($"cannot delete container {view.Id} that is not stopped: {view.Status.ToSpecString()}");
        StopMachine(new VmFiles(container.Directory.Path), view.State);
        container.Directory.Remove();
        // poststop hooks: the machine is gone, delete has not returned; failures are warnings (runtime-spec).
        if (view.State is { Phase: RuntimeState.Phases.Created } state)
            HookRunner.RunAllWarning(state.Config?.Hooks, HookRunner.Poststop,
                HookRunner.StateJson(view.Id, "stopped", 0, state.Bundle, state.Annotations), warn);
    }

    /// <summary>Kills the shim and QEMU if they still run (each checked by pid and start time), and waits for QEMU to be gone.</summary>
    static void StopMachine(VmFiles files, RuntimeState? state)
    {
        if (Running(files.ShimFile) is { } shim)
            Libc.kill(shim.Pid, Libc.SIGKILL);
        if (Running(files.QemuFile) is { } qemu)
        {
            Libc.kill(qemu.Pid, Libc.SIGKILL);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (ProcessInfo.IsAlive(qemu.Pid, qemu.Start) && DateTime.UtcNow < deadline)
                Thread.Sleep(5);
        }
    }

    /// <summary>The process a "PID START" file names, when it still runs.</summary>
    static (int Pid, ulong Start)? Running(string file) =>
        Libc.TryReadText(file) is { } text && text.Split(' ', StringSplitOptions.TrimEntries) is [var p, var s]
        && int.TryParse(p, out var pid) && ulong.TryParse(s, out var start) && ProcessInfo.IsAlive(pid, start) ? (pid, start) : null;

    public ContainerExec.Started Exec(ContainerView container, ExecOptions options)
    {
        if (container.Status is not (ContainerStatus.Running or ContainerStatus.Created))
            throw new RuntimeException($"cannot exec in a {container.Status.ToSpecString()} container");
        var process = options.Process;
        if (process.Args is not { Count: > 0 })
            throw new RuntimeException("exec: no command given (args is empty)");
        Moat.Runtime.Terminal.ConsoleSocket.Check(process.Terminal, options.ConsoleSocket, options.Foreground);
        if (options.PreserveFds > 0)
            throw new RuntimeException("--preserve-fds cannot reach a process inside a virtual machine (the vm tier)");
        var directory = store.DirectoryOf(container.Id);
        var processFile = Path.Combine(directory, $"exec-{Guid.NewGuid():N}.json");
        VmFiles.WriteAtomically(processFile, SpecJson.ToUtf8Bytes(w => SpecJson.Write(w, process)));
        FileDescriptor? master = null, slave = null;
        if (process.Terminal)
            (master, slave) = OpenTerminal(process, onCallersTerminal: options.Foreground && options.ConsoleSocket is null);
        try
        {
            var binary = Environment.ProcessPath ?? throw new RuntimeException("cannot find this moat binary");
            var (message, pid) = SpawnHelper(binary, [VmNames.ExecVerb, directory, processFile, process.Terminal ? "terminal" : "pipes"], slave);
            if (!message.StartsWith("ok ", StringComparison.Ordinal))
            {
                HostCommand.Wait(pid);
                throw new RuntimeException(message.StartsWith("error: ", StringComparison.Ordinal) ? message["error: ".Length..] : "exec failed in the virtual machine");
            }
            if (options.PidFile is { } pidFile)
                PidFile.Write(pidFile, pid);
            var pidfd = Libc.PidfdOpen(pid);
            var console = Moat.Runtime.Terminal.ConsoleSocket.HandOff(master, options.ConsoleSocket);
            master = null;
            return new ContainerExec.Started(pid, pidfd, console);
        }
        finally
        {
            // The relay holds the slave now (or failed to start): ours is not needed either way.
            slave?.Dispose();
            master?.Dispose();
            File.Delete(processFile);
        }
    }

    /// <summary>Freezes the container's cgroup in the guest; the mark beside state.json makes `state` say paused, as the host's freezer does for the container tier.</summary>
    public void Pause(LocatedContainer container)
    {
        if (container.View.Status is not ContainerStatus.Running)
            throw new RuntimeException(container.View.Status == ContainerStatus.Paused ? "container is already paused" : "container not running");
        ShimClient.Ask(new VmFiles(container.Directory.Path), FrameType.Pause);
        VmFiles.WriteAtomically(Path.Combine(container.Directory.Path, ContainerView.PausedMark), []);
    }

    public void Resume(LocatedContainer container)
    {
        if (container.View.Status is not ContainerStatus.Paused)
            throw new RuntimeException("container not paused");
        ShimClient.Ask(new VmFiles(container.Directory.Path), FrameType.Resume);
        File.Delete(Path.Combine(container.Directory.Path, ContainerView.PausedMark));
    }

    public void Update(LocatedContainer container, LinuxResources changes) =>
        throw new RuntimeException("the vm tier cannot change a running container's resources yet (update)");

    public IReadOnlyList<int> Processes(ContainerView container) =>
        throw new RuntimeException("the vm tier cannot list the processes inside the guest yet (ps)");

    public CgroupStats Stats(ContainerView container) =>
        throw new RuntimeException("the vm tier cannot report the guest's statistics yet (events)");

    public OomWatcher WatchOom(ContainerView container) =>
        throw new RuntimeException("the vm tier cannot report the guest's OOM kills yet (events); an OOM-killed process exits with status 137");

    /// <summary>poststart hooks, on the host, once the guest runs the user's program; a failure is a warning.</summary>
    public void RunPoststart(RuntimeState state) =>
        HookRunner.RunAllWarning(state.Config?.Hooks, HookRunner.Poststart,
            HookRunner.StateJson(state.Id, "running", state.Pid, state.Bundle, state.Annotations), warn);
}
