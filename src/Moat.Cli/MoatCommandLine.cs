using System.CommandLine;
using Moat.Cli.Commands;

namespace Moat.Cli;

/// <summary>The `moat` command tree: the command people use (the engine issues fill it in).</summary>
public static class MoatCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("moat: run containers at three strengths (container, sandbox, vm); the OCI runtime is moat-runtime");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        return root;
    }
}
