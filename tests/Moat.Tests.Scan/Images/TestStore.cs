using System.Diagnostics;
using System.CommandLine;
using Moat.Images.Archives;
using Moat.Images.Service;
using Moat.Images.Storage;

namespace Moat.Tests.Scan.Images;

/// <summary>A temporary Moat store, rootfs directories imported into it as images, and `moat` commands run in-process against it.</summary>
public sealed class TestStore : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("moat-scan-").FullName;
    public string Root => Path.Combine(Directory, "store");

    public ImageService Open() => new(new ImageServiceOptions { Root = Root });

    /// <summary>A new empty rootfs directory to fill.</summary>
    public string NewRootfs(string name)
    {
        var path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Imports a rootfs directory as a one-layer image with the given name, as `moat import` does.</summary>
    public ImageRecord Import(string rootfs, string name)
    {
        var tarball = Path.Combine(Directory, Path.GetFileName(rootfs) + ".tar");
        Run("tar", "-C", rootfs, "-cf", tarball, ".");
        using var images = Open();
        using var stream = File.OpenRead(tarball);
        return images.Import(stream, name, new ImportOptions { Created = DateTimeOffset.UnixEpoch });
    }

    /// <summary>Runs `moat --root STORE ARGS...` in this process; the exit status and what it wrote to stdout.</summary>
    public (int Exit, string Output) Moat(params string[] arguments)
    {
        using var output = new StringWriter();
        var all = new[] { "--root", Root }.Concat(arguments).ToArray();
        var exit = global::Moat.Cli.MoatCommandLine.Build().Parse(all).Invoke(new InvocationConfiguration { Output = output, Error = new StringWriter() });
        return (exit, output.ToString());
    }

    public static string Run(string file, params string[] arguments) => RunIn(null, file, arguments);

    public static string RunIn(string? workingDirectory, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {stderr}");
        return stdout.Result;
    }

    public void Dispose() => Run("rm", "-rf", Directory);
}
