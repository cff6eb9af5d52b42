using System.CommandLine;
using System.Text.Json;
using Moat.Runtime.Api;
using Moat.Runtime.Host;

namespace Moat.Cli.Commands;

/// <summary>info: the host context (cgroups, LSMs, capabilities, kernel features) and which isolation tiers can run here.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("info", "show what this host offers and which isolation tiers can run on it");
        command.Options.Add(format);
        command.SetAction(parse =>
        {
            var host = HostContext.Current;
            var tiers = new ContainerRuntime(new RuntimeSettings("/run/moat") { Host = host }).Availability();
            var report = HostReport.From(host, tiers);
            parse.InvocationConfiguration.Output.Write(parse.GetValue(format) == "json"
                ? JsonSerializer.Serialize(report, HostReportJsonContext.Default.HostReport) + "\n"
                : report.ToTable());
            return 0;
        });
        return command;
    }
}
