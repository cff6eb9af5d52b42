using System.Diagnostics;
using Moat.Oci;
using Process = System.Diagnostics.Process;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Lifecycle;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>
/// The cgroup v2 driver on this host's real cgroup2 mount (on a hybrid host, /sys/fs/cgroup/unified,
/// which serves hugetlb and the core files; on a pure v2 host, /sys/fs/cgroup). Containers run through
/// bin/moat-runtime; the device program and cgroup.freeze, which a hybrid host serves through v1, are driven
/// in-process from the runtime library against a cgroup the test makes and removes.
/// </summary>
public sealed class UnifiedCgroupTests
{
    static readonly CgroupHierarchy Unified = CgroupHost.Detect().Unified
        ?? throw new InvalidOperationException("this host has no cgroup2 mount; the v2 driver cannot be tested here");

    static string ContainerDirectory(string id) => Unified.DirectoryFor("/moat/" + id);

    static string[] Lines(string file) => File.ReadAllLines(file).Where(l => l.Length > 0).ToArray();

    [Fact]
    public void InitIsBornInItsCgroupAndListedInCgroupProcs()
    {
        using var bundle = new TestBundle("sh", "-c", "sleep 1000");
        var id = bundle.NewId("v2procs");
        bundle.Create(id).Ok();
        var pid = TestBundle.State(id).GetProperty("pid").GetInt32();

        // Before start, the init has run no user code, yet it is already in the unified cgroup
        // (CLONE_INTO_CGROUP), and the kernel's view of it says so.
        Assert.Contains(pid.ToString(), Lines(Path.Combine(ContainerDirectory(id), "cgroup.procs")));
        Assert.Contains($"0::/moat/{id}", Lines($"/proc/{pid}/cgroup"));

        MoatCli.Run("start", id).Ok();
        MoatCli.Run("delete", "--force", id).Ok();
        Assert.False(Directory.Exists(ContainerDirectory(id)));
    }

    [Fact]
    public void HugetlbLimitIsWrittenWhereTheControllerLives()
    {
        var controllers = File.ReadAllText(Path.Combine(Unified.MountPoint, "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries);
        Assert.True(controllers.Contains("hugetlb") || CgroupHost.Detect().V1("hugetlb") is not null,
            "the host has no hugetlb controller at all");
        using var bundle = new TestBundle("sh", "-c", "sleep 1000");
        bundle.Spec.Linux!.Resources = new LinuxResources { HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 4 << 20 }] };
        var id = bundle.NewId("v2huge");
        bundle.Create(id).Ok();
        var file = controllers.Contains("hugetlb")
            ? Path.Combine(ContainerDirectory(id), "hugetlb.2MB.max")
            : $"/sys/fs/cgroup/hugetlb/moat/{id}/hugetlb.2MB.limit_in_bytes";
        Assert.Equal((4 << 20).ToString(), File.ReadAllText(file).Trim());

        // update reaches the same file.
        MoatCli.Run("start", id).Ok();
        var resources = Path.Combine(bundle.Directory, "resources.json");
        File.WriteAllText(resources, """{"hugepageLimits":[{"pageSize":"2MB","limit":8388608}]}""");
        MoatCli.Run("update", "--resources", resources, id).Ok();
        Assert.Equal("8388608", File.ReadAllText(file).Trim());
    }

    [Fact]
    public void KillAllEmptiesTheCgroup()
    {
        using var bundle = new TestBundle("sh", "-c", "sleep 1000 & sleep 1000 & (sleep 1000 &) ; wait");
        var id = bundle.NewId("v2kill");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        var procs = Path.Combine(ContainerDirectory(id), "cgroup.procs");
        Wait.Until(() => Lines(procs).Length == 4, "four processes in the cgroup");
        Assert.True(File.Exists(Path.Combine(ContainerDirectory(id), "cgroup.kill")), "this kernel has no cgroup.kill");

        // KILL to the whole cgroup: one write to cgroup.kill, which also reaches the reparented sleep.
        MoatCli.Run("kill", "--all", id, "KILL").Ok();
        Wait.Until(() => Lines(procs).Length == 0, "an empty cgroup");
        Wait.Until(() => TestBundle.Status(id) == "stopped", "the container to stop");
        Assert.Contains("populated 0", Lines(Path.Combine(ContainerDirectory(id), "cgroup.events")));
    }

    [Fact]
    public void DeviceProgramDeniesAndAllows()
    {
        using var cgroup = new ScratchCgroup("devices");
        // Allow only c 1:3 (/dev/null), read-write-mknod; everything else is denied.
        var policy = DeviceProgram.Emulate([(false, "a"), (true, "c 1:3 rwm")]);
        DeviceProgram.Attach(cgroup.Directory, DeviceProgram.Compile(policy));

        var output = cgroup.Sh("echo x > /dev/null && echo null-allowed; head -c1 /dev/zero >/dev/null 2>&1 && echo zero-allowed || echo zero-denied");
        Assert.Equal("null-allowed\nzero-denied\n", output);
    }

    [Fact]
    public void DeviceProgramWithoutDenyAllAllowsOtherDevices()
    {
        using var cgroup = new ScratchCgroup("devallow");
        // An allow-all list with one deny: /dev/zero is refused, /dev/null is still allowed.
        var policy = DeviceProgram.Emulate([(true, "a"), (false, "c 1:5 rwm")]);
        DeviceProgram.Attach(cgroup.Directory, DeviceProgram.Compile(policy));

        var output = cgroup.Sh("echo x > /dev/null && echo null-allowed; head -c1 /dev/zero >/dev/null 2>&1 && echo zero-allowed || echo zero-denied");
        Assert.Equal("null-allowed\nzero-denied\n", output);
    }

    [Fact]
    public void CgroupFreezeFreezesAndThaws()
    {
        using var cgroup = new ScratchCgroup("freeze");
        var child = cgroup.Start("while :; do :; done");
        string[] directories = [cgroup.Directory];

        Freezer.Set(directories, frozen: true);
        Assert.True(Freezer.IsFrozen(directories));
        Assert.Contains("frozen 1", Lines(Path.Combine(cgroup.Directory, "cgroup.events")));
        // The kernel parks a frozen task in the freezer's own sleep.
        Wait.Until(() => File.ReadAllText($"/proc/{child.Id}/wchan") is "do_freezer_trap" or "get_signal", "the task to be parked by the freezer");

        Freezer.Set(directories, frozen: false);
        Assert.False(Freezer.IsFrozen(directories));
        Assert.Contains("frozen 0", Lines(Path.Combine(cgroup.Directory, "cgroup.events")));
        Assert.False(child.HasExited);
    }

    /// <summary>A cgroup of the test's own under the cgroup2 mount, with its processes killed and the directory removed on dispose.</summary>
    sealed class ScratchCgroup : IDisposable
    {
        readonly List<Process> processes = [];

        public ScratchCgroup(string name)
        {
            Directory = Unified.DirectoryFor($"/moat-it-{Environment.ProcessId}-{name}");
            System.IO.Directory.CreateDirectory(Directory);
        }

        public string Directory { get; }

        /// <summary>A busybox shell that moves itself into the cgroup before it runs the script.</summary>
        ProcessStartInfo ShellIn(string script) => new(TestBundle.Busybox, ["sh", "-c", $"echo $$ > {Directory}/cgroup.procs && {script}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        public string Sh(string script)
        {
            using var process = Process.Start(ShellIn(script))!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {process.StandardError.ReadToEnd()}");
            return output;
        }

        public Process Start(string script)
        {
            var process = Process.Start(ShellIn(script))!;
            processes.Add(process);
            Wait.Until(() => Lines(Path.Combine(Directory, "cgroup.procs")).Contains(process.Id.ToString()), "the shell to enter its cgroup");
            return process;
        }

        public void Dispose()
        {
            try
            {
                File.WriteAllText(Path.Combine(Directory, "cgroup.freeze"), "0");
                File.WriteAllText(Path.Combine(Directory, "cgroup.kill"), "1");
            }
            catch (IOException)
            {
                // Already gone.
            }
            foreach (var process in processes)
            {
                process.WaitForExit(10_000);
                process.Dispose();
            }
            Wait.Until(() => !File.Exists(Path.Combine(Directory, "cgroup.events"))
                             || Lines(Path.Combine(Directory, "cgroup.events")).Contains("populated 0"), "an empty scratch cgroup");
            System.IO.Directory.Delete(Directory);
        }
    }
}
