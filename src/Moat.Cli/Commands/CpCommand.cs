using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>cp: docker cp's `CONTAINER:SRC DEST` and `SRC CONTAINER:DEST`, files and directories, -a (keep owners), -L (follow SRC's symlink).</summary>
public static class CpCommand
{
    public static Command Create(string name = "cp")
    {
        var source = new Argument<string>("SRC") { Description = "CONTAINER:PATH or a host path" };
        var destination = new Argument<string>("DEST") { Description = "CONTAINER:PATH or a host path" };
        var archive = new Option<bool>("--archive", "-a") { Description = "keep the source's owners (uid and gid)" };
        var follow = new Option<bool>("--follow-link", "-L") { Description = "copy what SRC's final symlink points to" };
        var command = new Command(name, "copy files between a container and the host");
        command.Arguments.Add(source);
        command.Arguments.Add(destination);
        command.Options.Add(archive);
        command.Options.Add(follow);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var (from, to) = (parse.GetValue(source)!, parse.GetValue(destination)!);
            if (from == "-" || to == "-")
                throw new ArgumentException("cp with \"-\" (a tar stream on stdin or stdout) is not supported: name a host path");
            var (fromContainer, fromPath) = Split(from);
            var (toContainer, toPath) = Split(to);
            switch (fromContainer, toContainer)
            {
                case (not null, null):
                    context.Engine.CopyFromContainer(fromContainer, fromPath, toPath, parse.GetValue(archive), parse.GetValue(follow));
                    return 0;
                case (null, not null):
                    context.Engine.CopyToContainer(fromPath, toContainer, toPath, parse.GetValue(archive), parse.GetValue(follow));
                    return 0;
                case (not null, not null):
                    throw new ArgumentException("cp copies between a container and the host, not between two containers");
                default:
                    throw new ArgumentException("cp needs CONTAINER:PATH as its source or its destination");
            }
        }));
        return command;
    }

    /// <summary>docker's rule: `NAME:PATH` is a container's path unless it starts with / or . (a host path with a colon is written ./a:b).</summary>
    static (string? Container, string Path) Split(string argument)
    {
        if (argument.StartsWith('/') || argument.StartsWith('.'))
            return (null, argument);
        var colon = argument.IndexOf(':');
        if (colon <= 0)
            return (null, argument);
        var path = argument[(colon + 1)..];
        return (argument[..colon], path.Length == 0 ? "/" : path);
    }
}
