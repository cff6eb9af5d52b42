using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>Bad input gets one clear error and leaves nothing behind.</summary>
public sealed class BadInputTests
{
    internal static void AssertNothingLeft(string id)
    {
        Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, id)), "state directory left behind");
        foreach (var hierarchy in Directory.GetDirectories("/sys/fs/cgroup"))
            Assert.False(Directory.Exists(Path.Combine(hierarchy, "moat", id)), $"cgroup left in {hierarchy}");
    }

    /// <summary>
    /// The init's own error (here a bind source that does not exist, its first mount) is the one
    /// reported, also when it comes while the runtime is still moving it into its cgroups. On a v1
    /// host that move waits an RCU grace period after a quiet spell, hence the pauses: without them
    /// the kernel stays in its fast mode and the window never opens.
    /// </summary>
    [Fact]
    public void InitErrorDuringCgroupPlacementIsReportedAsItself()
    {
        using var bundle = new TestBundle("true");
        bundle.Spec.Mounts!.Insert(0, new Moat.Oci.Mount { Destination = "/mnt", Type = "bind", Source = "/nonexistent-moat-source", Options = ["bind"] });
        for (var i = 0; i < 3; i++)
        {
            Thread.Sleep(1200);
            var id = bundle.NewId("placement");
            var result = bundle.Create(id);
            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("/nonexistent-moat-source", result.Stderr);
            Assert.DoesNotContain("sync socket", result.Stderr);
        }
    }

    [Fact]
    public void MalformedConfigNamesTheLine()
    {
        using var bundle = new TestBundle();
        var id = bundle.NewId();
        File.WriteAllText(Path.Combine(bundle.Directory, "config.json"), "{\n  \"ociVersion\": \"1.2.0\",\n  \"process\": [\n");
        var result = MoatCli.Run("create", "--bundle", bundle.Directory, id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("config.json", result.Stderr);
        Assert.Contains("line", result.Stderr);
        AssertNothingLeft(id);
    }

    [Fact]
    public void InvalidFieldIsNamed()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Linux!.Namespaces![0].Type = "bogus";
        var id = bundle.NewId();
        var result = bundle.Create(id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("linux.namespaces[0].type", result.Stderr);
        AssertNothingLeft(id);
    }

    [Fact]
    public void EveryInvalidFieldIsNamedOnOneLine()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Linux!.Namespaces![0].Type = "bogus";
        bundle.Spec.Process!.Cwd = "relative";
        bundle.Spec.Process.OomScoreAdj = 5000;
        var id = bundle.NewId();
        var result = bundle.Create(id);
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("linux.namespaces[0].type: unknown namespace type \"bogus\" (and 2 more: process.cwd: must be an absolute path, got \"relative\"; process.oomScoreAdj: 5000 is outside the range -1000..1000)", line);
        AssertNothingLeft(id);
    }

    [Fact]
    public void WrongJsonTypeIsNamedByPath()
    {
        using var bundle = new TestBundle();
        var id = bundle.NewId();
        bundle.Write();
        var path = Path.Combine(bundle.Directory, "config.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        json["process"]!["terminal"] = "no";
        File.WriteAllText(path, json.ToJsonString());
        var result = MoatCli.Run("create", "--bundle", bundle.Directory, id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("$.process.terminal", result.Stderr);
        AssertNothingLeft(id);
    }

    [Fact]
    public void MissingRootfsIsReported()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Root!.Path = "no-such-rootfs";
        var id = bundle.NewId();
        var result = bundle.Create(id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no-such-rootfs", result.Stderr);
        AssertNothingLeft(id);
    }

    [Fact]
    public void MissingBundleIsReported()
    {
        var result = MoatCli.Run("create", "--bundle", "/nonexistent/bundle", "x-missing-bundle");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("/nonexistent/bundle", result.Stderr);
    }

    [Fact]
    public void DuplicateIdIsRefusedAndTheFirstContainerSurvives()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var id = bundle.NewId();
        bundle.Create(id).Ok();
        var second = bundle.Create(id);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("already exists", second.Stderr);
        Assert.Equal("created", TestBundle.Status(id));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("bad id")]
    public void InvalidIdsAreRefused(string id)
    {
        using var bundle = new TestBundle();
        var result = bundle.Create(id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("invalid container id", result.Stderr);
    }

    /// <summary>
    /// An unknown flag was taken for the container id: `moat create --bogus` created a container
    /// named "--bogus". Every verb that takes an id refuses it as runc does, and nothing is made.
    /// </summary>
    [Theory]
    [InlineData("create", "--bundle", "BUNDLE")]
    [InlineData("run", "--bundle", "BUNDLE")]
    [InlineData("start")]
    [InlineData("state")]
    [InlineData("kill")]
    [InlineData("delete")]
    [InlineData("delete", "--force")]
    [InlineData("pause")]
    [InlineData("resume")]
    [InlineData("exec")]
    [InlineData("ps")]
    [InlineData("update")]
    [InlineData("events", "--stats")]
    public void AnUnknownFlagIsAnErrorNotAContainerId(string verb, params string[] options)
    {
        using var bundle = new TestBundle();
        bundle.Write();
        string[] args = [verb, .. options.Select(o => o == "BUNDLE" ? bundle.Directory : o), "--bogus"];
        var result = MoatCli.Run(args);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("flag provided but not defined: --bogus", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, "--bogus")), "a container named --bogus was created");
    }

    [Theory]
    [InlineData("state")]
    [InlineData("start")]
    [InlineData("kill")]
    [InlineData("delete")]
    public void UnknownIdIsReported(string verb)
    {
        var result = MoatCli.Run(verb, "no-such-container");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("container \"no-such-container\" does not exist", result.Stderr);
    }

    [Fact]
    public void ForceDeleteOfAnUnknownIdSucceedsLikeRunc()
    {
        MoatCli.Run("delete", "--force", "no-such-container").Ok();
    }

    [Fact]
    public void MissingExecutableFailsCreateAndLeavesNothing()
    {
        using var bundle = new TestBundle("no-such-binary");
        var id = bundle.NewId();
        var result = bundle.Create(id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("executable file not found in $PATH", result.Stderr);
        AssertNothingLeft(id);

        bundle.Args("/bin/nope");
        var absolute = bundle.Create(id);
        Assert.Contains("/bin/nope", absolute.Stderr);
        AssertNothingLeft(id);
    }

    [Fact]
    public void RlimitAboveTheHardLimitNamesTheMissingCapability()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Process!.Rlimits = [new Oci.PosixRlimit { Type = "RLIMIT_NOFILE", Soft = ulong.MaxValue, Hard = ulong.MaxValue }];
        var id = bundle.NewId();
        var result = bundle.Create(id);
        if (result.ExitCode == 0)
            return; // this host lets root raise hard limits (it has CAP_SYS_RESOURCE): nothing to refuse
        Assert.Contains("RLIMIT_NOFILE", result.Stderr);
        Assert.Contains("CAP_SYS_RESOURCE", result.Stderr);
        AssertNothingLeft(id);
    }

    [Fact]
    public void UnavailableLsmLabelIsAClearError()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Process!.ApparmorProfile = "moat-test-profile";
        var id = bundle.NewId();
        var result = bundle.Create(id);
        if (File.Exists("/sys/module/apparmor/parameters/enabled") && File.ReadAllText("/sys/module/apparmor/parameters/enabled").Trim() == "Y")
            return; // a host with AppArmor would try to apply the (absent) profile instead
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("AppArmor is not enabled", result.Stderr);
        AssertNothingLeft(id);
    }

    [Fact]
    public void SystemdCgroupFlagIsAClearError()
    {
        var result = MoatCli.Run("--systemd-cgroup", "list");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("systemd cgroup driver is not available", result.Stderr);
    }

    /// <summary>A runtime killed at any moment of create: a later delete still removes everything.</summary>
    [Fact]
    public void CreateKilledMidwayIsCleanedUpByDelete()
    {
        using var bundle = new TestBundle("sleep", "1000");
        bundle.Write();
        // Unkilled, the same create succeeds: the loop below tests interruption, not a broken create.
        var control = bundle.NewId("control");
        bundle.Create(control).Ok();
        MoatCli.Run("delete", control).Ok();
        for (var delayMs = 0; delayMs <= 40; delayMs += 2)
        {
            var id = bundle.NewId("killed");
            var start = new System.Diagnostics.ProcessStartInfo(MoatCli.Binary)
            {
                ArgumentList = { "--root", MoatCli.StateRoot, "create", "--bundle", bundle.Directory, id },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            using var create = System.Diagnostics.Process.Start(start)!;
            Thread.Sleep(delayMs);
            try
            {
                create.Kill();
            }
            catch (InvalidOperationException)
            {
                // Finished before the kill: a normal container, deleted below all the same.
            }
            create.WaitForExit();
            var procsBefore = Directory.Exists($"/sys/fs/cgroup/pids/moat/{id}")
                ? File.ReadAllLines($"/sys/fs/cgroup/pids/moat/{id}/cgroup.procs").Select(int.Parse).ToArray()
                : [];
            if (Directory.Exists(Path.Combine(MoatCli.StateRoot, id)))
                MoatCli.Run("delete", id).Ok();
            AssertNothingLeft(id);
            Assert.All(procsBefore, pid => Assert.False(Wait.ProcessExists(pid), $"process {pid} survived (delay {delayMs} ms)"));
        }
    }
}
