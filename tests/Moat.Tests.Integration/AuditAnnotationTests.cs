using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>run.moat.audit on a bundle: moat-runtime create audits the config first (through `moat audit`, issue 18).</summary>
public sealed class AuditAnnotationTests
{
    static TestBundle WithSysAdmin(string mode)
    {
        var bundle = new TestBundle("true");
        var caps = bundle.Spec.Process!.Capabilities!;
        caps.Bounding = [.. caps.Bounding ?? [], "CAP_SYS_ADMIN"];
        caps.Effective = [.. caps.Effective ?? [], "CAP_SYS_ADMIN"];
        caps.Permitted = [.. caps.Permitted ?? [], "CAP_SYS_ADMIN"];
        bundle.Spec.Annotations = new Dictionary<string, string> { ["run.moat.audit"] = mode };
        return bundle;
    }

    [Fact]
    public void EnforceRefusesACriticalFindingBeforeAnythingExists()
    {
        using var bundle = WithSysAdmin("enforce");
        bundle.Write();
        var id = bundle.NewId("audit");
        var result = MoatCli.Run("create", "--bundle", bundle.Directory, id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("run.moat.audit=enforce refused the container", result.Stderr);
        Assert.Contains("MOAT-A003 (critical)", result.Stderr);
        BadInputTests.AssertNothingLeft(id);
    }

    [Fact]
    public void WarnRunsAndNamesTheFindings()
    {
        using var bundle = WithSysAdmin("warn");
        bundle.Write();
        var result = MoatCli.Run("run", "--bundle", bundle.Directory, bundle.NewId("audit")).Ok();
        Assert.Contains("run.moat.audit: MOAT-A003 (critical)", result.Stderr);
    }

    [Fact]
    public void TheDefaultConfigPassesEnforceAndABadValueIsRefused()
    {
        using var bundle = new TestBundle("true");
        // The config `moat-runtime spec` writes: with the default seccomp profile (the test bundle has none, which is a high finding).
        bundle.Spec.Linux!.Seccomp = Moat.Oci.Profiles.DefaultSeccompProfile.For(bundle.Spec.Process!.Capabilities!.Bounding!.ToHashSet());
        bundle.Spec.Annotations = new Dictionary<string, string> { ["run.moat.audit"] = "enforce" };
        bundle.Write();
        MoatCli.Run("run", "--bundle", bundle.Directory, bundle.NewId("audit")).Ok();
        bundle.Spec.Annotations["run.moat.audit"] = "sometimes";
        bundle.Write();
        var bad = MoatCli.Run("run", "--bundle", bundle.Directory, bundle.NewId("audit"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("run.moat.audit=sometimes: the value must be enforce or warn", bad.Stderr);
    }
}
