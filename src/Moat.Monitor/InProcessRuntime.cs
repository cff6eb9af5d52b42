using System.Text.Json;
using Moat.Interop;
using Moat.Monitor.Protocol;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Api;
using Moat.Runtime.Host;
using Moat.Runtime.State;

namespace Moat.Monitor;

/// <summary>
/// start and delete --force of Moat's own container-tier runtime, called through the runtime API in this
/// process instead of exec'ing moat-runtime (a fork+exec+start-up of ~2.4 ms each, on every container's
/// start and exit; docs/performance.md). Only when the configured runtime is the moat-runtime beside this
/// monitor and its global flags are ones the API honours (<see cref="For"/>); a container another tier
/// made is handed back to the exec'd runtime (null). Each verb answers as the exec'd runtime would: exit
/// code 0, or 1 and the line it would have written on stderr, from which <see cref="RuntimeClient.ErrorSentence"/>
/// takes the sentence.
/// </summary>
public sealed class InProcessRuntime
{
    public const string RuntimeName = "moat-runtime";

    readonly string root;
    readonly MonitorLog log;

    InProcessRuntime(string root, MonitorLog log)
    {
        this.root = root;
        this.log = log;
    }

    /// <summary>
    /// The in-process runtime for this config, or null when the verbs must be exec'd: another runtime
    /// (runc, crun, moat-runtime-sandbox or -vm, a wrapper, a moat-runtime elsewhere), or a global flag
    /// the API does not take here (--systemd-cgroup, --log, --debug, an --isolation other than container...).
    /// </summary>
    public static InProcessRuntime? For(MonitorConfig config, string? monitorPath, MonitorLog log)
    {
        if (monitorPath is null || Path.GetDirectoryName(monitorPath) is not { } binDirectory)
            return null;
        var own = Path.Combine(binDirectory, RuntimeName);
        if (Path.GetFullPath(config.Runtime) != own || !File.Exists(own))
            return null;
        return RootOf(config.RuntimeArgs) is { } root ? new InProcessRuntime(root, log) : null;
    }

    /// <summary>The state root the flags give (the default without --root), or null when a flag is not one this path honours.</summary>
    public static string? RootOf(IReadOnlyList<string> args)
    {
        string? root = null;
        for (var i = 0; i < args.Count; i++)
        {
            var (name, value) = args[i].IndexOf('=') is var eq and > 0 ? (args[i][..eq], args[i][(eq + 1)..]) : (args[i], null);
            if (name is "--root" or "--isolation" && value is null)
            {
                if (++i == args.Count)
                    return null;
                value = args[i];
            }
            switch (name)
            {
                case "--root" when value is { Length: > 0 }:
                    root = value;
                    break;
                // Only the default tier: start and delete follow the tier a container's state records
                // anyway, but another tier's flag is left wholly to its own executable.
                case "--isolation" when value == "container":
                    break;
                default:
                    return null;
            }
        }
        return root ?? StateStore.DefaultRoot();
    }

    /// <summary>runtime start ID; null: the container is another tier's, exec the runtime.</summary>
    public (int Code, string Stderr)? Start(string id) => Call("start", runtime => runtime.Start(id));

    /// <summary>runtime delete --force ID; null: the container is another tier's, exec the runtime.</summary>
    public (int Code, string Stderr)? ForceDelete(string id) => Call("delete", runtime => runtime.Delete(id, force: true));

    (int Code, string Stderr)? Call(string verb, Action<ContainerRuntime> body)
    {
        try
        {
            // A runtime per verb, with a host context of its own: the facts it reads (cgroup mounts...) are
            // as fresh as an exec'd runtime's, and nothing of it outlives the verb.
            var runtime = new ContainerRuntime(new RuntimeSettings(root)
            {
                Host = new HostContext(new SystemHostProbe()),
                // An exec'd runtime says warnings (a failed poststart or poststop hook) on a stderr that
                // nobody reads when it succeeds; here they go to the monitor's log.
                Warn = message => log.Write($"runtime {verb}: warning: {message}"),
                HandOver = _ => throw new OtherTierException(),
            });
            body(runtime);
            return (0, "");
        }
        catch (OtherTierException)
        {
            return null;
        }
        // What moat-runtime's command line (CommandContext.Run) turns into "moat: SENTENCE" and exit code 1.
        catch (Exception e) when (e is RuntimeException or SpecException or SyscallException)
        {
            return (1, $"moat: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or FormatException or OverflowException)
        {
            return (1, $"moat: {ErrorText.Of(e)}");
        }
        catch (Exception e)
        {
            // A bug of the runtime: an exec'd one would die of it and the monitor carry on; so here, with its stack in the log.
            log.Write($"runtime {verb}: {e}");
            return (1, $"moat: {ErrorText.Of(e)}");
        }
    }

    /// <summary>The container belongs to a tier only its own executable carries.</summary>
    sealed class OtherTierException : Exception;
}
