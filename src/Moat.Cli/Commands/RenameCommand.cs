using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>rename: a new unique name for a container (running or not).</summary>
public static class RenameCommand
{
    public static Command Create(string name = "rename")
    {
        var container = new Argument<string>("CONTAINER");
        var newName = new Argument<string>("NEW_NAME");
        var command = new Command(name, "rename a container");
        command.Arguments.Add(container);
        command.Arguments.Add(newName);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            context.Engine.Rename(parse.GetValue(container)!, parse.GetValue(newName)!);
            return 0;
        }));
        return command;
    }
}
