using Moat.Runtime.Cli.Parsing;
using Moat.Runtime.Lifecycle;

namespace Moat.Runtime.Cli.Commands;

/// <summary>pause and resume: freeze and thaw every process of a container.</summary>
public static class PauseCommand
{
    public static IEnumerable<Command> Create()
    {
        var pauseId = IdArgument.One("the container to pause");
        var pause = new Command("pause", "suspend all processes inside the container (cgroup freezer)");
        pause.Arguments.Add(pauseId);
        pause.SetAction(parse => CommandContext.Run(parse, context =>
        {
            context.Runtime.Pause(parse.GetValue(pauseId)!);
            return 0;
        }));
        yield return pause;

        var resumeId = IdArgument.One("the container to resume");
        var resume = new Command("resume", "resume all processes that have been previously paused");
        resume.Arguments.Add(resumeId);
        resume.SetAction(parse => CommandContext.Run(parse, context =>
        {
            context.Runtime.Resume(parse.GetValue(resumeId)!);
            return 0;
        }));
        yield return resume;
    }
}
