using System.Runtime.InteropServices;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Protocol;

namespace Moat.Runtime.Create;

/// <summary>
/// Starts the init stage through the native helper and walks it through the runtime's side of the
/// stage protocol (Protocol/README.md): id maps, the forked pid, the InitMessage, the cgroups, and
/// the init's reports until it has set everything up. Used by create (new namespaces) and exec
/// (every namespace joined).
/// </summary>
public static class InitSpawner
{
    /// <summary>Returns the init's pid, a pidfd for it, and the open channel (the caller sends StateSaved).</summary>
    /// <param name="bindSources">
    /// Bind mount sources the runtime opens in the container's mount namespace once the helper made
    /// it (<see cref="StageFrame.MountNamespace"/>), and sends after the config (a container with a
    /// user namespace, see BindSources).
    /// </param>
    /// <param name="setUpCgroupsAfterClone">
    /// Cgroup work that create leaves until after the clone on hosts with v1 hierarchies; it runs
    /// while the init starts up, before the init is moved into its cgroups.
    /// </param>
    public static unsafe (int Pid, FileDescriptor Pidfd, SyncChannel Channel, FileDescriptor? Console) Spawn(Spec spec, NamespacePlan plan, ICgroupDriver cgroups, ContainerCgroup cgroup,
        IReadOnlyList<int> descriptorsForInit, InitMessage message, int preserveFds, string cacheDirectory,
        Action? setUpCgroupsAfterClone = null, Action<int>? atHooksPoint = null, BindSources? bindSources = null, IdmapNamespaces? idmaps = null)
    {
        var (runtimeEnd, childEnd) = Libc.SocketPair();
        var channel = new SyncChannel(runtimeEnd);
        using var binary = SealedBinary.Open(cacheDirectory + "/empty");
        // On a pure v2 host the init is born in its cgroup (CLONE_INTO_CGROUP). Where there are v1
        // hierarchies it joins every hierarchy, the unified one too, by cgroup.procs after the clone:
        // the migration warm-up may hold cgroup_mutex, which CLONE_INTO_CGROUP would wait for.
        var bornInCgroup = cgroup.Host.IsPureV2;
        using var unified = bornInCgroup ? cgroup.OpenUnified() : null;
        // A joined mount namespace is entered by the re-executed binary itself (native/spawn.c's
        // constructor): the container's root has no loader for it. All other joins happen before exec.
        var joins = plan.Joins.Where(j => j.Type != NamespaceType.Mount).ToList();
        var joinFds = joins.Select(j => Libc.Open(j.Path, Libc.O_RDONLY)).ToList();
        var mountJoin = plan.Joins.FirstOrDefault(j => j.Type == NamespaceType.Mount);
        using var mountNamespace = mountJoin.Path is { } mountPath ? Libc.Open(mountPath, Libc.O_RDONLY) : null;
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

            List<int> kept = [childEnd.Fd, .. descriptorsForInit, .. Enumerable.Range(3, preserveFds)];
            if (mountNamespace is not null)
                kept.Add(mountNamespace.Fd);
            var keepCount = kept.Count;
            var keep = stackalloc int[keepCount];
            for (var i = 0; i < keepCount; i++)
                keep[i] = kept[i];
            List<string> environment = [$"{InitEnvironment.SyncFdVariable}={childEnd.Fd}"];
            if (mountNamespace is not null)
                environment.Add($"{InitEnvironment.MountNamespaceFdVariable}={mountNamespace.Fd}");
            // The fork into a joined or unshared pid namespace comes after the exec of the protected
            // binary (native/spawn.c's constructor): the container never sees a process that runs the
            // moat binary as the host has it (CVE-2019-5736).
            if (plan.ForkAfter)
                environment.Add($"{InitEnvironment.ForkVariable}=1");

            var request = new SpawnRequest
            {
                CloneFlags = plan.CloneFlags,
                UnshareFlags = plan.UnshareFlags,
                LateUnshareFlags = plan.LateUnshareFlags,
                JoinCount = joinFds.Count,
                SyncFd = childEnd.Fd,
                RuntimeFd = runtimeEnd.Fd,
                ExecFd = binary.Fd,
                CgroupFd = unified?.Fd ?? -1,
                BecomeRoot = plan.BecomeRoot ? 1 : 0,
                NewTime = plan.NewTime ? 1 : 0,
                SendMountNamespace = bindSources is not null && mountNamespace is null ? 1 : 0,
                KeepCount = keepCount,
                KeepFds = keep,
                TimensOffsets = NamespacePlan.FormatTimeOffsets(spec.Linux?.TimeOffsets) is { } t ? (byte*)Utf8(t) : null,
                Argv = Array("moat", "init"),
                Envp = Array([.. environment]),
            };
            for (var i = 0; i < joinFds.Count; i++)
            {
                request.JoinFds[i] = joinFds[i].Fd;
                request.JoinTypes[i] = NamespaceType.GetCloneFlag(joins[i].Type);
                request.JoinNames[i] = Utf8($"setns {joins[i].Path}");
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
            // 1. The child has its namespaces: give it id maps, then let it go.
            channel.ReceiveReadyForSetup();
            if (plan.NewUser)
                IdMapWriter.Write(childPid, spec.Linux?.UidMappings, spec.Linux?.GidMappings);
            channel.SendGo();

            // The container's mount namespace exists now: open the bind sources in it while the init
            // execs and starts up (a joined one is the namespace this process opened by its path).
            if (bindSources is not null)
            {
                using var received = mountNamespace is null ? channel.ReceiveMountNamespace() : null;
                bindSources.Open(received ?? mountNamespace!, spec.Mounts ?? [], message.Bundle, idmaps!);
            }

            // 2. With a joined pid namespace the helper forked once more: the init is its child.
            var initPid = childPid;
            if (plan.ForkAfter)
            {
                initPid = channel.ReceivePid();
                Libc.WaitExitCode(pidfd);
                pidfd.Dispose();
                pidfd = Libc.PidfdOpen(initPid);
            }

            // 3. The init stage runs (managed code, inside the namespaces): send it the config, and
            // its pid as we see it, which in its own pid namespace it cannot learn.
            message.HostPid = initPid;
            channel.SendConfig(message, bindSources?.Opened);
            bindSources?.Dispose();

            // 4. Its cgroups: the v1 ones, and the unified one unless clone3 joined it (on a v1 host
            // create makes the cgroups only now, see ContainerCreator). There the first move after a
            // quiet spell waits an RCU grace period in the kernel (10-25 ms here); the init's exec
            // and start-up run meanwhile, and it waits for Placed only before it makes its cgroup
            // namespace, mounts cgroupfs or lets anything run in the container.
            try
            {
                setUpCgroupsAfterClone?.Invoke();
                cgroups.AddProcess(cgroup, initPid, includeUnified: !bornInCgroup);
                channel.SendPlaced();
            }
            catch (Exception e) when (e is RuntimeException or SyscallException && ErrorOfExitedInit(channel, pidfd) is { } initError)
            {
                // The init failed on its own meanwhile (a bad mount, say) and the move or the
                // Placed frame then failed for want of a process: its error says what is wrong.
                throw new RuntimeException(initError);
            }
            FileDescriptor? console = null;
            while (true)
            {
                var report = channel.ReceiveInitReport();
                if (report.Frame == StageFrame.HooksPoint && message.RuntimeHooks)
                {
                    // The namespaces and mounts exist, pivot_root has not happened: prestart and createRuntime.
                    atHooksPoint?.Invoke(initPid);
                    channel.SendHooksDone();
                }
                else if (report.Frame == StageFrame.Console && console is null)
                    console = report.Console;
                else if (report.Frame == StageFrame.Created)
                    return (initPid, pidfd, channel, console);
                else
                {
                    report.Console?.Dispose();
                    throw SyncChannel.OutOfTurn(report.Frame);
                }
            }
        }
        catch
        {
            Libc.PidfdSendSignal(pidfd, Libc.SIGKILL);
            pidfd.Dispose();
            channel.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The error the init sent before it exited; null while it lives (reading would then block).
    /// It is given a moment: a dying process closes its socket before its pidfd turns readable.
    /// </summary>
    static unsafe string? ErrorOfExitedInit(SyncChannel channel, FileDescriptor pidfd)
    {
        var poll = new Libc.PollFd { Fd = pidfd.Fd, Events = Libc.POLLIN };
        if (Libc.poll(&poll, 1, 200) <= 0)
            return null;
        return channel.ReceiveErrorIfAny();
    }
}
