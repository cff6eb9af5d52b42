using System.Diagnostics;
using Xunit;

namespace Moat.Tests.Unit.Native;

/// <summary>
/// Compiles a C program with the system compiler (the one that builds native/spawn.c) and reads
/// the "NAME=VALUE" lines it prints: how hand-declared constants and struct layouts are checked
/// against the system headers.
/// </summary>
public static class CProbe
{
    /// <summary>Where the repository's native/ folder is, for programs that include its headers.</summary>
    public static string NativeDirectory
    {
        get
        {
            var dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "Moat.slnx")))
                dir = Path.GetDirectoryName(dir);
            return Path.Combine(dir ?? throw new InvalidOperationException("cannot find the repository root (Moat.slnx)"), "native");
        }
    }

    public static Dictionary<string, long> Values(string program, params string[] compilerArgs) =>
        Texts(program, compilerArgs).ToDictionary(e => e.Key, e => long.Parse(e.Value));

    /// <summary>The "NAME=TEXT" lines as printed (the text is everything after the first '=').</summary>
    public static Dictionary<string, string> Texts(string program, params string[] compilerArgs) => TextsOfRun(program, [], compilerArgs);

    /// <summary>As <see cref="Texts"/>, with arguments for the program.</summary>
    public static Dictionary<string, string> TextsOfRun(string program, string[] programArgs, params string[] compilerArgs)
    {
        var dir = Directory.CreateTempSubdirectory("moat-cprobe-");
        try
        {
            var source = Path.Combine(dir.FullName, "probe.c");
            var binary = Path.Combine(dir.FullName, "probe");
            File.WriteAllText(source, program);
            Run("cc", [.. compilerArgs, "-o", binary, source]);
            return Run(binary, programArgs).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('=', 2))
                .ToDictionary(p => p[0], p => p[1]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Asserts that every expected value is what the C program printed for its name.</summary>
    public static void AssertEqual(Dictionary<string, long> fromC, IReadOnlyDictionary<string, long> expected)
    {
        var wrong = expected
            .Where(e => !fromC.TryGetValue(e.Key, out var c) || c != e.Value)
            .Select(e => $"{e.Key}: C says {(fromC.TryGetValue(e.Key, out var c) ? c : "nothing")}, C# says {e.Value}")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    static string Run(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} failed: {error}");
        return output;
    }
}
