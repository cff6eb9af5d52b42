using Moat.Runtime.Cli.Parsing;
using Moat.Runtime.Lifecycle;

namespace Moat.Runtime.Cli.Commands;

public static class DeleteCommand
{
    public static Command Create()
    {
        var ids = IdArgument.Many("the containers to delete");
        var force = new Option<bool>("--force", "-f") { Description = "forcibly delete the container if it is still running (uses SIGKILL)" };
        var command = new Command("delete", "delete a container and everything it holds (processes, cgroups, state)");
        command.Arguments.Add(ids);
        command.Options.Add(force);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            foreach (var id in parse.GetValue(ids)!)
                context.Runtime.Delete(id, parse.GetValue(force));
            return 0;
        }));
        return command;
    }
}
