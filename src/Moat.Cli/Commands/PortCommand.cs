using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>port: the published ports recorded for the container (the networks issue publishes them), `host:container/proto` lines as docker prints.</summary>
public static class PortCommand
{
    public static Command Create(string name = "port")
    {
        var container = new Argument<string>("CONTAINER");
        var port = new Argument<string?>("PRIVATE_PORT") { Arity = ArgumentArity.ZeroOrOne, Description = "only this container port (PORT[/PROTO])" };
        var command = new Command(name, "list a container's published ports");
        command.Arguments.Add(container);
        command.Arguments.Add(port);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var record = context.Engine.Get(parse.GetValue(container)!);
            var wanted = parse.GetValue(port);
            foreach (var published in record.Settings.Ports)
            {
                // Recorded as HOST_IP:HOST_PORT:CONTAINER_PORT/PROTO.
                var last = published.LastIndexOf(':');
                var inside = last < 0 ? published : published[(last + 1)..];
                var outside = last < 0 ? "" : published[..last];
                if (wanted is not null && inside != wanted && inside != wanted + "/tcp")
                    continue;
                context.Out(wanted is null ? $"{inside} -> {outside}\n" : outside + "\n");
            }
            return 0;
        }));
        return command;
    }
}
