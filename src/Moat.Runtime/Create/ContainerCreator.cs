using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Cgroups;
using Moat.Runtime.State;

namespace Moat.Runtime.Create;

/// <summary>The runtime's side of create: from a bundle to an init process waiting for start.</summary>
public sealed class ContainerCreator(StateStore store, Action<string>? debug = null)
{
    /// <summary>The created container's init: its pid and a pidfd (the caller of run waits on it).</summary>
    public sealed record Created(RuntimeState State, FileDescriptor Pidfd);

    public Created Create(CreateOptions options)
    {
        ContainerId.Validate(options.Id);
        var bundle = Path.GetFullPath(options.Bundle);
        var spec = SpecLoader.Load(bundle);
        SpecValidator.Validate(spec, bundle);
        HostSupport.Check(spec);
        var plan = NamespacePlan.From(spec.Linux);
        if (!plan.HasMountNamespace)
            throw new RuntimeException("linux.namespaces: a mount namespace is required (add {\"type\": \"mount\"})");
        var rootfs = Bundle.ResolveRootfs(bundle, spec.Root!);

        var cgroupHost = CgroupHost.Detect();
        var cgroup = ContainerCgroup.For(cgroupHost, CgroupHost.ResolvePath(spec.Linux?.CgroupsPath, options.Id));
        var resources = new ResourceWriter(cgroup);
        resources.Validate(spec.Linux?.Resources);
        debug?.Invoke($"create {options.Id}: rootfs {rootfs}, clone flags 0x{plan.CloneFlags:x}, unshare flags 0x{plan.UnshareFlags:x}, late 0x{plan.LateUnshareFlags:x}, " +
                      $"joins [{string.Join(", ", plan.Joins.Select(j => $"{j.Type}={j.Path}"))}], cgroup {cgroup.Path} " +
                      $"({(cgroupHost.IsPureV2 ? "v2" : "v1" + (cgroupHost.Unified is null ? "" : " + unified"))})");

        using var directory = store.Create(options.Id);
        var state = new RuntimeState
        {
            Id = options.Id,
            Bundle = bundle,
            Rootfs = rootfs,
            Created = DateTimeOffset.UtcNow,
            Owner = "root",
            Annotations = spec.Annotations,
            Hooks = spec.Hooks,
            CgroupDirectories = cgroup.Directories.Select(d => d.Directory).ToList(),
            CgroupCreated = !cgroup.IsExisting,
        };
        FileDescriptor? pidfd = null;
        try
        {
            // Written before anything exists on the host, so that delete can clean up after a crash.
            directory.WriteState(state);
            cgroup.Create();
            resources.Apply(spec.Linux?.Resources);
            if (!options.StartImmediately)
            {
                Errors.Check(Libc.mkfifo(directory.FifoPath, Convert.ToUInt32("622", 8)), "mkfifo", directory.FifoPath);
                // Writable by a container root that maps to an unprivileged host id (mkfifo obeys the umask).
                File.SetUnixFileMode(directory.FifoPath, (UnixFileMode)Convert.ToInt32("622", 8));
            }

            // The init gets a descriptor of its own: the locked one would keep the container locked while it waits for start.
            using var stateDirForInit = Libc.Open(directory.Path, Libc.O_PATH | Libc.O_DIRECTORY);
            using var idmaps = IdmapNamespaces.For(spec.Mounts ?? []);
            var message = new InitMessage
            {
                Id = options.Id,
                Spec = spec,
                Bundle = bundle,
                Rootfs = rootfs,
                NoPivot = options.NoPivot,
                NoNewKeyring = options.NoNewKeyring,
                PreserveFds = options.PreserveFds,
                StateDirFd = stateDirForInit.Fd,
                StartImmediately = options.StartImmediately,
                CgroupPath = cgroup.Path,
                IdmapFds = idmaps.FdsByMount.Count > 0 ? idmaps.FdsByMount : null,
                CgroupHierarchies = cgroup.Directories.Select(d => new CgroupMountSource
                {
                    Name = d.Hierarchy.IsV2 ? (cgroupHost.IsPureV2 ? "" : "unified") : Path.GetFileName(d.Hierarchy.MountPoint),
                    Directory = d.Directory,
                    IsV2 = d.Hierarchy.IsV2,
                    Controllers = d.Hierarchy.Controllers.ToList(),
                }).ToList(),
            };
            var (pid, fd, channel) = SpawnInit(spec, plan, cgroup, [stateDirForInit.Fd, .. idmaps.Fds], message, options.PreserveFds);
            pidfd = fd;
            using (channel)
            {
                state.Pid = pid;
                state.PidStartTime = ProcessInfo.Read(pid)?.StartTime ?? throw new RuntimeException("container init exited during create");
                debug?.Invoke($"create {options.Id}: init pid {pid} ready");
                state.Phase = RuntimeState.Phases.Created;
                directory.WriteState(state);
                if (options.PidFile is { } pidFile)
                    PidFile.Write(pidFile, pid);
                // From here the init outlives this process; until now it dies with it.
                channel.Send(SyncChannel.StateSaved);
            }
            return new Created(state, pidfd);
        }
        catch
        {
            pidfd?.Dispose();
            Cleanup.Remove(directory, state);
            throw;
        }
    }

    unsafe (int Pid, FileDescriptor Pidfd, SyncChannel Channel) SpawnInit(Spec spec, NamespacePlan plan, ContainerCgroup cgroup,
        IReadOnlyList<int> descriptorsForInit, InitMessage message, int preserveFds)
    {
        var (runtimeEnd, childEnd) = Libc.SocketPair();
        var channel = new SyncChannel(runtimeEnd);
        using var binary = SealedBinary.Create();
        using var unified = cgroup.OpenUnified();
        var joinFds = plan.Joins.Select(j => Libc.Open(j.Path, Libc.O_RDONLY)).ToList();
        var allocations = new List<IntPtr>();
        FileDescriptor? pidfd = null;
        int childPid;
        try
        {
            IntPtr Utf8(string s)
            {
                var p = Marshal.StringToCoTaskMemUTF8(s);
                allocations.Add(p);
                return p;
            }
            byte** Array(params string[] items)
            {
                var p = (byte**)Marshal.AllocCoTaskMem(sizeof(IntPtr) * (items.Length + 1));
                allocations.Add((IntPtr)p);
                for (var i = 0; i < items.Length; i++)
                    p[i] = (byte*)Utf8(items[i]);
                p[items.Length] = null;
                return p;
            }

            var keepCount = 1 + descriptorsForInit.Count + preserveFds;
            var keep = stackalloc int[keepCount];
            keep[0] = childEnd.Fd;
            for (var i = 0; i < descriptorsForInit.Count; i++)
                keep[1 + i] = descriptorsForInit[i];
            for (var i = 0; i < preserveFds; i++)
                keep[1 + descriptorsForInit.Count + i] = 3 + i;

            var request = new SpawnRequest
            {
                CloneFlags = plan.CloneFlags,
                UnshareFlags = plan.UnshareFlags,
                LateUnshareFlags = plan.LateUnshareFlags,
                JoinCount = joinFds.Count,
                SyncFd = childEnd.Fd,
                ExecFd = binary.Fd,
                CgroupFd = unified?.Fd ?? -1,
                BecomeRoot = plan.BecomeRoot ? 1 : 0,
                NewTime = plan.NewTime ? 1 : 0,
                ForkAfter = plan.ForkAfter ? 1 : 0,
                KeepCount = keepCount,
                KeepFds = keep,
                TimensOffsets = NamespacePlan.FormatTimeOffsets(spec.Linux?.TimeOffsets) is { } t ? (byte*)Utf8(t) : null,
                Argv = Array("moat", "init"),
                Envp = Array($"{InitEnvironment.SyncFdVariable}={childEnd.Fd}"),
            };
            for (var i = 0; i < joinFds.Count; i++)
            {
                request.JoinFds[i] = joinFds[i].Fd;
                request.JoinTypes[i] = NamespaceType.GetCloneFlag(plan.Joins[i].Type);
                request.JoinNames[i] = Utf8($"setns {plan.Joins[i].Path}");
            }
            int rawPidfd;
            childPid = NativeSpawn.Spawn(&request, &rawPidfd);
            if (childPid < 0)
                throw new SyscallException("clone3", -childPid, "container init");
            pidfd = new FileDescriptor(rawPidfd);
        }
        catch
        {
            channel.Dispose();
            throw;
        }
        finally
        {
            foreach (var p in allocations)
                Marshal.FreeCoTaskMem(p);
            foreach (var fd in joinFds)
                fd.Dispose();
            childEnd.Dispose();
        }

        try
        {
            // 1. The child has its namespaces: give it id maps and its v1 cgroups, then let it go.
            Expect(channel, SyncChannel.ReadyForSetup);
            if (plan.NewUser)
            {
                WriteProcFile(childPid, "uid_map", NamespacePlan.FormatIdMap(spec.Linux?.UidMappings));
                WriteProcFile(childPid, "gid_map", NamespacePlan.FormatIdMap(spec.Linux?.GidMappings));
            }
            cgroup.AddProcessToV1(childPid);
            channel.Send(SyncChannel.Go);

            // 2. With a joined pid namespace the helper forked once more: the init is its child.
            var initPid = childPid;
            if (plan.ForkAfter)
            {
                var pidFrame = Expect(channel, SyncChannel.Pid);
                initPid = BitConverter.ToInt32(pidFrame);
                Libc.WaitExitCode(pidfd);
                pidfd.Dispose();
                pidfd = Libc.PidfdOpen(initPid);
            }

            // 3. The init stage runs (managed code, inside the namespaces): send it the config.
            channel.Send(SyncChannel.Config, JsonSerializer.SerializeToUtf8Bytes(message, RuntimeJsonContext.Default.InitMessage));
            Expect(channel, SyncChannel.Created);
            return (initPid, pidfd, channel);
        }
        catch
        {
            Libc.PidfdSendSignal(pidfd, Libc.SIGKILL);
            pidfd.Dispose();
            channel.Dispose();
            throw;
        }
    }

    static byte[] Expect(SyncChannel channel, byte tag)
    {
        var frame = channel.Receive() ?? throw new RuntimeException("container init exited before it reported (see the container's stderr)");
        if (frame.Tag == SyncChannel.Error)
            throw new RuntimeException(Encoding.UTF8.GetString(frame.Payload));
        if (frame.Tag != tag)
            throw new RuntimeException($"container init sent '{(char)frame.Tag}' where '{(char)tag}' was expected");
        return frame.Payload;
    }

    static void WriteProcFile(int pid, string file, string content)
    {
        try
        {
            Libc.WriteFile($"/proc/{pid}/{file}", content);
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"cannot write {file} ({content.Replace('\n', ';').TrimEnd(';')}): {e.Message}", e);
        }
    }
}
