using Moat.Runtime.Cli.Parsing;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Exec;

namespace Moat.Runtime.Cli.Commands;

public static class ExecCommand
{
    static readonly Option<string?> ProcessFile = new("--process", "-p") { Description = "path to the process.json" };
    static readonly Option<string?> ConsoleSocket = new("--console-socket") { Description = "path to an AF_UNIX socket which will receive the console's pseudoterminal master" };
    static readonly Option<string?> Cwd = new("--cwd") { Description = "current working directory in the container" };
    static readonly Option<string[]> Env = new("--env", "-e") { Description = "set environment variables (NAME=value)" };
    static readonly Option<string?> User = new("--user", "-u") { Description = "UID (format: <uid>[:<gid>])" };
    static readonly Option<string[]> AdditionalGids = new("--additional-gids", "-g") { Description = "additional gids" };
    static readonly Option<string[]> Caps = new("--cap", "-c") { Description = "add a capability to the bounding, effective and permitted sets (and ambient, where the inheritable set names it)" };
    static readonly Option<bool> NoNewPrivs = new("--no-new-privs") { Description = "set the no new privileges value for the process" };
    static readonly Option<string?> Apparmor = new("--apparmor") { Description = "set the apparmor profile for the process" };
    static readonly Option<string?> ProcessLabel = new("--process-label") { Description = "set the SELinux label for the process" };
    static readonly Option<bool> Tty = new("--tty", "-t") { Description = "allocate a pseudo-TTY" };
    static readonly Option<bool> Detach = new("--detach", "-d") { Description = "detach from the container's process" };
    static readonly Option<string?> PidFile = new("--pid-file") { Description = "specify the file to write the process id to" };
    static readonly Option<int> PreserveFds = new("--preserve-fds") { Description = "pass N additional file descriptors to the process" };
    static readonly Option<bool> IgnorePaused = new("--ignore-paused") { Description = "allow exec in a paused container" };
    static readonly Argument<string> Id = IdArgument.One("the container to run the process in");
    static readonly Argument<string[]> CommandArgs = new("command") { Description = "the command and its arguments", Arity = ArgumentArity.ZeroOrMore };

    /// <summary>Options that take a value: needed to find where the container id (and the command after it) starts.</summary>
    static readonly HashSet<string> ValueOptions =
    [
        "--process", "-p", "--console-socket", "--cwd", "--env", "-e", "--user", "-u", "--additional-gids", "-g",
        "--cap", "-c", "--apparmor", "--process-label", "--pid-file", "--preserve-fds",
    ];

    static bool TakesValue(string arg) => ValueOptions.Contains(arg) || GlobalOptions.TakesValue(arg);

    /// <summary>
    /// runc stops reading its own flags at the container id, so `exec ID sh -c 'x'` passes -c to sh.
    /// The parser needs an explicit "--" there; this inserts it.
    /// </summary>
    public static string[] SeparateCommand(string[] args)
    {
        // Every call passes here: without "exec" there is nothing to do, and the options below (this
        // class's static fields) are not even built.
        if (Array.IndexOf(args, "exec") < 0)
            return args;
        var exec = -1;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "exec")
            {
                exec = i;
                break;
            }
            if (TakesValue(args[i]))
                i++;
        }
        if (exec < 0)
            return args;
        for (var i = exec + 1; i < args.Length; i++)
        {
            if (args[i] == "--")
                return args;
            if (args[i].StartsWith('-'))
            {
                if (TakesValue(args[i]))
                    i++;
                continue;
            }
            // args[i] is the container id.
            if (i + 1 < args.Length && args[i + 1] != "--")
                return [.. args[..(i + 1)], "--", .. args[(i + 1)..]];
            return args;
        }
        return args;
    }

    public static Command Create()
    {
        var command = new Command("exec", "execute a new process inside a container");
        foreach (var option in new Option[] { ProcessFile, ConsoleSocket, Cwd, Env, User, AdditionalGids, Caps, NoNewPrivs,
                     Apparmor, ProcessLabel, Tty, Detach, PidFile, PreserveFds, IgnorePaused })
            command.Options.Add(option);
        command.Arguments.Add(Id);
        command.Arguments.Add(CommandArgs);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            var id = parse.GetValue(Id)!;
            var process = BuildProcess(parse, context.Runtime, id, context.Warn);
            var preserve = parse.GetValue(PreserveFds);
            if (preserve < 0)
                throw new RuntimeException("--preserve-fds must not be negative");
            var detach = parse.GetValue(Detach);
            var consoleSocket = parse.GetValue(ConsoleSocket) is { } socket ? Path.GetFullPath(socket) : null;
            return context.Runtime.ExecAndWait(new ExecOptions(id, process, parse.GetValue(PidFile), preserve, parse.GetValue(IgnorePaused),
                consoleSocket, Foreground: !detach), detach);
        }));
        return command;
    }

    static Process BuildProcess(ParseResult parse, Moat.Runtime.Api.IContainerRuntime runtime, string id, Action<string> warn)
    {
        var flags = new ExecProcessFlags
        {
            Tty = parse.GetValue(Tty),
            Cwd = parse.GetValue(Cwd),
            Env = parse.GetValue(Env) ?? [],
            User = parse.GetValue(User),
            AdditionalGids = parse.GetValue(AdditionalGids) ?? [],
            Caps = parse.GetValue(Caps) ?? [],
            NoNewPrivileges = parse.GetValue(NoNewPrivs),
            Apparmor = parse.GetValue(Apparmor),
            ProcessLabel = parse.GetValue(ProcessLabel),
        };
        var args = parse.GetValue(CommandArgs) ?? [];
        if (parse.GetValue(ProcessFile) is { } file)
            return ExecProcess.FromFile(CommandContext.ReadFile(file, "--process"), file, flags, args, warn);
        return ExecProcess.FromContainer(runtime.ConfigOf(id).Process, args, flags, warn);
    }
}
