using System.CommandLine;
using Moat.Interop;
using Moat.Runtime.Create;
using Moat.Runtime.Lifecycle;

namespace Moat.Cli.Commands;

public static class RunCommand
{
    public static Command Create()
    {
        var detach = new Option<bool>("--detach", "-d") { Description = "detach from the container's process" };
        var command = new Command("run", "create and run a container; exits with the container's status");
        foreach (var option in new Option[] { CreateCommand.Bundle, CreateCommand.ConsoleSocket, CreateCommand.PidFile,
                     CreateCommand.NoPivot, CreateCommand.NoNewKeyring, CreateCommand.PreserveFds, detach })
            command.Options.Add(option);
        command.Arguments.Add(CreateCommand.Id);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            var options = CreateCommand.Options(parse, startImmediately: true, foreground: !parse.GetValue(detach));
            if (parse.GetValue(detach))
            {
                var detached = new ContainerCreator(context.Store, context.Debug, context.Warn).Create(options);
                detached.Pidfd.Dispose();
                new ContainerLifecycle(context.Store, context.Warn).RunPoststart(detached.State);
                return 0;
            }
            // An init in a joined pid namespace is our grandchild: become its reaper so we can wait for it.
            Libc.Prctl(Libc.PR_SET_CHILD_SUBREAPER, 1, "become child subreaper");
            using var signals = ForegroundProcess.CatchSignals();
            var created = new ContainerCreator(context.Store, context.Debug, context.Warn).Create(options);
            using var pidfd = created.Pidfd;
            var lifecycle = new ContainerLifecycle(context.Store, context.Warn);
            var relay = created.Console is { } console ? new Moat.Runtime.Terminal.TerminalRelay(console) : null;
            lifecycle.RunPoststart(created.State);
            var status = signals.Wait(pidfd, relay);
            lifecycle.Delete(options.Id, force: true);
            return status;
        }));
        return command;
    }
}
