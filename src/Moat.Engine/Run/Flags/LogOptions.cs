using System.Globalization;
using Moat.Monitor.Protocol;

namespace Moat.Engine.Run.Flags;

/// <summary>`--log-driver` (k8s-file, json-file, none) and its `--log-opt max-size=SIZE`, `max-file=N`.</summary>
public static class LogOptions
{
    public static string Driver(string text) => text switch
    {
        LogDrivers.K8sFile or LogDrivers.JsonFile or LogDrivers.None => text,
        "" => LogDrivers.K8sFile,
        _ => throw new RunFlagException($"--log-driver \"{text}\" is not available (k8s-file, json-file or none)"),
    };

    public static (long MaxSize, int MaxFiles) Parse(IEnumerable<string> options, string driver)
    {
        long maxSize = 0;
        int maxFiles = 1;
        bool filesGiven = false;
        foreach (var option in options)
        {
            var eq = option.IndexOf('=');
            if (eq <= 0)
                throw new RunFlagException($"--log-opt \"{option}\" is not KEY=VALUE");
            var value = option[(eq + 1)..];
            switch (option[..eq])
            {
                case "max-size":
                    // docker's json-file counts this size in 1000s (10m is 10,000,000 bytes); -1 is no limit.
                    maxSize = value == "-1" ? 0 : ByteSize.ParseDecimal(value, "--log-opt max-size");
                    break;
                case "max-file":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out maxFiles) || maxFiles < 1)
                        throw new RunFlagException($"--log-opt max-file \"{value}\" is not a number of 1 or more");
                    filesGiven = true;
                    break;
                default:
                    throw new RunFlagException($"--log-opt \"{option}\" is not known (max-size, max-file)");
            }
        }
        if (driver == LogDrivers.None && (maxSize > 0 || filesGiven))
            throw new RunFlagException("--log-opt does not go with --log-driver none");
        if (filesGiven && maxFiles > 1 && maxSize == 0)
            throw new RunFlagException("--log-opt max-file needs max-size (the log rotates by size)");
        return (maxSize, maxFiles);
    }
}
