using System.CommandLine;
using Moat.Images.Service;
using Moat.Interop;

namespace Moat.Cli.Commands;

/// <summary>save: images into a docker-archive (as `docker save` writes it) or an oci-archive.</summary>
public static class SaveCommand
{
    public static Command Create(string name = "save")
    {
        var images = new Argument<string[]>("IMAGE") { Description = "names or ids", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--output", "-o") { Description = "the archive to write (default: standard output, which must not be a terminal)" };
        var format = new Option<string>("--format") { Description = "docker-archive or oci-archive", DefaultValueFactory = _ => "docker-archive" };
        format.AcceptOnlyFromAmong("docker-archive", "oci-archive");
        var command = new Command(name, "save images to an archive");
        command.Arguments.Add(images);
        command.Options.Add(output);
        command.Options.Add(format);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var kind = parse.GetValue(format) == "oci-archive" ? ArchiveFormat.OciArchive : ArchiveFormat.DockerArchive;
            if (parse.GetValue(output) is { } path)
            {
                // Written beside the target and renamed: a failed save leaves no half archive under the name.
                var temporary = path + ".moat-partial";
                try
                {
                    using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                    {
                        context.Images.Save(parse.GetValue(images)!, file, kind);
                        file.Flush(flushToDisk: true);
                    }
                    File.Move(temporary, path, overwrite: true);
                }
                finally
                {
                    File.Delete(temporary);
                }
                return 0;
            }
            if (Libc.isatty(1) == 1)
                throw new ArgumentException("refusing to write an archive to a terminal: use -o FILE or redirect standard output");
            using var stdout = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1 << 20);
            context.Images.Save(parse.GetValue(images)!, stdout, kind);
            return 0;
        }));
        return command;
    }
}
