using Moat.Runtime.Cli.Parsing;
using Moat.Interop;
using Moat.Runtime.Create;
using Moat.Runtime.Lifecycle;

namespace Moat.Runtime.Cli.Commands;

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
            return context.Runtime.Run(options, parse.GetValue(detach));
        }));
        return command;
    }
}
