using Moat.Runtime.Cli.Parsing;
using Moat.Runtime.Lifecycle;

namespace Moat.Runtime.Cli.Commands;

public static class KillCommand
{
    public static Command Create()
    {
        var id = IdArgument.One("the container to signal");
        var signal = new Argument<string>("signal")
        {
            Description = "signal name (TERM, SIGKILL, RTMIN+1) or number; default SIGTERM",
            DefaultValueFactory = _ => "SIGTERM",
        };
        var all = new Option<bool>("--all", "-a") { Description = "send the signal to all processes in the container" };
        var command = new Command("kill", "send a signal to the container's init process");
        command.Arguments.Add(id);
        command.Arguments.Add(signal);
        command.Options.Add(all);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            var number = Signals.Parse(parse.GetValue(signal)!);
            context.Runtime.Kill(parse.GetValue(id)!, number, parse.GetValue(all));
            return 0;
        }));
        return command;
    }
}
