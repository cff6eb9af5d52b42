using System.CommandLine;
using Moat.Cli.Output;

namespace Moat.Cli.Commands;

/// <summary>inspect (container inspect): docker's JSON document per container, in one array.</summary>
public static class InspectCommand
{
    public static Command Create(string name = "inspect")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var format = new Option<string>("--format", "-f") { Description = "json (the default), or {{.State.Status}}-style paths of the document", DefaultValueFactory = _ => "json" };
        var command = new Command(name, "show containers' configuration and state as JSON");
        command.Arguments.Add(containers);
        command.Options.Add(format);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var found = new List<(Moat.Engine.Store.ContainerRecord, string)>();
            var status = 0;
            foreach (var reference in parse.GetValue(containers)!)
            {
                try
                {
                    var record = context.Engine.Get(reference);
                    found.Add((record, context.Engine.DirectoryOf(record.Id)));
                }
                catch (Exception e)
                {
                    ContainerCommandContext.Report(e);
                    status = 1;
                }
            }
            var json = ContainerJson.Inspect(found);
            var template = parse.GetValue(format)!;
            if (template == "json")
            {
                context.Out(json + "\n");
                return status;
            }
            // A Go-template path ({{.State.Status}}, {{json .Config.Env}}): the common case, without a template engine.
            using var document = System.Text.Json.JsonDocument.Parse(json);
            foreach (var element in document.RootElement.EnumerateArray())
                context.Out(TemplatePath.Apply(template, element) + "\n");
            return status;
        }));
        return command;
    }
}
