using System.CommandLine;
using System.Globalization;

namespace Moat.Cli.Commands;

/// <summary>wait: blocks until each container exits and prints its exit code.</summary>
public static class WaitCommand
{
    public static Command Create(string name = "wait")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var command = new Command(name, "wait for containers to exit and print their exit codes");
        command.Arguments.Add(containers);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var interrupted = ImageCommandContext.Interruptible();
            return context.ForEach(parse.GetValue(containers)!, n => context.Engine.Wait(n, interrupted).ToString(CultureInfo.InvariantCulture));
        }));
        return command;
    }
}
