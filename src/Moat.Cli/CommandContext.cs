using System.CommandLine;
using System.Text;
using System.Text.Json;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.State;

namespace Moat.Cli;

/// <summary>What every command needs: the state store, output, and one place that turns errors into messages.</summary>
public sealed class CommandContext(ParseResult parse)
{
    public ParseResult Parse { get; } = parse;
    public StateStore Store { get; } = new(parse.GetValue(GlobalOptions.Root)!);
    string? LogFile => Parse.GetValue(GlobalOptions.Log);
    bool JsonLog => Parse.GetValue(GlobalOptions.LogFormat) == "json";

    public static void Out(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Libc.WriteAll(1, bytes, "stdout");
    }

    public void Warn(string message) => Log("warning", message);

    public void Debug(string message)
    {
        if (Parse.GetValue(GlobalOptions.Debug))
            Log("debug", message);
    }

    /// <summary>Errors go to stderr always, and to --log in runc's text or JSON form (containerd's shims read the JSON).</summary>
    void Log(string level, string message)
    {
        Console.Error.WriteLine(level == "error" ? $"moat: {message}" : $"moat: {level}: {message}");
        if (LogFile is not { } file)
            return;
        var time = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ");
        var line = JsonLog
            ? $"{{\"level\":\"{level}\",\"msg\":{JsonEncode(message)},\"time\":\"{time}\"}}\n"
            : $"time=\"{time}\" level={level} msg={JsonEncode(message)}\n";
        try
        {
            File.AppendAllText(file, line);
        }
        catch (IOException)
        {
            // The log is best effort; the message is on stderr already.
        }
    }

    static string JsonEncode(string s) =>
        JsonSerializer.Serialize(s, Moat.Cli.CliJsonContext.Default.String);

    /// <summary>Runs a command body; a failure becomes one clear line and exit status 1.</summary>
    public static int Run(ParseResult parse, Func<CommandContext, int> body)
    {
        var context = new CommandContext(parse);
        try
        {
            if (parse.GetValue(GlobalOptions.SystemdCgroup))
                throw new RuntimeException("--systemd-cgroup: the systemd cgroup driver is not available in this version of moat; use cgroupfs paths");
            return body(context);
        }
        catch (Exception e) when (e is RuntimeException or SpecException or SyscallException or IOException or UnauthorizedAccessException)
        {
            context.Log("error", e.Message);
            return 1;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal partial class CliJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
