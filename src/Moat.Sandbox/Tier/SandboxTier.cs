using Moat.Interop;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Create;
using Moat.Runtime.Exec;
using Moat.Runtime.Lifecycle;
using Moat.Runtime.Protocol;
using Moat.Runtime.State;
using Moat.Runtime.Tiers;
using Moat.Sandbox.Policy;
using Moat.Sandbox.Profile;
using Moat.Sandbox.Supervisor;

namespace Moat.Sandbox.Tier;

/// <summary>
/// The sandbox tier: the container tier's container (same create, same init, same state), with its
/// config tightened (<see cref="SandboxSpec"/>), a Landlock ruleset applied by the init before execve,
/// and a supervisor process (`moat-runtime sandbox-supervise`) that receives the seccomp notifications
/// of every process in it, brokers the calls that reach names and addresses, and holds the container's
/// init with ptrace's EXITKILL: if the supervisor goes, the kernel kills the init and with it the pid
/// namespace. Started in Create, stopped in Delete; exec's processes report to the same supervisor.
/// </summary>
public sealed class SandboxTier(TierServices services, string? policyFile, string supervisorExecutable) : IIsolationTier
{
    /// <summary>An annotation naming the policy file, for engines that cannot pass --sandbox-policy.</summary>
    public const string PolicyAnnotation = "run.moat.sandbox.policy";

    /// <summary>
    /// Set by an engine (moat's sets them): a directory where the supervisor keeps a copy of the refusal
    /// counts (sandbox-refusals.json, for `inspect` after the runtime's state is gone), the events journal
    /// for `sandbox_refusal` events, and the container's name and image for those events.
    /// </summary>
    public const string ReportAnnotation = "run.moat.sandbox.report", EventsAnnotation = "run.moat.events",
        NameAnnotation = "run.moat.container.name", ImageAnnotation = "run.moat.container.image";

    /// <summary>
    /// "false" turns off keeping the container's CPUs awake while its calls come fast (spinners at idle
    /// priority: Moat.Sandbox/Supervisor/KeepAwake); "true", the default, leaves it on.
    /// </summary>
    public const string KeepAwakeAnnotation = "run.moat.sandbox.keep-awake";

    /// <summary>The supervisor's arguments for what an engine asked to hear (annotations above) and for keep-awake; none for a plain runtime user.</summary>
    static List<string> ReportArguments(Spec spec)
    {
        var args = new List<string>();
        var annotations = spec.Annotations;
        if (annotations is null)
            return args;
        if (annotations.TryGetValue(KeepAwakeAnnotation, out var keepAwake))
        {
            if (keepAwake is not ("true" or "false"))
                throw new RuntimeException($"the annotation {KeepAwakeAnnotation}={keepAwake} must be true or false");
            if (keepAwake == "false")
                args.AddRange(["--keep-awake", "false"]);
        }
        foreach (var (annotation, flag) in new[] { (ReportAnnotation, "--report"), (EventsAnnotation, "--events"), (NameAnnotation, "--name"), (ImageAnnotation, "--image") })
        {
            if (!annotations.TryGetValue(annotation, out var value) || value.Length == 0)
                continue;
            if (flag is "--report" or "--events" && !Path.IsPathFullyQualified(value))
                throw new RuntimeException($"the annotation {annotation}={value} must be an absolute path");
            args.AddRange([flag, flag == "--report" ? Path.Combine(value, RefusalLog.CountFile) : value]);
        }
        return args;
    }

    ContainerTier Base => services.ContainerTier;

    public Isolation Isolation => Isolation.Sandbox;

    public ContainerCreator.Created Create(CreateOptions options, string bundle, Spec spec)
    {
        var store = services.Store;
        var policy = LoadPolicy(spec, bundle);
        var supervisorArgs = ReportArguments(spec);
        var kernel = services.Host.Kernel;
        var socketPath = SupervisorFiles.SocketPath(store, options.Id);
        // The init gets a connected socket (InitAdditions), so the profile's listenerPath only names the
        // supervisors' directory: the same for every container, so the compiled filter is cached once.
        // Before Apply, which adds the id maps when the config has none.
        if (SandboxSpec.AddsUserNamespace(spec))
            MountPoints.CreateMissing(spec, bundle);
        SandboxSpec.Apply(spec, policy, SupervisorFiles.SocketDirectory(store) + "/supervisor", kernel.SeccompFlags.Contains("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"), services.Debug);
        var landlock = LandlockFromPolicy.For(policy, kernel.LandlockAbi);

        // The supervisor first: the init's listener connection is a socket pair whose other end it holds.
        Directory.CreateDirectory(SupervisorFiles.SocketDirectory(store), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var (initEnd, supervisorEnd) = Libc.SocketPair();
        using var forInit = initEnd;
        var supervisor = SupervisorLauncher.Start(supervisorExecutable, store, options.Id, socketPath, policy, supervisorEnd, supervisorArgs);
        ContainerCreator.Created created;
        try
        {
            created = new ContainerCreator(store, services.Debug, services.Warn)
                .Create(options, bundle, spec, Isolation.Sandbox.ToName(), new InitAdditions(landlock, forInit.Fd));
        }
        catch (Exception e)
        {
            // The init is gone, so is its end of the socket: the supervisor sees it and exits; make sure.
            // When the supervisor itself failed (the init could then not hand over), its error says why.
            try
            {
                supervisor.WaitReady();
            }
            catch (RuntimeException supervisorError)
            {
                throw new RuntimeException(supervisorError.Message, e);
            }
            supervisor.Stop();
            throw;
        }
        // Started while the container was made; ready (its exec socket listening) before anyone can
        // exec or start. Its init loads the filter only at start, so nothing of it ran unsupervised.
        try
        {
            supervisor.WaitReady();
        }
        catch
        {
            Discard(created, options.Id);
            throw;
        }
        var directory = store.DirectoryOf(options.Id);
        SupervisorFiles.WriteAtomically(Path.Combine(directory, SupervisorFiles.PolicyFile), PolicyJson.Write(policy));
        SupervisorFiles.WriteRecord(directory, new SupervisorFiles.Record(supervisor.Pid, supervisor.StartTime, socketPath));
        services.Debug?.Invoke($"create {options.Id}: sandbox supervisor pid {supervisor.Pid}");
        return created;
    }

    /// <summary>A container made for a supervisor that then failed: its init killed, its state deleted (best effort: the error to report is the supervisor's).</summary>
    void Discard(ContainerCreator.Created created, string id)
    {
        try
        {
            Libc.PidfdSendSignal(created.Pidfd, Libc.SIGKILL);
            using var directory = services.Store.Open(id);
            Base.Delete(new LocatedContainer(directory, ContainerView.Load(id, directory.Path)), force: true);
        }
        catch (Exception e) when (e is RuntimeException or SyscallException or IOException)
        {
            services.Warn?.Invoke($"create {id}: the container made for a failed sandbox supervisor was not fully removed: {e.Message}");
        }
        finally
        {
            created.Pidfd.Dispose();
            created.Console?.Dispose();
        }
    }

    SandboxPolicy LoadPolicy(Spec spec, string bundle)
    {
        var file = policyFile;
        if (spec.Annotations?.TryGetValue(PolicyAnnotation, out var annotated) == true && annotated.Length > 0)
        {
            if (file is not null && Path.GetFullPath(file) != Path.GetFullPath(annotated, bundle))
                throw new RuntimeException($"--sandbox-policy {file} and the annotation {PolicyAnnotation}={annotated} name different policies: give one");
            file ??= Path.GetFullPath(annotated, bundle);
        }
        if (file is null)
            return DefaultPolicy.For(spec);
        byte[] text;
        try
        {
            text = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RuntimeException($"--sandbox-policy {file}: {ErrorText.Reason(e)}", e);
        }
        try
        {
            return PolicyYaml.ReadFile(text, file);
        }
        catch (SandboxPolicyException e)
        {
            throw new RuntimeException($"--sandbox-policy {e.Message}", e);
        }
    }

    public void Start(LocatedContainer container) => Base.Start(container);

    public void Kill(LocatedContainer container, int signal, bool all) => Base.Kill(container, signal, all);

    public void Delete(LocatedContainer container, bool force)
    {
        var record = SupervisorFiles.ReadRecord(container.Directory.Path);
        Base.Delete(container, force);
        // The container is gone: so is everything the supervisor watched. Stop it if it lingers.
        if (record is not null)
        {
            SupervisorLauncher.StopExisting(record.Pid, record.StartTime);
            try
            {
                File.Delete(record.Socket);
            }
            catch (IOException)
            {
            }
        }
    }

    public ContainerExec.Started Exec(ContainerView container, ExecOptions options)
    {
        var directory = services.Store.DirectoryOf(container.Id);
        var record = SupervisorFiles.ReadRecord(directory)
            ?? throw new RuntimeException($"container \"{container.Id}\" has no sandbox supervisor record ({SupervisorFiles.RecordFile})");
        if (!ProcessInfo.IsAlive(record.Pid, record.StartTime))
            throw new RuntimeException($"the sandbox supervisor of container \"{container.Id}\" is gone; the container cannot run new processes");
        var policy = PolicyJson.Read(File.ReadAllBytes(Path.Combine(directory, SupervisorFiles.PolicyFile)), SupervisorFiles.PolicyFile);
        var landlock = LandlockFromPolicy.For(policy, services.Host.Kernel.LandlockAbi);
        FileDescriptor connection;
        try
        {
            connection = Libc.ConnectUnixStream(record.Socket);
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"cannot reach the sandbox supervisor of container \"{container.Id}\" at {record.Socket}: {Errors.Describe(e.Errno)}", e);
        }
        using (connection)
            return new ContainerExec(services.Store, services.Debug, services.Warn).Start(container, options, new InitAdditions(landlock, connection.Fd));
    }

    public void Pause(LocatedContainer container) => Base.Pause(container);

    public void Resume(LocatedContainer container) => Base.Resume(container);

    public void Update(LocatedContainer container, LinuxResources changes) => Base.Update(container, changes);

    public IReadOnlyList<int> Processes(ContainerView container) => Base.Processes(container);

    public CgroupStats Stats(ContainerView container) => Base.Stats(container);

    public OomWatcher WatchOom(ContainerView container) => Base.WatchOom(container);

    public void RunPoststart(RuntimeState state) => Base.RunPoststart(state);
}
