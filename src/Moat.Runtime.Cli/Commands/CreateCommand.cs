using Moat.Runtime.Cli.Parsing;
using Moat.Runtime.Create;

namespace Moat.Runtime.Cli.Commands;

public static class CreateCommand
{
    public static readonly Option<string> Bundle = new("--bundle", "-b")
    {
        Description = "path to the root of the bundle directory, defaults to the current directory",
        DefaultValueFactory = _ => ".",
    };
    public static readonly Option<string?> ConsoleSocket = new("--console-socket")
    {
        Description = "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
    };
    public static readonly Option<string?> PidFile = new("--pid-file") { Description = "specify the file to write the process id to" };
    public static readonly Option<bool> NoPivot = new("--no-pivot") { Description = "do not use pivot root to jail process inside rootfs (chroot instead)" };
    public static readonly Option<bool> NoNewKeyring = new("--no-new-keyring") { Description = "do not create a new session keyring for the container" };
    public static readonly Option<int> PreserveFds = new("--preserve-fds") { Description = "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)" };
    public static readonly Argument<string> Id = IdArgument.One("the container's unique name on this host");

    public static Command Create()
    {
        var command = new Command("create", "create a container (its process waits until start)");
        foreach (var option in new Option[] { Bundle, ConsoleSocket, PidFile, NoPivot, NoNewKeyring, PreserveFds })
            command.Options.Add(option);
        command.Arguments.Add(Id);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            var options = Options(parse, startImmediately: false);
            var created = context.Runtime.Create(options);
            created.Pidfd.Dispose();
            return 0;
        }));
        return command;
    }

    /// <summary>The create options shared by create and run.</summary>
    public static CreateOptions Options(ParseResult parse, bool startImmediately, bool foreground = false)
    {
        var preserve = parse.GetValue(PreserveFds);
        if (preserve < 0)
            throw new Runtime.RuntimeException("--preserve-fds must not be negative");
        // Socket activation (systemd's LISTEN_FDS): the listening sockets at 3.. are passed on too,
        // and the container process is told about them as pid 1.
        var listenFds = ListenFds();
        return new CreateOptions(
            Id: parse.GetValue(Id)!,
            Bundle: parse.GetValue(Bundle)!,
            PidFile: parse.GetValue(PidFile),
            NoPivot: parse.GetValue(NoPivot),
            NoNewKeyring: parse.GetValue(NoNewKeyring),
            PreserveFds: preserve + listenFds,
            StartImmediately: startImmediately,
            ListenFds: listenFds,
            ConsoleSocket: parse.GetValue(ConsoleSocket) is { } socket ? Path.GetFullPath(socket) : null,
            Foreground: foreground);
    }

    static int ListenFds()
    {
        var text = Environment.GetEnvironmentVariable("LISTEN_FDS");
        if (string.IsNullOrEmpty(text))
            return 0;
        if (!int.TryParse(text, out var n) || n < 0)
            throw new Runtime.RuntimeException($"LISTEN_FDS=\"{text}\" is not a count of descriptors");
        return n;
    }
}
