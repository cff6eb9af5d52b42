namespace Moat.Runtime.Init;

/// <summary>Finds process.args[0] the way execvp(3) and runc do, using the container's PATH.</summary>
public static class ExecutableLookup
{
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static string Resolve(string file, IEnumerable<string>? env, Func<string, bool> isExecutable, Func<string, bool>? exists = null)
    {
        if (file.Length == 0)
            throw new RuntimeException("process.args[0] is empty");
        if (file.Contains('/'))
        {
            // Engines read these words, as runc writes them: docker and podman turn "no such file
            // or directory" into exit status 127 and "permission denied" into 126.
            if (!isExecutable(file))
                throw new RuntimeException(exists?.Invoke(file) == true
                    ? $"exec: \"{file}\": permission denied"
                    : $"exec: \"{file}\": stat {file}: no such file or directory");
            return file;
        }
        var path = (env ?? []).LastOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?[5..] ?? DefaultPath;
        foreach (var dir in path.Split(':'))
        {
            var candidate = (dir.Length == 0 ? "." : dir.TrimEnd('/')) + "/" + file;
            if (isExecutable(candidate))
                return candidate;
        }
        throw new RuntimeException($"exec: \"{file}\": executable file not found in $PATH");
    }
}
