using System.CommandLine;
using Moat.Interop;
using System.Diagnostics;
using Moat.Engine;
using Moat.Engine.Exec;

namespace Moat.Cli.Commands;

/// <summary>
/// exec: `&lt;runtime&gt; exec --process` from this process with our own stdio (with -t the runtime relays the
/// terminal itself); the process is the container's own, as docker builds it, with -u -e -w on top.
/// </summary>
public static class ExecCommand
{
    public static Command Create(string name = "exec")
    {
        var container = new Argument<string>("CONTAINER");
        var arguments = new Argument<string[]>("COMMAND") { Arity = ArgumentArity.OneOrMore };
        var interactive = new Option<bool>("--interactive", "-i") { Description = "keep stdin open" };
        var tty = new Option<bool>("--tty", "-t") { Description = "allocate a terminal" };
        var detach = new Option<bool>("--detach", "-d") { Description = "run in the background" };
        var user = new Option<string?>("--user", "-u") { Description = "user[:group] or uid[:gid]" };
        var env = new Option<string[]>("--env", "-e") { Description = "KEY=VALUE" };
        var workdir = new Option<string?>("--workdir", "-w") { Description = "working directory in the container" };
        var command = new Command(name, "run a command in a running container");
        command.Arguments.Add(container);
        command.Arguments.Add(arguments);
        foreach (var option in new Option[] { interactive, tty, detach, user, env, workdir })
            command.Options.Add(option);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var record = context.Engine.Get(parse.GetValue(container)!);
            if (record.State != Moat.Engine.Store.EngineStates.Running)
                throw new EngineException($"container {record.Name} is not running ({record.State})");
            var directory = context.Engine.DirectoryOf(record.Id);
            var process = ExecProcess.Build(directory, new ExecRequest
            {
                Command = parse.GetValue(arguments)!,
                Tty = parse.GetValue(tty),
                Interactive = parse.GetValue(interactive),
                Detach = parse.GetValue(detach),
                User = parse.GetValue(user),
                Env = (parse.GetValue(env) ?? []).Select(e => e.Contains('=') ? e : $"{e}={Environment.GetEnvironmentVariable(e)}").ToList(),
                WorkingDir = parse.GetValue(workdir),
            });
            var file = ExecProcess.WriteFile(directory, process);
            try
            {
                var start = new ProcessStartInfo(record.Runtime) { UseShellExecute = false };
                foreach (var a in record.Settings.RuntimeArgs) start.ArgumentList.Add(a);
                start.ArgumentList.Add("exec");
                start.ArgumentList.Add("--process");
                start.ArgumentList.Add(file);
                if (parse.GetValue(tty)) start.ArgumentList.Add("--tty");
                if (parse.GetValue(detach)) start.ArgumentList.Add("--detach");
                start.ArgumentList.Add(record.Id);
                if (parse.GetValue(detach))
                    return Detached(context, record, start);
                // Without -i the command's stdin is empty, as docker gives it.
                if (!parse.GetValue(interactive) && !parse.GetValue(detach))
                    start.RedirectStandardInput = true;
                using var child = Process.Start(start) ?? throw new EngineException($"cannot start {record.Runtime}");
                if (start.RedirectStandardInput)
                    child.StandardInput.Close();
                child.WaitForExit();
                context.Engine.Events.Container("exec_die", record.Id, record.Name, record.ImageName, new Dictionary<string, string> { ["exitCode"] = child.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                return child.ExitCode;
            }
            finally
            {
                File.Delete(file);
            }
        }));
        return command;
    }

    /// <summary>
    /// `exec -d`: the runtime's detached exec leaves the command with the runtime's stdio, so it gets /dev/null
    /// for all three (docker discards a detached exec's output): our own stdout or a caller's pipe would stay
    /// open, or break, for as long as the command runs. The runtime's own message is lost with it.
    /// </summary>
    static unsafe int Detached(ContainerCommandContext context, Moat.Engine.Store.ContainerRecord record, ProcessStartInfo start)
    {
        using var devNull = Libc.Open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC);
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}").ToList();
        var pid = Libc.Spawn(start.FileName, [start.FileName, .. start.ArgumentList], environment, devNull.Fd, devNull.Fd, devNull.Fd, defaultSignals: true);
        var code = Libc.Reap(pid);
        if (code != 0)
            throw new EngineException($"the runtime could not start the command in container {record.Name} (exit status {code}); run it without -d to see why");
        return 0;
    }
}
