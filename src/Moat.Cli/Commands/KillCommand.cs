using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>kill: one signal (default SIGKILL) to each container's init.</summary>
public static class KillCommand
{
    public static Command Create(string name = "kill")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var signal = new Option<string>("--signal", "-s") { Description = "the signal (name or number)", DefaultValueFactory = _ => "SIGKILL" };
        var command = new Command(name, "send a signal to containers");
        command.Arguments.Add(containers);
        command.Options.Add(signal);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
            context.ForEach(parse.GetValue(containers)!, n => { context.Engine.Kill(n, parse.GetValue(signal)!); return n; })));
        return command;
    }
}
