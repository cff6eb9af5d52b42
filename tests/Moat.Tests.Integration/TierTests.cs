using System.Text.Json.Nodes;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>
/// The isolation tiers behind the runtime API: chosen by --isolation, the run.moat.isolation
/// annotation or the executable's name, recorded in state, and a tier this build lacks refused by
/// name before anything exists on the host.
/// </summary>
public sealed class TierTests
{
    [Fact]
    public void TheContainerTierIsTheDefaultAndStateNamesTheCaller()
    {
        using var bundle = new TestBundle("sleep", "100");
        var id = bundle.NewId("tier");
        bundle.Create(id).Ok();
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(MoatCli.StateRoot, id, "state.json")))!;
        Assert.Null(state["isolation"]);
        Assert.Equal("root", state["owner"]!.GetValue<string>());
        Assert.Equal("root", JsonNode.Parse(MoatCli.Run("state", id).Ok().Stdout)!["owner"]!.GetValue<string>());
        MoatCli.Run("delete", "--force", id).Ok();
    }

    [Fact]
    public void AskingForTheContainerTierByNameWorksEveryWay()
    {
        using var bundle = new TestBundle("true");
        bundle.Spec.Annotations = new Dictionary<string, string> { ["run.moat.isolation"] = "container" };
        bundle.Write();
        MoatCli.Run("--isolation", "container", "run", "--bundle", bundle.Directory, bundle.NewId("tier")).Ok();
    }

    [Fact]
    public void ABuiltTierTheHostCannotRunIsRefusedThroughTheFlagAndTheAnnotation()
    {
        // Both extra tiers are built; a guest kernel that does not exist is what this host "lacks" for the vm tier.
        using var bundle = new TestBundle("true");
        bundle.Write();
        var id = bundle.NewId("tier");
        var byFlag = MoatCli.Exec("/usr/bin/env", ["MOAT_VM_KERNEL=/nonexistent/vmlinuz", MoatCli.Binary, "--root", MoatCli.StateRoot, "--isolation", "vm", "create", "--bundle", bundle.Directory, id]);
        Assert.Equal(1, byFlag.ExitCode);
        Assert.Contains("the vm isolation tier cannot run on this host", byFlag.Stderr);
        BadInputTests.AssertNothingLeft(id);

        bundle.Spec.Annotations = new Dictionary<string, string> { ["run.moat.isolation"] = "vm" };
        bundle.Write();
        var byAnnotation = MoatCli.Exec("/usr/bin/env", ["MOAT_VM_KERNEL=/nonexistent/vmlinuz", MoatCli.Binary, "--root", MoatCli.StateRoot, "run", "--bundle", bundle.Directory, id]);
        Assert.Equal(1, byAnnotation.ExitCode);
        Assert.Contains("the vm isolation tier cannot run on this host", byAnnotation.Stderr);
        BadInputTests.AssertNothingLeft(id);
    }

    [Fact]
    public void TheExecutableNameSelectsATier()
    {
        // moat-runtime-vm is a link to moat-runtime-tiers (make build makes it), as an engine's runtime table would name it.
        var link = Path.Combine(Path.GetDirectoryName(MoatCli.Binary)!, "moat-runtime-vm");
        Assert.True(File.Exists(link), $"{link} is missing: run `make build`");
        using var bundle = new TestBundle("true");
        bundle.Write();
        var id = bundle.NewId("tier");
        // The vm tier is built (tests/Moat.Tests.Vm boot it): a kernel that does not exist makes it refuse, naming what is missing.
        var result = MoatCli.Exec("/usr/bin/env", ["MOAT_VM_KERNEL=/nonexistent/vmlinuz", link, "--root", MoatCli.StateRoot, "run", "--bundle", bundle.Directory, id]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("the vm isolation tier cannot run on this host: the guest kernel MOAT_VM_KERNEL=/nonexistent/vmlinuz does not exist", result.Stderr);
        BadInputTests.AssertNothingLeft(id);
    }

    [Fact]
    public void MoatRuntimeWithoutTheTiersBinaryBesideItNamesWhatIsMissing()
    {
        // moat-runtime carries the container tier only and hands sandbox and vm containers to
        // moat-runtime-tiers beside it; alone in a directory it says so, and makes nothing.
        var lone = Path.Combine(Path.GetTempPath(), $"moat-lone-{Guid.NewGuid():N}");
        Directory.CreateDirectory(lone);
        try
        {
            var binary = Path.Combine(lone, "moat-runtime");
            File.Copy(MoatCli.Binary, binary);
            File.SetUnixFileMode(binary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var bundle = new TestBundle("true");
            bundle.Write();
            var id = bundle.NewId("tier");
            var result = MoatCli.Exec(binary, ["--root", MoatCli.StateRoot, "--isolation", "sandbox", "run", "--bundle", bundle.Directory, id]);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("the sandbox isolation tier is in moat-runtime-tiers, which is not installed beside", result.Stderr);
            BadInputTests.AssertNothingLeft(id);
            // The container tier itself needs nothing beside it.
            MoatCli.Exec(binary, ["--root", MoatCli.StateRoot, "run", "--bundle", bundle.Directory, id]).Ok();
        }
        finally
        {
            Directory.Delete(lone, recursive: true);
        }
    }

    [Fact]
    public void DisagreeingSourcesAndUnknownTiersAreErrors()
    {
        using var bundle = new TestBundle("true");
        bundle.Spec.Annotations = new Dictionary<string, string> { ["run.moat.isolation"] = "vm" };
        bundle.Write();
        var id = bundle.NewId("tier");
        var result = MoatCli.Run("--isolation", "container", "run", "--bundle", bundle.Directory, id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--isolation asks for the container tier but the annotation run.moat.isolation asks for vm", result.Stderr);
        var unknown = MoatCli.Run("--isolation", "gvisor", "run", "--bundle", bundle.Directory, id);
        Assert.Contains("unknown isolation tier \"gvisor\"", unknown.Stderr);
        BadInputTests.AssertNothingLeft(id);
    }

    [Fact]
    public void AContainerOfATierThisBuildLacksIsNamedByLaterVerbs()
    {
        // A runtime built without the extra tiers (as a library user may make it) meets a state directory a
        // build with the sandbox tier wrote: it says which tier it lacks instead of treating it as a plain container.
        using var bundle = new TestBundle("true");
        var id = bundle.NewId("tier");
        var dir = Path.Combine(MoatCli.StateRoot, id);
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "state.json"),
                $$"""{"phase":"created","id":"{{id}}","pid":1,"bundle":"/","rootfs":"/","created":"2026-12-02T00:00:00Z","owner":"root","isolation":"sandbox","cgroupDirectories":[],"cgroupPath":""}""");
            var runtime = new Moat.Runtime.Api.ContainerRuntime(new Moat.Runtime.Api.RuntimeSettings(MoatCli.StateRoot));
            var error = Assert.ThrowsAny<Exception>(() => runtime.Kill(id, 9, all: false));
            Assert.Contains("the sandbox isolation tier is not built", error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
