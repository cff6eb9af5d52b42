using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>restart: stop (with -t) then start.</summary>
public static class RestartCommand
{
    public static Command Create(string name = "restart")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var time = new Option<int?>("--time", "-t") { Description = "seconds to wait before SIGKILL" };
        var command = new Command(name, "restart containers");
        command.Arguments.Add(containers);
        command.Options.Add(time);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
            context.ForEach(parse.GetValue(containers)!, n => { context.Engine.Restart(n, parse.GetValue(time)); return n; })));
        return command;
    }
}
