namespace Moat.Tests.Integration.Infrastructure;

/// <summary>
/// A small C program compiled with `gcc -static` at test time, for probes busybox has no applet for
/// (a container's root holds only busybox-static, so the program must need no loader or library).
/// </summary>
public static class StaticProgram
{
    /// <summary>Compiles <paramref name="source"/> into <paramref name="output"/> (mode 0755); fails the test with gcc's words.</summary>
    public static void Compile(string source, string output)
    {
        var file = Path.Combine(Path.GetDirectoryName(output)!, Path.GetFileName(output) + ".c");
        File.WriteAllText(file, source);
        try
        {
            if (!File.Exists("/usr/bin/gcc"))
                throw new InvalidOperationException("this test compiles a static probe and needs gcc with a static libc (apt-get install gcc libc6-dev)");
            var result = MoatCli.Exec("/usr/bin/gcc", ["-static", "-O1", "-o", output, file]);
            if (result.ExitCode != 0)
                throw new InvalidOperationException($"gcc -static failed for {output}:\n{result.Stderr}");
            File.SetUnixFileMode(output, (UnixFileMode)Convert.ToInt32("755", 8));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
