using Moat.Oci;
using Moat.Oci.Diagnostics;
using Xunit;

namespace Moat.Tests.Unit.Oci;

public sealed class DiagnosticListTests
{
    [Fact]
    public void AnEmptyListHasNothingToEnumerate()
    {
        var list = new DiagnosticList();
        Assert.Empty(list);
        Assert.False(list.HasErrors);
        Assert.Equal(0, list.ErrorCount);
        foreach (var _ in list)
        {
            Assert.Fail("an empty list enumerated something");
        }
    }

    [Fact]
    public void FindingsKeepTheirOrderPathSeverityAndFix()
    {
        var list = new DiagnosticList();
        list.Warning("hooks.prestart", "deprecated", fix: "use createRuntime");
        list.Error("process.cwd", "must be set");
        list.Error("root", "must be set", fix: "set root.path");

        Assert.Equal(3, list.Count);
        Assert.Equal(2, list.ErrorCount);
        Assert.True(list.HasErrors);
        Assert.Equal(new Diagnostic("hooks.prestart", DiagnosticSeverity.Warning, "deprecated", "use createRuntime"), list[0]);
        Assert.Equal(["process.cwd", "root"], list.OfSeverity(DiagnosticSeverity.Error).Select(d => d.Path));
        Assert.Equal("set root.path", list[2].Fix);
        Assert.Null(list[1].Fix);
        Assert.Equal("process.cwd: must be set", list[1].ToString());
    }

    [Fact]
    public void OneErrorIsDescribedAsItsLineAlone()
    {
        var list = new DiagnosticList();
        list.Warning("hooks.prestart", "deprecated");
        list.Error("process.cwd", "must be set");
        Assert.Equal("process.cwd: must be set", list.DescribeErrors());
        Assert.Equal("process.cwd: must be set", new SpecException(list).Message);
    }

    [Fact]
    public void MoreErrorsFollowTheFirstWithTheirCount()
    {
        var list = new DiagnosticList();
        list.Error("ociVersion", "must be set");
        list.Warning("hooks.prestart", "deprecated");
        list.Error("process.cwd", "must be set");
        list.Error("root", "must be set");
        var exception = new SpecException(list);
        Assert.Equal("ociVersion: must be set (and 2 more: process.cwd: must be set; root: must be set)", exception.Message);
        Assert.Equal(4, exception.Diagnostics.Count);
    }

    [Fact]
    public void ASpecExceptionWithoutValidationHasNoDiagnostics() =>
        Assert.Empty(new SpecException("config.json: file is empty").Diagnostics);
}
