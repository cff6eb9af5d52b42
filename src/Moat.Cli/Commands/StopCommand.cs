using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>stop: the stop signal, then SIGKILL after -t seconds (the container's --stop-timeout, default 10).</summary>
public static class StopCommand
{
    public static Command Create(string name = "stop")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var time = new Option<int?>("--time", "-t") { Description = "seconds to wait before SIGKILL" };
        var command = new Command(name, "stop running containers");
        command.Arguments.Add(containers);
        command.Options.Add(time);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
            context.ForEach(parse.GetValue(containers)!, n => { context.Engine.Stop(n, parse.GetValue(time)); return n; })));
        return command;
    }
}
