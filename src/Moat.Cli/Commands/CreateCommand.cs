using System.CommandLine;
using Moat.Cli.Checks;
using Moat.Cli.Output;

namespace Moat.Cli.Commands;

/// <summary>create: the container, its layer, bundle and monitor, ready for `start`; prints its id.</summary>
public static class CreateCommand
{
    public static Command Create(string name = "create")
    {
        var image = new Argument<string>("IMAGE") { Description = "the image" };
        var arguments = new Argument<string[]>("COMMAND") { Description = "the command and its arguments (default: the image's)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command(name, "create a container without starting it");
        command.Arguments.Add(image);
        command.Arguments.Add(arguments);
        RunFlags.AddTo(command);
        var checkFlags = new RunCheckFlags(isRun: false);
        checkFlags.AddTo(command);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var request = RunFlags.Read(parse, parse.GetValue(image)!, parse.GetValue(arguments) ?? [], RunFlags.HostWith(context.Engine));
            using var checks = new CreateChecks(checkFlags.Read(parse), context.Engine.Images, ImageCommandContext.Warn);
            request = request with { Checks = checks };
            foreach (var warning in request.Warnings)
                ImageCommandContext.Warn(warning);
            var record = context.Engine.CreateAsync(request, new ProgressDisplay(parse.InvocationConfiguration.Error, 2), ImageCommandContext.Interruptible()).GetAwaiter().GetResult();
            context.Out(record.Id + "\n");
            return 0;
        }));
        return command;
    }
}
