using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>tag: give a stored image another name.</summary>
public static class TagCommand
{
    public static Command Create(string name = "tag")
    {
        var source = new Argument<string>("SOURCE") { Description = "the image (name or id)" };
        var targets = new Argument<string[]>("TARGET") { Description = "new names: [REGISTRY/]NAME[:TAG]", Arity = ArgumentArity.OneOrMore };
        var command = new Command(name, "add names to an image");
        command.Arguments.Add(source);
        command.Arguments.Add(targets);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            foreach (var target in parse.GetValue(targets)!)
                context.Images.Tag(parse.GetValue(source)!, target);
            return 0;
        }));
        return command;
    }
}
