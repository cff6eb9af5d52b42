using Moat.Oci;
using Xunit;

namespace Moat.Tests.Unit.Oci;

public class DefaultSpecTests
{
    private const string ExpectedMounts = """
        [
          { "destination": "/proc", "type": "proc", "source": "proc" },
          { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
          { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
          { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
          { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
          { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
          { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
        ]
        """;

    private const string ExpectedProcess = """
        {
          "terminal": true,
          "user": { "uid": 0, "gid": 0 },
          "args": ["sh"],
          "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
          "cwd": "/",
          "capabilities": {
            "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
          },
          "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
          "noNewPrivileges": true
        }
        """;

    private const string ExpectedMaskedPaths = """
        [
          "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/powercap"
        ]
        """;

    private const string ExpectedReadonlyPaths = """["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]""";

    [Fact]
    public void DefaultSpecIsRuncsWithAPidsLimitAndInterruptsMasked()
    {
        // runc spec's output plus what the audit asks of a default (MOAT-A010, MOAT-A022).
        var json = OciJson.SerializeIndented(DefaultSpec.Create(rootless: false));

        JsonAssert.Equivalent($$"""
            {
              "ociVersion": "1.2.0",
              "process": {{ExpectedProcess}},
              "root": { "path": "rootfs", "readonly": true },
              "hostname": "moat",
              "mounts": {{ExpectedMounts}},
              "linux": {
                "resources": { "devices": [{ "allow": false, "access": "rwm" }], "pids": { "limit": 2048 } },
                "namespaces": [
                  { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
                  { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }
                ],
                "maskedPaths": {{ExpectedMaskedPaths}},
                "readonlyPaths": {{ExpectedReadonlyPaths}}
              }
            }
            """, json);
    }

    [Fact]
    public void RootlessSpecMatchesWhatRuncSpecRootlessWrites()
    {
        var json = OciJson.SerializeIndented(DefaultSpec.Create(rootless: true, hostUid: 1000, hostGid: 1001));

        JsonAssert.Equivalent($$"""
            {
              "ociVersion": "1.2.0",
              "process": {{ExpectedProcess}},
              "root": { "path": "rootfs", "readonly": true },
              "hostname": "moat",
              "mounts": [
                { "destination": "/proc", "type": "proc", "source": "proc" },
                { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
                { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
                { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
                { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
                { "destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"] },
                { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
              ],
              "linux": {
                "uidMappings": [{ "containerID": 0, "hostID": 1000, "size": 1 }],
                "gidMappings": [{ "containerID": 0, "hostID": 1001, "size": 1 }],
                "namespaces": [
                  { "type": "pid" }, { "type": "ipc" }, { "type": "uts" },
                  { "type": "mount" }, { "type": "cgroup" }, { "type": "user" }
                ],
                "maskedPaths": {{ExpectedMaskedPaths}},
                "readonlyPaths": {{ExpectedReadonlyPaths}}
              }
            }
            """, json);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DefaultSpecsValidate(bool rootless)
    {
        using var bundle = new TempBundle();

        var spec = DefaultSpec.Create(rootless, 1000, 1000);

        SpecValidator.Validate(spec, bundle.Directory);
        Assert.Empty(SpecValidator.GetWarnings(spec));
    }

    [Fact]
    public void DefaultSpecSurvivesARoundTripThroughTheLoader()
    {
        using var bundle = new TempBundle();
        bundle.WriteConfig(OciJson.SerializeIndented(DefaultSpec.Create(rootless: false)));

        var spec = SpecLoader.Load(bundle.Directory);

        SpecValidator.Validate(spec, bundle.Directory);
        Assert.Equal(["sh"], spec.Process!.Args!);
        Assert.Equal("rwm", spec.Linux!.Resources!.Devices![0].Access);
    }

    [Fact]
    public void EachCallReturnsAnIndependentSpec()
    {
        var first = DefaultSpec.Create(rootless: false);
        first.Process!.Args!.Add("-c");
        first.Mounts![2].Options!.Clear();

        var second = DefaultSpec.Create(rootless: true, 1000, 1000);

        Assert.Equal(["sh"], second.Process!.Args!);
        Assert.Contains("newinstance", second.Mounts![2].Options!);
    }
}
