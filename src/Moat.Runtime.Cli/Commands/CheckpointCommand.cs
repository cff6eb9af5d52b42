using Moat.Runtime.Cli.Parsing;
using Moat.Runtime;

namespace Moat.Runtime.Cli.Commands;

/// <summary>checkpoint and restore: accepted with runc's arguments, answered with what is missing.</summary>
public static class CheckpointCommand
{
    public static IEnumerable<Command> Create()
    {
        foreach (var (name, description) in new[]
                 {
                     ("checkpoint", "checkpoint a running container (not supported)"),
                     ("restore", "restore a container from a previous checkpoint (not supported)"),
                 })
        {
            var command = new Command(name, description);
            command.Arguments.Add(new Argument<string>("container-id"));
            // runc's many CRIU flags are accepted, so that the message below is what a caller sees.
            command.TreatUnmatchedTokensAsErrors = false;
            command.SetAction(parse => CommandContext.Run(parse, _ =>
                throw new RuntimeException($"{name} is not supported by moat: it needs CRIU integration (checkpoint/restore in userspace), which moat does not have")));
            yield return command;
        }
    }
}
