using Moat.Runtime.Cli.Parsing;
using System.Text;
using System.Text.Json;
using Moat.Interop;
using Moat.Oci;
using Moat.Oci.Json;
using Moat.Runtime;
using Moat.Runtime.State;

namespace Moat.Runtime.Cli;

/// <summary>What every command needs: the state store, output, and one place that turns errors into messages.</summary>
public sealed class CommandContext(ParseResult parse)
{
    public ParseResult Parse { get; } = parse;
    Moat.Runtime.Api.ContainerRuntime? runtime;

    /// <summary>The runtime API every command calls; the tier of a new container comes from --isolation, its annotation or this executable's name.</summary>
    public Moat.Runtime.Api.ContainerRuntime Runtime => runtime ??= new(new Moat.Runtime.Api.RuntimeSettings(Parse.GetValue(GlobalOptions.Root)!)
    {
        Isolation = Parse.GetValue(GlobalOptions.Isolation),
        ExecutableName = Environment.GetCommandLineArgs().FirstOrDefault(),
        Warn = Warn,
        Debug = Parse.GetValue(GlobalOptions.Debug) ? Debug : null,
#if MOAT_TIERS
        // moat-runtime-tiers: made only when a sandboxed or vm container is asked for or met.
        Tiers = new Dictionary<Moat.Runtime.Tiers.Isolation, Func<Moat.Runtime.Tiers.TierServices, Moat.Runtime.Tiers.IIsolationTier>>
        {
            [Moat.Runtime.Tiers.Isolation.Sandbox] = services => new Moat.Sandbox.Tier.SandboxTier(services,
                Parse.GetValue(GlobalOptions.SandboxPolicy), Environment.ProcessPath ?? "/proc/self/exe"),
            [Moat.Runtime.Tiers.Isolation.Vm] = services => new Moat.Vm.Host.VmTier(services.Store, services.Warn, services.Debug),
        },
#else
        // moat-runtime: the container tier only; the others' containers go to moat-runtime-tiers.
        HandOver = TierHandOver.To,
#endif
    });
    string? LogFile => Parse.GetValue(GlobalOptions.Log);
    bool JsonLog => Parse.GetValue(GlobalOptions.LogFormat) == "json";

    public static void Out(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Libc.WriteAll(1, bytes, "stdout");
    }

    /// <summary>
    /// One line on stderr with a plain write(2). Not System.Console: its first use on a terminal
    /// initialises it, which sends the terminfo keypad string (smkx) and leaves the terminal in
    /// application keypad mode after we exit.
    /// </summary>
    public static void Err(string line) => DescriptorWriter.ErrorLine(line);

    /// <summary>A file named by an option, its failure said with the option and the path.</summary>
    public static byte[] ReadFile(string path, string option)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RuntimeException($"{option} {path}: {ErrorText.Reason(e)}", e);
        }
    }

    public void Warn(string message) => Log("warning", message);

    public void Debug(string message)
    {
        if (Parse.GetValue(GlobalOptions.Debug))
            Log("debug", message);
    }

    /// <summary>
    /// As runc: without --log, everything goes to stderr; with --log, to the log file in runc's text
    /// or JSON form (containerd's shims read the JSON), and an error also as a plain line on stderr.
    /// A log that cannot be written is replaced by stderr.
    /// </summary>
    void Log(string level, string message)
    {
        var line = level == "error" ? $"moat: {message}" : $"moat: {level}: {message}";
        if (LogFile is not { } file)
        {
            Err(line);
            return;
        }
        var time = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ");
        var entry = JsonLog
            ? $"{{\"level\":\"{level}\",\"msg\":{JsonEncode(message)},\"time\":\"{time}\"}}\n"
            : $"time=\"{time}\" level={level} msg={JsonEncode(message)}\n";
        var written = false;
        try
        {
            using var fd = Libc.Open(file, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND, Convert.ToUInt32("644", 8));
            Libc.WriteAll(fd.Fd, Encoding.UTF8.GetBytes(entry), file);
            written = true;
        }
        catch (SyscallException)
        {
        }
        if (level == "error" || !written)
            Err(line);
    }

    static string JsonEncode(string s) =>
        Encoding.UTF8.GetString(SpecJson.ToUtf8Bytes(w => w.WriteStringValue(s)));

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
        catch (Exception e) when (e is RuntimeException or SpecException or SyscallException)
        {
            context.Log("error", e.Message);
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or FormatException or OverflowException)
        {
            // The framework's own messages are resource keys in this build: say it in words.
            context.Log("error", ErrorText.Of(e));
            return 1;
        }
    }
}
