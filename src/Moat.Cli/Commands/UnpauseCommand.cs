using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>unpause: the runtime's resume (the frozen processes thawed).</summary>
public static class UnpauseCommand
{
    public static Command Create(string name = "unpause")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var command = new Command(name, "unpause all processes of containers");
        command.Arguments.Add(containers);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
            context.ForEach(parse.GetValue(containers)!, n => { context.Engine.Unpause(n); return n; })));
        return command;
    }
}
