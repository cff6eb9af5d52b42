using Moat.Runtime.Cli.Parsing;
using Moat.Runtime.Lifecycle;

namespace Moat.Runtime.Cli.Commands;

public static class StartCommand
{
    public static Command Create()
    {
        var id = IdArgument.One("the container to start");
        var command = new Command("start", "execute the user process of a created container");
        command.Arguments.Add(id);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            context.Runtime.Start(parse.GetValue(id)!);
            return 0;
        }));
        return command;
    }
}
