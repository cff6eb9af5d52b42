using Moat.Runtime.Cli.Parsing;
using System.Text.Json;
using Moat.Runtime.Lifecycle;

namespace Moat.Runtime.Cli.Commands;

public static class StateCommand
{
    public static Command Create()
    {
        var id = IdArgument.One("the container to report on");
        var command = new Command("state", "output the state of a container (runtime-spec state JSON)");
        command.Arguments.Add(id);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            var view = context.Runtime.State(parse.GetValue(id)!);
            CommandContext.Out(StateReport.From(view).ToJson() + "\n");
            return 0;
        }));
        return command;
    }
}
