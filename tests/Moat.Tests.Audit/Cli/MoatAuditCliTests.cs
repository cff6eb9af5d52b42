using System.Diagnostics;
using System.Text.Json;

namespace Moat.Tests.Audit.Cli;

/// <summary>`moat audit` through the built bin/moat (make build): exit 0/1/125, formats, waivers, errors as sentences.</summary>
public sealed class MoatAuditCliTests : IDisposable
{
    readonly string work = Directory.CreateTempSubdirectory("moat-audit-cli-").FullName;

    static string RepositoryFile(string relative)
    {
        var directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Moat.slnx")))
            directory = Path.GetDirectoryName(directory);
        var path = Path.Combine(directory ?? throw new InvalidOperationException("the repository root was not found"), relative);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run `make build` first");
    }

    static (int Exit, string Out, string Err) Run(string binary, params string[] arguments)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    static (int Exit, string Out, string Err) Moat(params string[] arguments) => Run(RepositoryFile("bin/moat"), arguments);

    string SpecBundle(params string[] flags)
    {
        var bundle = Path.Combine(work, "bundle");
        Directory.CreateDirectory(bundle);
        var result = Run(RepositoryFile("bin/moat-runtime"), ["spec", "--bundle", bundle, .. flags]);
        Assert.Equal(0, result.Exit);
        return bundle;
    }

    [Fact]
    public void The_runtime_default_passes_at_medium()
    {
        var bundle = SpecBundle();
        var medium = Moat("audit", "--bundle", bundle, "--fail-on", "medium");
        Assert.True(medium.Exit == 0, medium.ToString());
        Assert.Contains("nothing at or above medium", medium.Out);
        Assert.DoesNotContain("MOAT-A001", medium.Out);
    }

    [Fact]
    public void Runc_spec_config_passes_at_high_and_fails_at_medium()
    {
        var bundle = SpecBundle("--host-root");
        var high = Moat("audit", "--bundle", bundle);
        Assert.True(high.Exit == 0, high.ToString());
        Assert.Contains("MEDIUM (1)", high.Out); // MOAT-A001: no user namespace
        Assert.Contains("nothing at or above high", high.Out);
        Assert.DoesNotContain("\u001b[", high.Out); // not a terminal: no colour
        var medium = Moat("audit", "--bundle", bundle, "--fail-on", "medium");
        Assert.Equal(1, medium.Exit);
        var waived = Moat("audit", "--bundle", bundle, "--fail-on", "medium", "--waive", "MOAT-A001=rootless in production", "--waive", "MOAT-A008=limits set by systemd");
        Assert.True(waived.Exit == 0, waived.ToString());
        Assert.Contains("WAIVED (2)", waived.Out);
    }

    [Fact]
    public void Json_and_sarif_parse()
    {
        var bundle = SpecBundle("--host-root");
        var json = Moat("audit", "--bundle", bundle, "--format", "json");
        using (var document = JsonDocument.Parse(json.Out))
            Assert.Contains(document.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("id").GetString() == "MOAT-A001");
        var sarif = Moat("audit", "--bundle", bundle, "--format", "sarif");
        using (var document = JsonDocument.Parse(sarif.Out))
        {
            Assert.Equal("2.1.0", document.RootElement.GetProperty("version").GetString());
            Assert.True(document.RootElement.GetProperty("runs")[0].GetProperty("results").GetArrayLength() > 0);
        }
    }

    [Fact]
    public void The_host_audit_runs_every_check()
    {
        var host = Moat("audit", "--host", "--format", "json", "--fail-on", "critical");
        Assert.True(host.Exit is 0 or 1, host.ToString());
        using var document = JsonDocument.Parse(host.Out);
        Assert.Equal(15, document.RootElement.GetProperty("checks").GetArrayLength());
    }

    [Theory]
    [InlineData("no such directory", "audit", "--bundle", "/nonexistent/bundle")]
    [InlineData("give one of CONTAINER, --bundle DIR or --host", "audit")]
    [InlineData("no rule is called", "audit", "--host", "--waive", "MOAT-A001=a container rule")]
    public void Errors_are_sentences_with_exit_125(string expected, params string[] arguments)
    {
        var result = Moat(arguments);
        Assert.Equal(125, result.Exit);
        Assert.StartsWith("Error: ", result.Err);
        Assert.Contains(expected, result.Err);
    }

    [Fact]
    public void A_broken_config_is_an_error_not_a_pass()
    {
        var bundle = Path.Combine(work, "broken");
        Directory.CreateDirectory(bundle);
        File.WriteAllText(Path.Combine(bundle, "config.json"), "{\"process\": [}");
        var result = Moat("audit", "--bundle", bundle);
        Assert.Equal(125, result.Exit);
        Assert.StartsWith("Error: config.json", result.Err);
    }

    public void Dispose() => Directory.Delete(work, recursive: true);
}
