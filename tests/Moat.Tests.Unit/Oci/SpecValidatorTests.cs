using Moat.Oci;
using Moat.Oci.Diagnostics;
using Xunit;

namespace Moat.Tests.Unit.Oci;

public sealed class SpecValidatorTests : IDisposable
{
    private readonly TempBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    /// <summary>A small valid spec; each test changes one thing.</summary>
    private static Spec ValidSpec() => new()
    {
        OciVersion = "1.2.0",
        Root = new Root { Path = "rootfs" },
        Process = new Process
        {
            Args = ["/bin/true"],
            Cwd = "/",
            Env = ["PATH=/bin"],
        },
        Linux = new Linux
        {
            Namespaces =
            [
                new LinuxNamespace { Type = "pid" },
                new LinuxNamespace { Type = "mount" },
                new LinuxNamespace { Type = "ipc" },
                new LinuxNamespace { Type = "uts" },
                new LinuxNamespace { Type = "network" },
            ],
        },
    };

    private void AssertValid(Action<Spec> change, bool requireProcess = true)
    {
        var spec = ValidSpec();
        change(spec);
        SpecValidator.Validate(spec, _bundle.Directory, requireProcess);
    }

    private void AssertInvalid(Action<Spec> change, string expectedMessage, bool requireProcess = true)
    {
        var spec = ValidSpec();
        change(spec);
        var error = Assert.Throws<SpecException>(() => SpecValidator.Validate(spec, _bundle.Directory, requireProcess));
        Assert.Equal(expectedMessage, error.Message);
    }

    private static void SetNamespaces(Spec spec, params string[] types) =>
        spec.Linux!.Namespaces = types.Select(t => new LinuxNamespace { Type = t }).ToList();

    private static void AddUserNamespace(Spec spec)
    {
        spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "user" });
        spec.Linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }];
        spec.Linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }];
    }

    [Fact]
    public void TheBaseSpecIsValid() => AssertValid(_ => { });

    // ---- ociVersion ----

    [Fact]
    public void OciVersionMustBeSet() => AssertInvalid(s => s.OciVersion = "", "ociVersion: must be set");

    [Fact]
    public void OciVersionMustBeSemVer() =>
        AssertInvalid(s => s.OciVersion = "1.2", "ociVersion: \"1.2\" is not a valid semantic version");

    [Fact]
    public void OciVersionMajorMustBeOne() =>
        AssertInvalid(s => s.OciVersion = "2.0.0", "ociVersion: unsupported version \"2.0.0\": only 1.x is supported");

    [Theory]
    [InlineData("1.0.0")]
    [InlineData("1.0.2-dev")]
    [InlineData("1.3.0")]
    public void AnyOneDotXVersionIsAccepted(string version) => AssertValid(s => s.OciVersion = version);

    // ---- root ----

    [Fact]
    public void RootMustBeSet() => AssertInvalid(s => s.Root = null, "root: must be set");

    [Fact]
    public void RootPathMustBeSet() => AssertInvalid(s => s.Root!.Path = "", "root.path: must be set");

    [Fact]
    public void RootfsMustExistRelativeToTheBundle()
    {
        var expected = Path.Combine(_bundle.Directory, "missing");
        AssertInvalid(s => s.Root!.Path = "missing", $"root.path: rootfs {expected} does not exist");
    }

    [Fact]
    public void AbsoluteRootPathIsUsedAsIs() =>
        AssertValid(s => s.Root!.Path = Path.Combine(_bundle.Directory, "rootfs"));

    // ---- process ----

    [Fact]
    public void ProcessIsRequiredWhenAsked() => AssertInvalid(s => s.Process = null, "process: must be set");

    [Fact]
    public void ProcessMayBeAbsentWhenNotRequired() => AssertValid(s => s.Process = null, requireProcess: false);

    [Fact]
    public void ArgsMustNotBeEmpty() => AssertInvalid(s => s.Process!.Args = [], "process.args: must not be empty");

    [Fact]
    public void CwdMustBeSet() => AssertInvalid(s => s.Process!.Cwd = "", "process.cwd: must be set");

    [Fact]
    public void CwdMustBeAbsolute() =>
        AssertInvalid(s => s.Process!.Cwd = "home", "process.cwd: must be an absolute path, got \"home\"");

    [Fact]
    public void EnvEntriesNeedAnEqualsSign() =>
        AssertInvalid(s => s.Process!.Env = ["A=1", "JUSTNAME"], "process.env[1]: \"JUSTNAME\" is not of the form KEY=VALUE");

    [Fact]
    public void EnvEntriesNeedAName() =>
        AssertInvalid(s => s.Process!.Env = ["=x"], "process.env[0]: \"=x\" has an empty variable name");

    [Fact]
    public void EnvEntriesMayHaveEmptyValues() => AssertValid(s => s.Process!.Env = ["EMPTY=", "A=b=c"]);

    /// <summary>
    /// runtime-spec 1.1+: a capability that cannot be mapped to the kernel MUST be a warning and
    /// SHOULD NOT fail the container; the runtime warns and drops it (CapabilitySetsTests), as runc and crun do.
    /// </summary>
    [Fact]
    public void UnknownCapabilitiesAreNotAValidationError() =>
        AssertValid(s => s.Process!.Capabilities = new LinuxCapabilities { Ambient = ["CAP_KILL", "CAP_FLY"], Bounding = ["cap_kill"] });

    [Fact]
    public void EveryKnownCapabilityIsAccepted() =>
        AssertValid(s => s.Process!.Capabilities = new LinuxCapabilities
        {
            Bounding = [.. Capabilities.Names],
            Effective = [.. Capabilities.Names],
            Inheritable = [.. Capabilities.Names],
            Permitted = [.. Capabilities.Names],
            Ambient = [.. Capabilities.Names],
        });

    [Fact]
    public void RlimitTypesMustBeKnown() =>
        AssertInvalid(
            s => s.Process!.Rlimits = [new PosixRlimit { Type = "RLIMIT_FOO", Soft = 1, Hard = 1 }],
            "process.rlimits[0].type: unknown rlimit type \"RLIMIT_FOO\"");

    [Fact]
    public void RlimitTypesMustNotRepeat() =>
        AssertInvalid(
            s => s.Process!.Rlimits =
            [
                new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 1, Hard = 1 },
                new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 2, Hard = 2 },
            ],
            "process.rlimits[1].type: duplicate rlimit type \"RLIMIT_NOFILE\"");

    [Fact]
    public void RlimitSoftMustNotExceedHard() =>
        AssertInvalid(
            s => s.Process!.Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 2048, Hard = 1024 }],
            "process.rlimits[0]: soft limit 2048 exceeds hard limit 1024");

    [Fact]
    public void RlimitsWithinBoundsAreAccepted() =>
        AssertValid(s => s.Process!.Rlimits =
        [
            new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 1024, Hard = 1024 },
            new PosixRlimit { Type = "RLIMIT_CORE", Soft = 0, Hard = Rlimits.Infinity },
        ]);

    [Fact]
    public void OomScoreAdjMustBeInKernelRange() =>
        AssertInvalid(s => s.Process!.OomScoreAdj = 1001, "process.oomScoreAdj: 1001 is outside the range -1000..1000");

    [Fact]
    public void OomScoreAdjAtTheLimitIsAccepted() => AssertValid(s => s.Process!.OomScoreAdj = -1000);

    [Fact]
    public void SchedulerPolicyMustBeKnown() =>
        AssertInvalid(s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_FAST" },
            "process.scheduler.policy: unknown policy \"SCHED_FAST\"");

    [Fact]
    public void SchedulerPriorityNeedsARealtimePolicy() =>
        AssertInvalid(s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_OTHER", Priority = 10 },
            "process.scheduler.priority: 10 can only be set with SCHED_FIFO or SCHED_RR");

    [Fact]
    public void SchedulerDeadlineParametersNeedTheDeadlinePolicy() =>
        AssertInvalid(s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_FIFO", Runtime = 100 },
            "process.scheduler: runtime, deadline and period can only be set with SCHED_DEADLINE");

    [Fact]
    public void SchedulerNiceMustBeInRange() =>
        AssertInvalid(s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_OTHER", Nice = 20 },
            "process.scheduler.nice: 20 is outside the range -20..19");

    [Fact]
    public void SchedulerFlagsMustBeKnown() =>
        AssertInvalid(s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_OTHER", Flags = ["SCHED_FLAG_X"] },
            "process.scheduler.flags[0]: unknown flag \"SCHED_FLAG_X\"");

    [Fact]
    public void ARealtimeSchedulerIsAccepted() =>
        AssertValid(s => s.Process!.Scheduler = new Scheduler { Policy = "SCHED_RR", Priority = 50, Flags = ["SCHED_FLAG_RESET_ON_FORK"] });

    [Fact]
    public void IoPriorityClassMustBeKnown() =>
        AssertInvalid(s => s.Process!.IoPriority = new IoPriority { Class = "IOPRIO_CLASS_NONE" },
            "process.ioPriority.class: unknown class \"IOPRIO_CLASS_NONE\"");

    [Fact]
    public void IoPriorityLevelMustBeZeroToSeven() =>
        AssertInvalid(s => s.Process!.IoPriority = new IoPriority { Class = "IOPRIO_CLASS_BE", Priority = 8 },
            "process.ioPriority.priority: 8 is outside the range 0..7");

    [Fact]
    public void AValidIoPriorityIsAccepted() =>
        AssertValid(s => s.Process!.IoPriority = new IoPriority { Class = "IOPRIO_CLASS_IDLE", Priority = 7 });

    [Theory]
    [InlineData("a-b")]
    [InlineData("3-1")]
    [InlineData("1,,2")]
    public void ExecCpuAffinityMustBeACpuList(string list) =>
        AssertInvalid(s => s.Process!.ExecCpuAffinity = new CpuAffinity { Initial = list },
            $"process.execCPUAffinity.initial: \"{list}\" is not a CPU list like \"0-3,7\"");

    [Fact]
    public void ACpuListIsAccepted() =>
        AssertValid(s => s.Process!.ExecCpuAffinity = new CpuAffinity { Initial = "0", Final = "0-3, 7" });

    // ---- uts ----

    [Fact]
    public void HostnameNeedsAUtsNamespace() =>
        AssertInvalid(s => { s.Hostname = "box"; SetNamespaces(s, "mount"); },
            "hostname: setting the hostname requires a uts namespace");

    [Fact]
    public void DomainnameNeedsAUtsNamespace() =>
        AssertInvalid(s => { s.Domainname = "example.org"; SetNamespaces(s, "mount"); },
            "domainname: setting the domainname requires a uts namespace");

    [Fact]
    public void HostnameIsAcceptedInAJoinedUtsNamespace() =>
        AssertValid(s =>
        {
            s.Hostname = "box";
            s.Linux!.Namespaces = [new LinuxNamespace { Type = "uts", Path = "/proc/1/ns/uts" }];
        });

    // ---- mounts ----

    [Fact]
    public void MountDestinationMustBeSet() =>
        AssertInvalid(s => s.Mounts = [new Mount { Destination = "/proc", Type = "proc" }, new Mount { Type = "tmpfs" }],
            "mounts[1].destination: must be set");

    [Fact]
    public void RelativeMountDestinationIsAcceptedWithAWarning()
    {
        var spec = ValidSpec();
        spec.Mounts = [new Mount { Destination = "data", Type = "tmpfs", Source = "tmpfs" }];

        SpecValidator.Validate(spec, _bundle.Directory);

        var warning = Assert.Single(SpecValidator.GetWarnings(spec));
        Assert.StartsWith("mounts[0].destination: relative path \"data\" is deprecated", warning);
    }

    [Fact]
    public void IdMappedMountsNeedBothMappings() =>
        AssertInvalid(s => s.Mounts =
            [
                new Mount
                {
                    Destination = "/data", Source = "/srv", Type = "bind", Options = ["rbind"],
                    UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1000, Size = 1 }],
                },
            ],
            "mounts[0]: an id-mapped mount needs both uidMappings and gidMappings");

    [Fact]
    public void IdMappedMountsMustBeBindMounts() =>
        AssertInvalid(s => s.Mounts =
            [
                new Mount
                {
                    Destination = "/tmp", Source = "tmpfs", Type = "tmpfs",
                    UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1000, Size = 1 }],
                    GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1000, Size = 1 }],
                },
            ],
            "mounts[0]: id-mapped mounts are only supported for bind mounts");

    [Fact]
    public void IdMappedBindMountsAreAccepted() =>
        AssertValid(s => s.Mounts =
            [
                new Mount
                {
                    Destination = "/data", Source = "/srv", Options = ["rbind", "ro"],
                    UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1000, Size = 1 }],
                    GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1000, Size = 1 }],
                },
            ]);

    // ---- hooks ----

    [Fact]
    public void HookPathMustBeAbsolute() =>
        AssertInvalid(s => s.Hooks = new Hooks { Poststop = [new Hook { Path = "cleanup.sh" }] },
            "hooks.poststop[0].path: must be an absolute path, got \"cleanup.sh\"");

    [Fact]
    public void HookPathMustBeSet() =>
        AssertInvalid(s => s.Hooks = new Hooks { CreateRuntime = [new Hook { Path = "/bin/a" }, new Hook()] },
            "hooks.createRuntime[1].path: must be set");

    [Fact]
    public void HookTimeoutMustBePositive() =>
        AssertInvalid(s => s.Hooks = new Hooks { StartContainer = [new Hook { Path = "/bin/a", Timeout = 0 }] },
            "hooks.startContainer[0].timeout: must be greater than zero, got 0");

    [Fact]
    public void ValidHooksAreAccepted() =>
        AssertValid(s => s.Hooks = new Hooks
        {
            Prestart = [new Hook { Path = "/bin/a" }],
            CreateContainer = [new Hook { Path = "/bin/b", Args = ["b", "-x"], Timeout = 3 }],
        });

    // ---- namespaces ----

    [Fact]
    public void NamespaceTypesMustBeKnown() =>
        AssertInvalid(s => SetNamespaces(s, "pid", "mount", "foo"),
            "linux.namespaces[2].type: unknown namespace type \"foo\"");

    [Fact]
    public void NamespaceTypesMustNotRepeat() =>
        AssertInvalid(s => SetNamespaces(s, "pid", "mount", "pid"),
            "linux.namespaces[2].type: duplicate namespace type \"pid\"");

    [Fact]
    public void NamespacePathsMustBeAbsolute() =>
        AssertInvalid(s => s.Linux!.Namespaces = [new LinuxNamespace { Type = "network", Path = "netns/blue" }],
            "linux.namespaces[0].path: must be an absolute path, got \"netns/blue\"");

    [Fact]
    public void AllNamespaceTypesAreAccepted() =>
        AssertValid(s =>
        {
            SetNamespaces(s, "pid", "network", "mount", "ipc", "uts", "cgroup", "time");
            AddUserNamespace(s);
        });

    // ---- user namespace ----

    [Fact]
    public void IdMappingsNeedAUserNamespace() =>
        AssertInvalid(s => s.Linux!.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1000, Size = 1 }],
            "linux.uidMappings: id mappings require a user namespace");

    [Fact]
    public void ANewUserNamespaceNeedsUidMappings() =>
        AssertInvalid(s => { AddUserNamespace(s); s.Linux!.UidMappings = null; },
            "linux.uidMappings: a new user namespace requires uid mappings");

    [Fact]
    public void ANewUserNamespaceNeedsGidMappings() =>
        AssertInvalid(s => { AddUserNamespace(s); s.Linux!.GidMappings = []; },
            "linux.gidMappings: a new user namespace requires gid mappings");

    [Fact]
    public void ANewUserNamespaceMustMapRoot() =>
        AssertInvalid(s =>
            {
                AddUserNamespace(s);
                s.Linux!.UidMappings = [new LinuxIdMapping { ContainerId = 1, HostId = 100000, Size = 1000 }];
            },
            "linux.uidMappings: container root (uid 0) is not mapped");

    [Fact]
    public void MappingSizeMustBePositive() =>
        AssertInvalid(s =>
            {
                AddUserNamespace(s);
                s.Linux!.GidMappings!.Add(new LinuxIdMapping { ContainerId = 70000, HostId = 1, Size = 0 });
            },
            "linux.gidMappings[1].size: must be greater than zero");

    [Fact]
    public void TheProcessUserMustBeMapped() =>
        AssertInvalid(s =>
            {
                AddUserNamespace(s);
                s.Process!.User = new User { Uid = 70000, Gid = 0 };
            },
            "process.user.uid: uid 70000 is not mapped in the user namespace");

    [Fact]
    public void AdditionalGroupsMustBeMapped() =>
        AssertInvalid(s =>
            {
                AddUserNamespace(s);
                s.Process!.User = new User { Uid = 1000, Gid = 1000, AdditionalGids = [10, 65536] };
            },
            "process.user.additionalGids[1]: gid 65536 is not mapped in the user namespace");

    [Fact]
    public void AMappedUserIsAccepted() =>
        AssertValid(s =>
        {
            AddUserNamespace(s);
            s.Process!.User = new User { Uid = 65535, Gid = 1000, AdditionalGids = [0, 10] };
        });

    [Fact]
    public void JoiningAUserNamespaceNeedsNoMappings() =>
        AssertValid(s => s.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "user", Path = "/proc/42/ns/user" }));

    // ---- time namespace ----

    [Fact]
    public void TimeOffsetsNeedATimeNamespace() =>
        AssertInvalid(s => s.Linux!.TimeOffsets = new() { ["monotonic"] = new LinuxTimeOffset { Secs = 10 } },
            "linux.timeOffsets: requires a time namespace");

    [Fact]
    public void TimeOffsetsCannotBeAppliedToAJoinedNamespace() =>
        AssertInvalid(s =>
            {
                s.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "time", Path = "/proc/42/ns/time" });
                s.Linux.TimeOffsets = new() { ["boottime"] = new LinuxTimeOffset { Secs = 10 } };
            },
            "linux.timeOffsets: cannot be set when joining an existing time namespace");

    [Fact]
    public void TimeOffsetClocksMustBeKnown() =>
        AssertInvalid(s =>
            {
                s.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "time" });
                s.Linux.TimeOffsets = new() { ["realtime"] = new LinuxTimeOffset { Secs = 10 } };
            },
            "linux.timeOffsets: unknown clock \"realtime\" (expected monotonic or boottime)");

    [Fact]
    public void TimeOffsetNanosecondsMustBeBelowOneSecond() =>
        AssertInvalid(s =>
            {
                s.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "time" });
                s.Linux.TimeOffsets = new() { ["monotonic"] = new LinuxTimeOffset { Nanosecs = 1_000_000_000 } };
            },
            "linux.timeOffsets.monotonic.nanosecs: 1000000000 must be less than 1000000000");

    [Fact]
    public void TimeOffsetsInANewTimeNamespaceAreAccepted() =>
        AssertValid(s =>
        {
            s.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "time" });
            s.Linux.TimeOffsets = new()
            {
                ["monotonic"] = new LinuxTimeOffset { Secs = -3600, Nanosecs = 999_999_999 },
                ["boottime"] = new LinuxTimeOffset { Secs = 86400 },
            };
        });

    // ---- devices ----

    [Fact]
    public void DeviceTypeMustBeKnown() =>
        AssertInvalid(s => s.Linux!.Devices = [new LinuxDevice { Type = "x", Path = "/dev/x", Major = 1, Minor = 1 }],
            "linux.devices[0].type: unknown device type \"x\" (expected c, b, u or p)");

    [Fact]
    public void DevicePathMustBeAbsolute() =>
        AssertInvalid(s => s.Linux!.Devices = [new LinuxDevice { Type = "c", Path = "dev/null", Major = 1, Minor = 3 }],
            "linux.devices[0].path: must be an absolute path, got \"dev/null\"");

    [Theory]
    [InlineData("c")]
    [InlineData("b")]
    [InlineData("u")]
    public void DeviceNumbersAreRequiredExceptForFifos(string type) =>
        AssertInvalid(s => s.Linux!.Devices = [new LinuxDevice { Type = type, Path = "/dev/x", Minor = 3 }],
            $"linux.devices[0].major: required for device type {type}");

    [Fact]
    public void DeviceMinorIsRequiredToo() =>
        AssertInvalid(s => s.Linux!.Devices = [new LinuxDevice { Type = "c", Path = "/dev/x", Major = 1 }],
            "linux.devices[0].minor: required for device type c");

    /// <summary>podman passes the host node's whole st_mode (`--device /dev/zero`, `--privileged`): runc accepts it.</summary>
    [Theory]
    [InlineData("c", 0x2000 | 0x1B6)] // 020666
    [InlineData("u", 0x2000 | 0x1B6)]
    [InlineData("b", 0x6000 | 0x1B0)] // 060660
    [InlineData("p", 0x1000 | 0x1A4)] // 010644
    public void DeviceFileModeMayCarryTheMatchingFileType(string type, int fileMode) =>
        AssertValid(s => s.Linux!.Devices = [new LinuxDevice { Type = type, Path = "/dev/x", Major = 1, Minor = 5, FileMode = (uint)fileMode }]);

    [Fact]
    public void DeviceFileModeWithAnotherFileTypeIsRefused() =>
        AssertInvalid(s => s.Linux!.Devices = [new LinuxDevice { Type = "c", Path = "/dev/x", Major = 1, Minor = 3, FileMode = 0x6000 | 0x1B6 }],
            "linux.devices[0].fileMode: 060666 has file type bits 060000, which are not those of device type \"c\" (020000)");

    [Fact]
    public void ValidDevicesAreAccepted() =>
        AssertValid(s => s.Linux!.Devices =
        [
            new LinuxDevice { Type = "c", Path = "/dev/fuse", Major = 10, Minor = 229, FileMode = 0x1B6, Uid = 0, Gid = 0 },
            new LinuxDevice { Type = "p", Path = "/dev/fifo" },
        ]);

    // ---- resources ----

    [Fact]
    public void DeviceRuleTypeMustBeKnown() =>
        AssertInvalid(s => s.Linux!.Resources = new LinuxResources { Devices = [new LinuxDeviceCgroup { Type = "u", Access = "rwm" }] },
            "linux.resources.devices[0].type: unknown device type \"u\" (expected a, b or c)");

    [Fact]
    public void DeviceRuleAccessIsRwm() =>
        AssertInvalid(s => s.Linux!.Resources = new LinuxResources { Devices = [new LinuxDeviceCgroup { Access = "rwx" }] },
            "linux.resources.devices[0].access: \"rwx\" may only contain r, w and m");

    [Fact]
    public void SwappinessIsAPercentage() =>
        AssertInvalid(s => s.Linux!.Resources = new LinuxResources { Memory = new LinuxMemory { Swappiness = 101 } },
            "linux.resources.memory.swappiness: 101 is outside the range 0..100");

    [Fact]
    public void CpuIdleIsZeroOrOne() =>
        AssertInvalid(s => s.Linux!.Resources = new LinuxResources { Cpu = new LinuxCpu { Idle = 2 } },
            "linux.resources.cpu.idle: must be 0 or 1, got 2");

    [Fact]
    public void HugepageSizesLookLikeSizes() =>
        AssertInvalid(s => s.Linux!.Resources = new LinuxResources { HugepageLimits = [new LinuxHugepageLimit { PageSize = "2mb", Limit = 1 }] },
            "linux.resources.hugepageLimits[0].pageSize: \"2mb\" is not a size like 2MB or 1GB");

    [Fact]
    public void WeightDevicesNeedAWeight() =>
        AssertInvalid(s => s.Linux!.Resources = new LinuxResources { BlockIo = new LinuxBlockIo { WeightDevice = [new LinuxWeightDevice { Major = 8 }] } },
            "linux.resources.blockIO.weightDevice[0]: at least one of weight or leafWeight must be set");

    [Fact]
    public void RdmaLimitsNeedAValue() =>
        AssertInvalid(s => s.Linux!.Resources = new LinuxResources { Rdma = new() { ["mlx5_1"] = new LinuxRdma() } },
            "linux.resources.rdma[\"mlx5_1\"]: at least one of hcaHandles or hcaObjects must be set");

    [Fact]
    public void UnifiedKeysAreFileNames() =>
        AssertInvalid(s => s.Linux!.Resources = new LinuxResources { Unified = new() { ["../cpu.max"] = "max" } },
            "linux.resources.unified[\"../cpu.max\"]: must be a cgroup interface file name");

    [Fact]
    public void FullResourcesAreAccepted() =>
        AssertValid(s => s.Linux!.Resources = new LinuxResources
        {
            Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }, new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rw" }],
            Memory = new LinuxMemory { Limit = -1, Swap = -1, Swappiness = 0 },
            Cpu = new LinuxCpu { Quota = -1, Period = 100000, Idle = 0 },
            Pids = new LinuxPids { Limit = -1 },
            BlockIo = new LinuxBlockIo { WeightDevice = [new LinuxWeightDevice { Major = 8, LeafWeight = 10 }] },
            HugepageLimits = [new LinuxHugepageLimit { PageSize = "1GB", Limit = 0 }],
            Rdma = new() { ["mlx5_1"] = new LinuxRdma { HcaObjects = 10 } },
            Unified = new() { ["memory.high"] = "max" },
        });

    // ---- intelRdt ----

    [Fact]
    public void ClosIdIsADirectoryName() =>
        AssertInvalid(s => s.Linux!.IntelRdt = new LinuxIntelRdt { ClosId = "a/b" },
            "linux.intelRdt.closID: \"a/b\" is not a valid resctrl group name");

    [Fact]
    public void MemBwSchemaStartsWithMb() =>
        AssertInvalid(s => s.Linux!.IntelRdt = new LinuxIntelRdt { MemBwSchema = "L3:0=ff" },
            "linux.intelRdt.memBwSchema: must start with \"MB:\" and be a single line");

    [Fact]
    public void ValidIntelRdtIsAccepted() =>
        AssertValid(s => s.Linux!.IntelRdt = new LinuxIntelRdt { ClosId = "guaranteed", L3CacheSchema = "L3:0=7f0", MemBwSchema = "MB:0=20" });

    // ---- sysctl ----

    [Theory]
    [InlineData("kernel.shmmax")]
    [InlineData("kernel.shm_rmid_forced")]
    [InlineData("kernel.msgmni")]
    [InlineData("kernel.sem")]
    [InlineData("fs.mqueue.msg_max")]
    public void IpcSysctlsNeedAnIpcNamespace(string name) =>
        AssertInvalid(s => { SetNamespaces(s, "mount", "network", "uts"); s.Linux!.Sysctl = new() { [name] = "1" }; },
            $"linux.sysctl[\"{name}\"]: requires an ipc namespace");

    [Fact]
    public void NetworkSysctlsNeedANetworkNamespace() =>
        AssertInvalid(s => { SetNamespaces(s, "mount", "ipc"); s.Linux!.Sysctl = new() { ["net.ipv4.ip_forward"] = "1" }; },
            "linux.sysctl[\"net.ipv4.ip_forward\"]: requires a network namespace");

    [Fact]
    public void SlashSeparatedSysctlsAreClassifiedToo() =>
        AssertInvalid(s => { SetNamespaces(s, "mount"); s.Linux!.Sysctl = new() { ["net/ipv4/conf/eth0.100/rp_filter"] = "1" }; },
            "linux.sysctl[\"net/ipv4/conf/eth0.100/rp_filter\"]: requires a network namespace");

    [Fact]
    public void KernelHostnameConflictsWithTheHostnameField() =>
        AssertInvalid(s => s.Linux!.Sysctl = new() { ["kernel.hostname"] = "box" },
            "linux.sysctl[\"kernel.hostname\"]: conflicts with the hostname field; set hostname instead");

    [Fact]
    public void KernelDomainnameMayRepeatTheDomainnameField() =>
        AssertValid(s => { s.Domainname = "example.org"; s.Linux!.Sysctl = new() { ["kernel.domainname"] = "example.org" }; });

    [Fact]
    public void KernelDomainnameThatDiffersFromTheDomainnameFieldIsRefusedNamingBoth() =>
        AssertInvalid(s => { s.Domainname = "example.org"; s.Linux!.Sysctl = new() { ["kernel.domainname"] = "example.com" }; },
            "linux.sysctl[\"kernel.domainname\"]: \"example.com\" conflicts with the domainname field \"example.org\"");

    [Fact]
    public void KernelDomainnameNeedsAUtsNamespace() =>
        AssertInvalid(s => { SetNamespaces(s, "mount"); s.Linux!.Sysctl = new() { ["kernel.domainname"] = "x" }; },
            "linux.sysctl[\"kernel.domainname\"]: requires a uts namespace");

    [Fact]
    public void UserSysctlsNeedAUserNamespace() =>
        AssertInvalid(s => s.Linux!.Sysctl = new() { ["user.max_user_namespaces"] = "0" },
            "linux.sysctl[\"user.max_user_namespaces\"]: requires a user namespace");

    [Fact]
    public void HostWideSysctlsAreRejected() =>
        AssertInvalid(s => s.Linux!.Sysctl = new() { ["vm.swappiness"] = "10" },
            "linux.sysctl[\"vm.swappiness\"]: is not namespaced and cannot be set for a container");

    [Fact]
    public void NamespacedSysctlsAreAccepted() =>
        AssertValid(s =>
        {
            // A joined network namespace counts as the container's own.
            s.Linux!.Namespaces = [new LinuxNamespace { Type = "ipc" }, new LinuxNamespace { Type = "uts" }, new LinuxNamespace { Type = "network", Path = "/run/netns/x" }];
            AddUserNamespace(s);
            s.Linux.Sysctl = new()
            {
                ["kernel.shmmax"] = "1",
                ["fs.mqueue.queues_max"] = "256",
                ["net.core.somaxconn"] = "1024",
                ["net/ipv4/ip_forward"] = "1",
                ["kernel.domainname"] = "example.org",
                ["user.max_user_namespaces"] = "0",
            };
        });

    [Theory]
    [InlineData("net.ipv4.ip_forward", "net.ipv4.ip_forward")]
    [InlineData("net/ipv4/ip_forward", "net.ipv4.ip_forward")]
    [InlineData("net/ipv4/conf/eno2.100/rp_filter", "net.ipv4.conf.eno2/100.rp_filter")]
    [InlineData("kernel", "kernel")]
    public void SysctlNamesAreNormalizedToDots(string name, string expected) =>
        Assert.Equal(expected, SpecValidator.NormalizeSysctlName(name));

    // ---- seccomp ----

    private static LinuxSeccomp ValidSeccomp() => new()
    {
        DefaultAction = "SCMP_ACT_ERRNO",
        DefaultErrnoRet = 1,
        Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
        Flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        ListenerPath = "/run/agent.sock",
        ListenerMetadata = "meta",
        Syscalls =
        [
            new LinuxSyscall { Names = ["read", "write"], Action = "SCMP_ACT_ALLOW" },
            new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_NOTIFY" },
            new LinuxSyscall { Names = ["chmod"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 38 },
            new LinuxSyscall
            {
                Names = ["personality"], Action = "SCMP_ACT_ALLOW",
                Args = [new LinuxSeccompArg { Index = 5, Value = 0xff, ValueTwo = 8, Op = "SCMP_CMP_MASKED_EQ" }],
            },
        ],
    };

    private void AssertSeccompInvalid(Action<LinuxSeccomp> change, string expectedMessage) =>
        AssertInvalid(s => { var seccomp = ValidSeccomp(); change(seccomp); s.Linux!.Seccomp = seccomp; }, expectedMessage);

    [Fact]
    public void AFullSeccompProfileIsAccepted() => AssertValid(s => s.Linux!.Seccomp = ValidSeccomp());

    [Fact]
    public void SeccompDefaultActionMustBeSet() =>
        AssertSeccompInvalid(x => x.DefaultAction = "", "linux.seccomp.defaultAction: must be set");

    [Fact]
    public void SeccompDefaultActionMustBeKnown() =>
        AssertSeccompInvalid(x => x.DefaultAction = "SCMP_ACT_IGNORE", "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_IGNORE\"");

    [Fact]
    public void SeccompNotifyCannotBeTheDefault() =>
        AssertSeccompInvalid(x => x.DefaultAction = "SCMP_ACT_NOTIFY", "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

    [Fact]
    public void SeccompDefaultErrnoNeedsAnErrnoAction() =>
        AssertSeccompInvalid(x => x.DefaultAction = "SCMP_ACT_ALLOW", "linux.seccomp.defaultErrnoRet: cannot be used with SCMP_ACT_ALLOW");

    [Fact]
    public void SeccompArchitecturesMustBeKnown() =>
        AssertSeccompInvalid(x => x.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"], "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"");

    [Fact]
    public void SeccompFlagsMustBeKnown() =>
        AssertSeccompInvalid(x => x.Flags = ["SECCOMP_FILTER_FLAG_NEW_LISTENER"], "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\"");

    [Fact]
    public void SeccompListenerMetadataNeedsAListenerPath() =>
        AssertSeccompInvalid(x => { x.ListenerPath = null; x.Syscalls!.RemoveAt(1); }, "linux.seccomp.listenerMetadata: requires listenerPath");

    [Fact]
    public void SeccompNotifyNeedsAListenerPath() =>
        AssertSeccompInvalid(x => { x.ListenerPath = null; x.ListenerMetadata = null; }, "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");

    [Fact]
    public void SeccompNotifyCannotCoverWrite() =>
        AssertSeccompInvalid(x => x.Syscalls![1].Names.Add("write"), "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY cannot be used for the write syscall");

    [Fact]
    public void SeccompRulesNeedNames() =>
        AssertSeccompInvalid(x => x.Syscalls![0].Names.Clear(), "linux.seccomp.syscalls[0].names: must contain at least one syscall name");

    [Fact]
    public void SeccompRuleActionsMustBeKnown() =>
        AssertSeccompInvalid(x => x.Syscalls![2].Action = "SCMP_ACT_MAYBE", "linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_MAYBE\"");

    [Fact]
    public void SeccompRuleErrnoNeedsAnErrnoAction() =>
        AssertSeccompInvalid(x => x.Syscalls![2].Action = "SCMP_ACT_KILL", "linux.seccomp.syscalls[2].errnoRet: cannot be used with SCMP_ACT_KILL");

    [Fact]
    public void SeccompOperatorsMustBeKnown() =>
        AssertSeccompInvalid(x => x.Syscalls![3].Args![0].Op = "SCMP_CMP_LIKE", "linux.seccomp.syscalls[3].args[0].op: unknown operator \"SCMP_CMP_LIKE\"");

    [Fact]
    public void SeccompArgumentIndexIsBelowSix() =>
        AssertSeccompInvalid(x => x.Syscalls![3].Args![0].Index = 6, "linux.seccomp.syscalls[3].args[0].index: 6 is outside the range 0..5");

    // ---- propagation, masked and read-only paths ----

    [Theory]
    [InlineData("")]
    [InlineData("shared")]
    [InlineData("slave")]
    [InlineData("private")]
    [InlineData("unbindable")]
    [InlineData("rshared")]
    [InlineData("rslave")]
    [InlineData("rprivate")]
    [InlineData("runbindable")]
    public void KnownRootfsPropagationIsAccepted(string propagation) =>
        AssertValid(s => s.Linux!.RootfsPropagation = propagation);

    [Fact]
    public void UnknownRootfsPropagationIsRejected() =>
        AssertInvalid(s => s.Linux!.RootfsPropagation = "recursive", "linux.rootfsPropagation: unknown propagation \"recursive\"");

    [Fact]
    public void MaskedPathsMustBeAbsolute() =>
        AssertInvalid(s => s.Linux!.MaskedPaths = ["/proc/kcore", "proc/keys"], "linux.maskedPaths[1]: must be an absolute path, got \"proc/keys\"");

    [Fact]
    public void ReadonlyPathsMustBeAbsolute() =>
        AssertInvalid(s => s.Linux!.ReadonlyPaths = ["sys"], "linux.readonlyPaths[0]: must be an absolute path, got \"sys\"");

    [Fact]
    public void MaskedPathsNeedAMountNamespace() =>
        AssertInvalid(s => { SetNamespaces(s, "pid"); s.Linux!.MaskedPaths = ["/proc/kcore"]; }, "linux.maskedPaths: requires a mount namespace");

    [Fact]
    public void AbsoluteMaskedAndReadonlyPathsAreAccepted() =>
        AssertValid(s => { s.Linux!.MaskedPaths = ["/proc/kcore"]; s.Linux.ReadonlyPaths = ["/proc/sys"]; });

    // ---- personality ----

    [Fact]
    public void PersonalityDomainMustBeKnown() =>
        AssertInvalid(s => s.Linux!.Personality = new LinuxPersonality { Domain = "LINUX64" },
            "linux.personality.domain: unknown domain \"LINUX64\" (expected LINUX or LINUX32)");

    [Fact]
    public void PersonalityFlagsAreNotSupported() =>
        AssertInvalid(s => s.Linux!.Personality = new LinuxPersonality { Domain = "LINUX", Flags = ["ADDR_NO_RANDOMIZE"] },
            "linux.personality.flags: unsupported flag \"ADDR_NO_RANDOMIZE\"");

    [Theory]
    [InlineData("LINUX")]
    [InlineData("LINUX32")]
    public void KnownPersonalitiesAreAccepted(string domain) =>
        AssertValid(s => s.Linux!.Personality = new LinuxPersonality { Domain = domain });

    // ---- netDevices ----

    [Fact]
    public void NetDevicesNeedANetworkNamespace() =>
        AssertInvalid(s => { SetNamespaces(s, "mount"); s.Linux!.NetDevices = new() { ["eth1"] = new LinuxNetDevice() }; },
            "linux.netDevices: moving network devices requires a network namespace");

    [Theory]
    [InlineData("a-very-long-name0")]
    [InlineData("a/b")]
    [InlineData("eth 0")]
    [InlineData("..")]
    public void NetDeviceHostNamesMustBeInterfaceNames(string name) =>
        AssertInvalid(s => s.Linux!.NetDevices = new() { [name] = new LinuxNetDevice() },
            $"linux.netDevices[\"{name}\"]: \"{name}\" is not a valid network interface name");

    [Fact]
    public void NetDeviceContainerNamesMustBeInterfaceNames() =>
        AssertInvalid(s => s.Linux!.NetDevices = new() { ["eth1"] = new LinuxNetDevice { Name = "ctr:0" } },
            "linux.netDevices[\"eth1\"].name: \"ctr:0\" is not a valid network interface name");

    [Fact]
    public void ValidNetDevicesAreAccepted() =>
        AssertValid(s => s.Linux!.NetDevices = new() { ["eth1"] = new LinuxNetDevice { Name = "ctr0" }, ["fifteen-chars-x"] = new LinuxNetDevice() });

    // ---- several findings ----

    /// <summary>Six independent mistakes, none of them in rules that depend on another.</summary>
    private static void BreakSixThings(Spec s)
    {
        s.OciVersion = "2.0.0";
        s.Process!.Cwd = "home";
        s.Process.Env = ["PATH=/bin", "JUSTNAME"];
        s.Hooks = new Hooks { Poststop = [new Hook { Path = "cleanup.sh" }] };
        s.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "foo" });
        s.Linux.Resources = new LinuxResources { Memory = new LinuxMemory { Swappiness = 200 } };
    }

    [Fact]
    public void EveryErrorIsListedWithItsPath()
    {
        var spec = ValidSpec();
        BreakSixThings(spec);

        var diagnostics = SpecValidator.Check(spec, _bundle.Directory);

        Assert.Equal(
            ["ociVersion", "linux.namespaces[5].type", "process.cwd", "process.env[1]", "hooks.poststop[0].path", "linux.resources.memory.swappiness"],
            diagnostics.Select(d => d.Path));
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Equal("must be an absolute path, got \"home\"", diagnostics[2].Message);
        Assert.Equal("use \"/home\"", diagnostics[2].Fix);
        Assert.Equal("use \"JUSTNAME=\" for an empty value", diagnostics[3].Fix);
    }

    [Fact]
    public void CreateRefusesWithTheFirstErrorAndHowManyMore()
    {
        var spec = ValidSpec();
        BreakSixThings(spec);

        var error = Assert.Throws<SpecException>(() => SpecValidator.Validate(spec, _bundle.Directory));

        Assert.StartsWith("ociVersion: unsupported version \"2.0.0\": only 1.x is supported (and 5 more: linux.namespaces[5].type: unknown namespace type \"foo\"; ", error.Message);
        Assert.EndsWith("; linux.resources.memory.swappiness: 200 is outside the range 0..100)", error.Message);
        Assert.Equal(6, error.Diagnostics.Count);
    }

    [Fact]
    public void ErrorsInSeveralElementsOfOneListAreEachReported()
    {
        var spec = ValidSpec();
        spec.Process!.Rlimits =
        [
            new PosixRlimit { Type = "RLIMIT_BOGUS" },
            new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 2, Hard = 1 },
            new PosixRlimit { Type = "RLIMIT_NOFILE" },
        ];
        Assert.Equal(["process.rlimits[0].type", "process.rlimits[1]", "process.rlimits[2].type"],
            SpecValidator.Check(spec, _bundle.Directory).Select(d => d.Path));
    }

    [Fact]
    public void AnUnknownValueIsNotReportedAgainByTheRulesThatDependOnIt()
    {
        var spec = ValidSpec();
        spec.Process!.Scheduler = new Scheduler { Policy = "SCHED_FAST", Priority = 5, Runtime = 1 };
        spec.Linux!.Devices = [new LinuxDevice { Type = "x", Path = "/dev/x" }];
        Assert.Equal(["process.scheduler.policy", "linux.devices[0].type"], SpecValidator.Check(spec, _bundle.Directory).Select(d => d.Path));
    }

    [Fact]
    public void AValidSpecHasNoFindings() => Assert.Empty(SpecValidator.Check(ValidSpec(), _bundle.Directory));

    [Fact]
    public void WarningsAreFindingsThatDoNotRefuse()
    {
        var spec = ValidSpec();
        spec.Hooks = new Hooks { Prestart = [new Hook { Path = "/bin/a" }] };

        SpecValidator.Validate(spec, _bundle.Directory);
        var finding = Assert.Single(SpecValidator.Check(spec, _bundle.Directory));

        Assert.Equal(DiagnosticSeverity.Warning, finding.Severity);
        Assert.Equal("hooks.prestart", finding.Path);
        Assert.NotNull(finding.Fix);
    }

    // ---- warnings ----

    [Fact]
    public void WarningsListDeprecatedSettings()
    {
        var spec = ValidSpec();
        spec.Hooks = new Hooks { Prestart = [new Hook { Path = "/bin/a" }] };
        spec.Linux!.Resources = new LinuxResources { Memory = new LinuxMemory { Kernel = 1 } };

        var warnings = SpecValidator.GetWarnings(spec);

        Assert.Equal(2, warnings.Count);
        Assert.StartsWith("hooks.prestart:", warnings[0]);
        Assert.StartsWith("linux.resources.memory.kernel:", warnings[1]);
    }

    [Fact]
    public void AValidSpecHasNoWarnings() => Assert.Empty(SpecValidator.GetWarnings(ValidSpec()));
}
