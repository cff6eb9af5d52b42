using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>load: images from a docker-archive or oci-archive (file or standard input).</summary>
public static class LoadCommand
{
    public static Command Create(string name = "load")
    {
        var input = new Option<string?>("--input", "-i") { Description = "the archive to read (default: standard input)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only what was loaded" };
        var command = new Command(name, "load images from an archive");
        command.Options.Add(input);
        command.Options.Add(quiet);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            using var stream = parse.GetValue(input) is { } path
                ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20)
                : new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1 << 20);
            if (parse.GetValue(input) is null && Moat.Interop.Libc.isatty(0) == 1)
                throw new ArgumentException("no archive: give -i FILE or pipe one into standard input");
            foreach (var image in context.Images.Load(stream))
            {
                if (image.Names.Count == 0)
                    context.Out($"Loaded image ID: {image.Id}\n");
                foreach (var loaded in image.Names)
                    context.Out($"Loaded image: {loaded}\n");
            }
            return 0;
        }));
        return command;
    }
}
