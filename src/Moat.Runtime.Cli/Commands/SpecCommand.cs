using Moat.Runtime.Cli.Parsing;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Cli.Commands;

public static class SpecCommand
{
    public static Command Create()
    {
        var bundle = new Option<string>("--bundle", "-b") { Description = "path to the root of the bundle directory", DefaultValueFactory = _ => "." };
        var rootless = new Option<bool>("--rootless") { Description = "generate a configuration for a rootless container" };
        var command = new Command("spec", "create a new specification file (config.json) like runc spec");
        command.Options.Add(bundle);
        command.Options.Add(rootless);
        command.SetAction(parse => CommandContext.Run(parse, _ =>
        {
            var directory = parse.GetValue(bundle)!;
            if (!Directory.Exists(directory))
                throw new Runtime.RuntimeException($"bundle {directory}: no such directory");
            var path = Path.Combine(directory, "config.json");
            if (File.Exists(path))
                throw new Runtime.RuntimeException($"{path} exists: remove it first");
            var spec = Moat.Runtime.Api.ContainerRuntime.DefaultConfig(parse.GetValue(rootless));
            File.WriteAllText(path, OciJson.SerializeIndented(spec) + "\n");
            return 0;
        }));
        return command;
    }
}
