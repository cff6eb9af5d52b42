using System.CommandLine;
using Moat.Images.Archives;

namespace Moat.Cli.Commands;

/// <summary>import: a root filesystem tarball (plain, gzip or zstd) becomes a one-layer image.</summary>
public static class ImportCommand
{
    public static Command Create(string name = "import")
    {
        var source = new Argument<string>("FILE") { Description = "the tarball, or - for standard input" };
        var reference = new Argument<string?>("REFERENCE") { Description = "a name for the image", Arity = ArgumentArity.ZeroOrOne };
        var changes = new Option<string[]>("--change", "-c") { Description = "a Dockerfile instruction to apply (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, WORKDIR)", AllowMultipleArgumentsPerToken = false };
        var message = new Option<string?>("--message", "-m") { Description = "the history entry's comment" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only the image id" };
        var command = new Command(name, "create an image from a root filesystem tarball");
        command.Arguments.Add(source);
        command.Arguments.Add(reference);
        command.Options.Add(changes);
        command.Options.Add(message);
        command.Options.Add(quiet);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var path = parse.GetValue(source)!;
            using var stream = path == "-"
                ? new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1 << 20)
                : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var image = context.Images.Import(stream, parse.GetValue(reference), new ImportOptions
            {
                Changes = parse.GetValue(changes) ?? [],
                Message = parse.GetValue(message),
            });
            context.Out((parse.GetValue(quiet) ? image.Id.Hex : image.Id.ToString()) + "\n");
            return 0;
        }));
        return command;
    }
}
