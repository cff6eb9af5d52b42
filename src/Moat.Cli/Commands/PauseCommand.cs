using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>pause: the runtime's pause (every process of the container frozen).</summary>
public static class PauseCommand
{
    public static Command Create(string name = "pause")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var command = new Command(name, "pause all processes of containers");
        command.Arguments.Add(containers);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
            context.ForEach(parse.GetValue(containers)!, n => { context.Engine.Pause(n); return n; })));
        return command;
    }
}
