using System.Net;
using System.Text;
using Moat.Oci;
using Moat.Sandbox.Policy;
using Moat.Sandbox.Profile;

namespace Moat.Tests.Sandbox;

/// <summary>The policy file, its checks, the default policy and the Landlock ruleset made from it: no root needed.</summary>
public sealed class PolicyTests
{
    [Fact]
    public void APolicyFileIsReadWithEveryField()
    {
        var policy = PolicyJson.Read(Encoding.UTF8.GetBytes("""
            { "readable": ["/"], "writable": ["/tmp/", "/data/./x"], "hidden": ["/etc/shadow"], "executables": ["/bin"],
              "connect": ["10.0.0.0/8:443", "[::1]:*", "127.0.0.1:8000-8100"], "bind": [8080, "9000-9001"], "calls": { "mkdir": "deny" } }
            """), "p.json");
        Assert.Equal(["/tmp", "/data/x"], policy.Writable);
        Assert.True(policy.CanWrite("/tmp/a/b"));
        Assert.False(policy.CanWrite("/tmpx"));
        Assert.False(policy.CanRead("/etc/shadow"));
        Assert.True(policy.CanConnect(IPAddress.Parse("10.1.2.3"), 443));
        Assert.False(policy.CanConnect(IPAddress.Parse("10.1.2.3"), 80));
        Assert.True(policy.CanConnect(IPAddress.IPv6Loopback, 1));
        Assert.True(policy.CanConnect(IPAddress.Parse("127.0.0.1"), 8050));
        Assert.True(policy.CanBind(9001));
        Assert.False(policy.CanBind(9002));
        Assert.Equal(CallOverride.Deny, policy.OverrideFor("mkdir"));
        // Written and read back, it is the same policy.
        var again = PolicyJson.Read(PolicyJson.Write(policy), "again");
        Assert.Equal(PolicyJson.WriteText(policy), PolicyJson.WriteText(again));
    }

    [Theory]
    [InlineData("""{ "readable": ["etc"] }""", "readable[0]: \"etc\" is not an absolute path")]
    [InlineData("""{ "connect": ["10.0.0.1"] }""", "is not CIDR:port")]
    [InlineData("""{ "bind": ["70000"] }""", "is not a port")]
    [InlineData("""{ "calls": { "open": "maybe" } }""", "is neither \"allow\" nor \"deny\"")]
    [InlineData("""{ "writeable": ["/tmp"] }""", "unknown field \"writeable\"")]
    public void AWrongPolicySaysWhatIsWrong(string json, string message)
    {
        var e = Assert.Throws<SandboxPolicyException>(() => PolicyJson.Read(Encoding.UTF8.GetBytes(json), "p.json"));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("p.json", e.Message);
    }

    [Fact]
    public void APolicyInYamlIsTheSamePolicyAsInJson()
    {
        var yaml = PolicyYaml.ReadFile(Encoding.UTF8.GetBytes("""
            # the same policy as APolicyFileIsReadWithEveryField's
            readable: [/]
            writable:
              - /tmp/
              - "/data/./x"
            hidden: [/etc/shadow]
            executables:
              - /bin
            connect:
              - 10.0.0.0/8:443
              - "[::1]:*"
              - 127.0.0.1:8000-8100
            bind: [8080, "9000-9001"]
            calls:
              mkdir: deny
            """), "p.yaml");
        var json = PolicyJson.Read(Encoding.UTF8.GetBytes("""
            { "readable": ["/"], "writable": ["/tmp/", "/data/./x"], "hidden": ["/etc/shadow"], "executables": ["/bin"],
              "connect": ["10.0.0.0/8:443", "[::1]:*", "127.0.0.1:8000-8100"], "bind": [8080, "9000-9001"], "calls": { "mkdir": "deny" } }
            """), "p.json");
        Assert.Equal(PolicyJson.WriteText(json), PolicyJson.WriteText(yaml));
        // A file without a YAML name that reads like JSON is JSON (comments included).
        Assert.Equal(PolicyJson.WriteText(json), PolicyJson.WriteText(PolicyYaml.ReadFile(Encoding.UTF8.GetBytes("// c\n" + PolicyJson.WriteText(json)), "policy")));
    }

    [Theory]
    [InlineData("readable: [/]\nwriteable: [/tmp]\n", "p.yaml: line 2: unknown key \"writeable\" (known: readable, writable, hidden, executables, connect, bind, calls)")]
    [InlineData("readable: /\n", "p.yaml: line 1: readable: must be a list")]
    [InlineData("calls:\n  mkdir: [deny]\n", "p.yaml: line 2: calls.mkdir: must be allow or deny")]
    [InlineData("calls:\n  mkdir: maybe\n", "calls.mkdir: \"maybe\" is neither \"allow\" nor \"deny\"")]
    [InlineData("bind: [70000]\n", "is not a port")]
    [InlineData("readable: [/]\nreadable: [/etc]\n", "p.yaml: line 2: the key \"readable\" is given twice")]
    [InlineData("a: &x [/]\nreadable: *x\n", "line 1: unknown key \"a\"")]
    [InlineData("readable: [/\n", "p.yaml: not valid YAML (line")]
    [InlineData("- /\n", "p.yaml: line 1: the policy must be a mapping")]
    public void AWrongYamlPolicySaysWhatAndWhere(string yaml, string message)
    {
        var e = Assert.Throws<SandboxPolicyException>(() => PolicyYaml.ReadFile(Encoding.UTF8.GetBytes(yaml), "p.yaml"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TheDefaultPolicyWritesOnlyToTheContainersOwnStorageAndNeverExecutesFromIt()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Mounts!.Add(new Mount { Destination = "/data", Type = "bind", Source = "/srv", Options = ["rbind", "rw"] });
        spec.Mounts.Add(new Mount { Destination = "/config", Type = "bind", Source = "/etc", Options = ["rbind", "ro"] });
        var policy = DefaultPolicy.For(spec);
        Assert.True(policy.CanWrite("/data/file"));
        Assert.False(policy.CanWrite("/config/file"));
        Assert.False(policy.CanWrite("/etc/passwd"));
        Assert.True(policy.CanRead("/etc/passwd"));
        Assert.True(policy.CanExecute("/bin/sh"));
        Assert.False(policy.CanExecute("/tmp/x"));
        Assert.False(policy.CanExecute("/data/x"));
    }

    [Fact]
    public void LandlockGetsThePolicysPathsAndPorts()
    {
        var policy = PolicyJson.Read(Encoding.UTF8.GetBytes("""{ "readable": ["/"], "writable": ["/tmp"], "executables": ["/bin"], "connect": ["0.0.0.0/0:443"], "bind": [8080] }"""), "p");
        var ruleset = LandlockFromPolicy.For(policy, abi: 7);
        Assert.Contains(ruleset.Paths, r => r.Path == "/tmp" && (r.Access & Moat.Interop.Libc.LANDLOCK_ACCESS_FS_MAKE_REG) != 0);
        Assert.Contains(ruleset.Paths, r => r.Path == "/bin" && (r.Access & Moat.Interop.Libc.LANDLOCK_ACCESS_FS_EXECUTE) != 0);
        Assert.DoesNotContain(ruleset.Paths, r => r.Path == "/" && (r.Access & Moat.Interop.Libc.LANDLOCK_ACCESS_FS_WRITE_FILE) != 0);
        Assert.Contains(ruleset.Ports, p => p.Port == 443 && p.Access == Moat.Interop.Libc.LANDLOCK_ACCESS_NET_CONNECT_TCP);
        Assert.Contains(ruleset.Ports, p => p.Port == 8080 && p.Access == Moat.Interop.Libc.LANDLOCK_ACCESS_NET_BIND_TCP);
        // An older kernel: no network rules, no truncate right.
        var old = LandlockFromPolicy.For(policy, abi: 2);
        Assert.Equal(0UL, old.HandledNet);
        Assert.Equal(0UL, old.HandledFs & Moat.Interop.Libc.LANDLOCK_ACCESS_FS_TRUNCATE);
    }

    [Fact]
    public void TheAllowListIsFarSmallerThanDockersAndRefusesTheDangerousCalls()
    {
        var allowed = SandboxSyscalls.Allowed.SelectMany(g => g.Names).ToHashSet();
        Assert.True(allowed.Count < 250, $"{allowed.Count} allowed calls");
        foreach (var call in new[] { "mount", "ptrace", "bpf", "keyctl", "unshare", "setns", "io_uring_setup", "userfaultfd", "perf_event_open", "kexec_load", "init_module" })
        {
            Assert.DoesNotContain(call, allowed);
            Assert.Contains(call, SandboxSyscalls.RefusedAndLogged);
        }
        foreach (var call in new[] { "open", "openat", "execve", "connect", "bind", "mkdir", "unlink", "rename" })
            Assert.Contains(call, SandboxSyscalls.Brokered);
        Assert.Empty(allowed.Intersect(SandboxSyscalls.Brokered));
    }
}
