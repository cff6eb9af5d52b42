using System.CommandLine;
using Moat.Engine;
using Moat.Engine.Containers;
using Moat.Engine.Monitor;

namespace Moat.Cli;

/// <summary>What a container command needs: the engine over the store the flags name, output, and docker's exit statuses for failures.</summary>
public sealed class ContainerCommandContext(ParseResult parse) : IDisposable
{
    ContainerEngine? engine;

    public ParseResult Parse { get; } = parse;

    public ContainerEngine Engine => engine ??= new ContainerEngine(new EngineOptions
    {
        Images = new Moat.Images.Service.ImageServiceOptions
        {
            Root = Parse.GetValue(MoatGlobalOptions.Root),
            RegistriesConf = Parse.GetValue(MoatGlobalOptions.RegistriesConf),
            Warn = ImageCommandContext.Warn,
        },
    });

    public void Out(string text) => Parse.InvocationConfiguration.Output.Write(text);

    public static int Run(ParseResult parse, Func<ContainerCommandContext, int> body)
    {
        using var context = new ContainerCommandContext(parse);
        try
        {
            return body(context);
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>One failure as a sentence; 127/126 for a command the runtime could not run (docker's), else 125.</summary>
    public static int Report(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: > 0 } aggregate)
            e = aggregate.InnerExceptions[0];
        var status = ImageCommandContext.Report(e);
        return e is StartFailedException failed ? failed.ExitStatus : status;
    }

    /// <summary>Runs <paramref name="action"/> for each container named; one failure does not stop the others (docker's rule), exit 1 if any failed.</summary>
    public int ForEach(IEnumerable<string> references, Func<string, string?> action)
    {
        var status = 0;
        foreach (var reference in references)
        {
            try
            {
                if (action(reference) is { } line)
                    Out(line + "\n");
            }
            catch (Exception e)
            {
                Report(e);
                status = 1;
            }
        }
        return status;
    }

    public void Dispose() => engine?.Dispose();
}
