using System.Diagnostics;

namespace Moat.Tests.Images.Cli;

public sealed record MoatResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the built `bin/moat` (make build) as a user would, with its own store.</summary>
public sealed class MoatProcess(string root, string? authFile = null)
{
    public string Root { get; } = root;
    public string AuthFile { get; } = authFile ?? Path.Combine(root, "auth.json");

    public static string Binary
    {
        get
        {
            var directory = AppContext.BaseDirectory;
            while (directory is not null && !File.Exists(Path.Combine(directory, "Moat.slnx")))
                directory = Path.GetDirectoryName(directory);
            var binary = Path.Combine(directory ?? throw new InvalidOperationException("the repository root was not found above " + AppContext.BaseDirectory), "bin", "moat");
            return File.Exists(binary) ? binary : throw new InvalidOperationException($"{binary} is missing: run `make build` first");
        }
    }

    public MoatResult Run(params string[] arguments) => RunWithInput(null, arguments);

    /// <summary>Starts moat and returns at once (for tests that interrupt it); output is discarded.</summary>
    public Process Start(params string[] arguments)
    {
        var start = Prepare(arguments);
        start.RedirectStandardOutput = false;
        start.RedirectStandardError = false;
        start.RedirectStandardInput = false;
        start.StandardOutputEncoding = null;
        return Process.Start(start)!;
    }

    public MoatResult RunWithInput(string? input, params string[] arguments)
    {
        var start = Prepare(arguments);
        using var process = Process.Start(start)!;
        if (input is not null) process.StandardInput.Write(input);
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"moat {string.Join(' ', arguments)} did not finish in 3 minutes");
        }
        return new MoatResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    ProcessStartInfo Prepare(string[] arguments)
    {
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        start.ArgumentList.Add("--root");
        start.ArgumentList.Add(Root);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["REGISTRY_AUTH_FILE"] = AuthFile;
        // The machine's registries.conf is not the test's business: an empty one of its own.
        var registriesConf = Path.Combine(Path.GetDirectoryName(Root)!, "registries.conf");
        if (!File.Exists(registriesConf))
            File.WriteAllText(registriesConf, "unqualified-search-registries = []\n");
        start.Environment["CONTAINERS_REGISTRIES_CONF"] = registriesConf;
        return start;
    }

    public string Ok(params string[] arguments)
    {
        var result = Run(arguments);
        Assert.True(result.ExitCode == 0, $"moat {string.Join(' ', arguments)}: {result}");
        return result.Stdout;
    }
}
