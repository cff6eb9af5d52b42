using System.CommandLine;
using Moat.Cli.Commands;

namespace Moat.Cli;

public static class MoatCommandLine
{
    const string Description = "moat: an OCI container runtime (runc's command line)";

    /// <summary>The command tree; <paramref name="args"/> only decides whether --help and --version are wired in.</summary>
    public static Command Build(IReadOnlyList<string>? args = null)
    {
        // RootCommand adds --help and --version, and System.CommandLine loads their descriptions
        // through a ResourceManager (reflection under NativeAOT: 6% of the CPU of a `moat start`).
        // Engines never ask for either, so a plain root serves every call that cannot be asking.
        var mayAskForHelp = args is null || args.Count == 0
            || args.Any(a => a is "-h" or "--help" or "-?" or "/?" or "/h" or "--version" or "help");
        var root = mayAskForHelp ? new RootCommand(Description) : new Command("moat", Description);
        GlobalOptions.AddTo(root);
        foreach (var command in new[]
                 {
                     CreateCommand.Create(), StartCommand.Create(), StateCommand.Create(), KillCommand.Create(),
                     DeleteCommand.Create(), RunCommand.Create(), ListCommand.Create(), SpecCommand.Create(),
                     FeaturesCommand.Create(), ExecCommand.Create(), PsCommand.Create(), UpdateCommand.Create(), EventsCommand.Create(),
                 }.Concat(CheckpointCommand.Create()).Concat(PauseCommand.Create()))
            root.Subcommands.Add(command);
        return root;
    }
}
