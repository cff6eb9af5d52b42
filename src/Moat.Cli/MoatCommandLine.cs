using System.CommandLine;
using Moat.Cli.Commands;

namespace Moat.Cli;

public static class MoatCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("moat: an OCI container runtime (runc's command line)");
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
