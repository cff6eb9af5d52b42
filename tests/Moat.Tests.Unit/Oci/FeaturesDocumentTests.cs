using Moat.Oci;
using Xunit;

namespace Moat.Tests.Unit.Oci;

public class FeaturesDocumentTests
{
    [Fact]
    public void FeaturesReflectTheGivenSupport()
    {
        var features = FeaturesDocument.Create(new FeatureSupport
        {
            MountOptions = ["rbind", "bind", "ro", "bind"],
            CgroupV2 = true,
            Systemd = true,
            Seccomp = true,
            SeccompSupportedFlags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_BOGUS"],
            IdmapMounts = true,
            Annotations = new Dictionary<string, string> { ["org.moat.version"] = "0.1.0" },
            PotentiallyUnsafeConfigAnnotations = ["org.systemd.property."],
        });

        Assert.Equal("1.0.0", features.OciVersionMin);
        Assert.Equal("1.2.0", features.OciVersionMax);
        Assert.Equal(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"], features.Hooks!);
        Assert.Equal(["bind", "rbind", "ro"], features.MountOptions!);

        var linux = features.Linux!;
        Assert.Equal(NamespaceType.All, linux.Namespaces!);
        Assert.Equal(41, linux.Capabilities!.Count);
        Assert.False(linux.Cgroup!.V1);
        Assert.True(linux.Cgroup.V2);
        Assert.True(linux.Cgroup.Systemd);
        Assert.False(linux.Cgroup.SystemdUser);
        Assert.True(linux.Seccomp!.Enabled);
        Assert.Equal(SeccompNames.Actions, linux.Seccomp.Actions!);
        Assert.Equal(SeccompNames.Flags, linux.Seccomp.KnownFlags!);
        // Kept in the known order; names the spec does not define are dropped.
        Assert.Equal(["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"], linux.Seccomp.SupportedFlags!);
        Assert.False(linux.Apparmor!.Enabled);
        Assert.True(linux.MountExtensions!.Idmap!.Enabled);
        Assert.Equal("0.1.0", features.Annotations!["org.moat.version"]);
        Assert.Equal(["org.systemd.property."], features.PotentiallyUnsafeConfigAnnotations!);
    }

    [Fact]
    public void DisabledSeccompListsNoNames()
    {
        var features = FeaturesDocument.Create(new FeatureSupport { Seccomp = false });

        var json = OciJson.Serialize(features);

        Assert.Contains("\"seccomp\":{\"enabled\":false}", json);
        Assert.DoesNotContain("annotations", json);
    }

    [Fact]
    public void FeaturesJsonRoundTrips()
    {
        var features = FeaturesDocument.Create(new FeatureSupport { Seccomp = true, CgroupV1 = true, SELinux = true, IntelRdt = true });

        var json = OciJson.SerializeIndented(features);
        var parsed = System.Text.Json.JsonSerializer.Deserialize(json, OciJsonContext.Default.Features)!;

        Assert.Equal(json, OciJson.SerializeIndented(parsed));
        Assert.True(parsed.Linux!.Selinux!.Enabled);
        Assert.True(parsed.Linux.IntelRdt!.Enabled);
        Assert.True(parsed.Linux.Cgroup!.V1);
    }

    [Fact]
    public void TheSpecsExampleFeaturesDocumentParses()
    {
        // Trimmed from features.md of runtime-spec 1.2.
        const string json = """
            {
              "ociVersionMin": "1.0.0",
              "ociVersionMax": "1.1.0-rc.2",
              "hooks": ["prestart", "poststop"],
              "mountOptions": ["async", "atime"],
              "linux": {
                "namespaces": ["cgroup", "ipc"],
                "capabilities": ["CAP_CHOWN"],
                "cgroup": { "v1": true, "v2": true, "systemd": true, "systemdUser": true, "rdma": true },
                "seccomp": { "enabled": true, "actions": ["SCMP_ACT_ALLOW"], "operators": ["SCMP_CMP_EQ"], "archs": ["SCMP_ARCH_X86_64"], "knownFlags": ["SECCOMP_FILTER_FLAG_LOG"], "supportedFlags": ["SECCOMP_FILTER_FLAG_LOG"] },
                "apparmor": { "enabled": true },
                "selinux": { "enabled": true },
                "intelRdt": { "enabled": true },
                "mountExtensions": { "idmap": { "enabled": true } }
              },
              "annotations": { "org.opencontainers.runc.version": "1.1.0+dev" },
              "potentiallyUnsafeConfigAnnotations": ["com.example.foo.bar", "org.systemd.property."]
            }
            """;

        var features = System.Text.Json.JsonSerializer.Deserialize(json, OciJsonContext.Default.Features)!;

        JsonAssert.Equivalent(json, OciJson.Serialize(features));
    }

    [Fact]
    public void TheHandWrittenFeaturesJsonIsTheSerializersByteForByte()
    {
        var documents = new[]
        {
            FeaturesDocument.Create(new FeatureSupport
            {
                MountOptions = ["rbind", "ro"],
                CgroupV2 = true,
                Systemd = true,
                Seccomp = true,
                SeccompSupportedFlags = ["SECCOMP_FILTER_FLAG_LOG"],
                IdmapMounts = true,
                Annotations = new Dictionary<string, string> { ["org.moat.version"] = "0.1.0", ["x\"<&'\u00e9\U0001F600"] = "\u0001\n" },
                PotentiallyUnsafeConfigAnnotations = ["org.systemd.property."],
            }),
            FeaturesDocument.Create(new FeatureSupport { Seccomp = false, CgroupV1 = true, SELinux = true, IntelRdt = true }),
            new Features(),
            new Features { Linux = new LinuxFeatures { MountExtensions = new MountExtensionsFeatures() }, Hooks = [] },
        };
        foreach (var features in documents)
        {
            Assert.Equal(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(features, OciJsonContext.Default.Features), OciJson.SerializeToUtf8Bytes(features));
            Assert.Equal(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(features, ReferenceJson.IndentedOci.Features), OciJson.SerializeToUtf8Bytes(features, indented: true));
        }
    }

    [Fact]
    public void TheHandWrittenStateListIsTheSerializersByteForByte()
    {
        var states = new List<ContainerState>
        {
            new() { OciVersion = "1.2.0", Id = "a", Status = ContainerStatus.Running, Pid = 7, Bundle = "/b", Annotations = new() { ["k"] = "v" } },
            new() { OciVersion = "1.2.0", Id = "b\u00e9", Status = ContainerStatus.Stopped, Bundle = "/c" },
        };
        foreach (var list in new[] { states, new List<ContainerState>() })
        {
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(list, OciJsonContext.Default.ListContainerState), OciJson.Serialize(list));
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(list, ReferenceJson.IndentedOci.ListContainerState), OciJson.SerializeIndented(list));
        }
    }
}
