using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>rm: stopped containers; -f also running ones (killed first); -v also their anonymous volumes.</summary>
public static class RmCommand
{
    public static Command Create(string name = "rm")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "kill a running container first" };
        var volumes = new Option<bool>("--volumes", "-v") { Description = "remove its anonymous volumes too" };
        var command = new Command(name, "remove containers");
        command.Arguments.Add(containers);
        command.Options.Add(force);
        command.Options.Add(volumes);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
            context.ForEach(parse.GetValue(containers)!, n => { context.Engine.Remove(n, parse.GetValue(force), parse.GetValue(volumes)); return n; })));
        return command;
    }
}
