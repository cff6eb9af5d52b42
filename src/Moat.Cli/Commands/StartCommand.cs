using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>start: created or stopped containers; -a attaches (one container) and exits with its code, -i also forwards stdin.</summary>
public static class StartCommand
{
    public static Command Create(string name = "start")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var attach = new Option<bool>("--attach", "-a") { Description = "attach stdout and stderr and wait for the exit" };
        var interactive = new Option<bool>("--interactive", "-i") { Description = "attach stdin" };
        var command = new Command(name, "start containers");
        command.Arguments.Add(containers);
        command.Options.Add(attach);
        command.Options.Add(interactive);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var names = parse.GetValue(containers)!;
            if (parse.GetValue(attach) || parse.GetValue(interactive))
            {
                if (names.Length != 1)
                    throw new ArgumentException("start -a attaches to one container; give one");
                var record = context.Engine.Get(names[0]);
                return RunCommand.Attached(context, record, parse.GetValue(interactive) && record.Settings.Interactive, record.Settings.Tty, record.Settings.AutoRemove);
            }
            return context.ForEach(names, n => { context.Engine.Start(n); return n; });
        }));
        return command;
    }
}
