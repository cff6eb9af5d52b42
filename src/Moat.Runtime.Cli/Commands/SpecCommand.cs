using Moat.Runtime.Cli.Parsing;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Api;

namespace Moat.Runtime.Cli.Commands;

public static class SpecCommand
{
    public static Command Create()
    {
        var bundle = new Option<string>("--bundle", "-b") { Description = "path to the root of the bundle directory", DefaultValueFactory = _ => "." };
        var rootless = new Option<bool>("--rootless") { Description = "generate a configuration for a rootless container" };
        var hostRoot = new Option<bool>("--host-root") { Description = "container root is host root, no user namespace (runc spec's configuration)" };
        var command = new Command("spec", "create a new specification file (config.json) like runc spec; container root is mapped to unprivileged host ids unless --host-root");
        command.Options.Add(bundle);
        command.Options.Add(rootless);
        command.Options.Add(hostRoot);
        command.SetAction(parse => CommandContext.Run(parse, _ =>
        {
            var directory = parse.GetValue(bundle)!;
            if (!Directory.Exists(directory))
                throw new Runtime.RuntimeException($"bundle {directory}: no such directory");
            var path = Path.Combine(directory, "config.json");
            if (File.Exists(path))
                throw new Runtime.RuntimeException($"{path} exists: remove it first");
            if (parse.GetValue(rootless) && parse.GetValue(hostRoot))
                throw new Runtime.RuntimeException("--rootless and --host-root do not go together: a rootless container's root is your own uid");
            var kind = parse.GetValue(rootless) ? DefaultConfigKind.Rootless
                : parse.GetValue(hostRoot) ? DefaultConfigKind.HostRoot
                : DefaultConfigKind.MappedRoot;
            var spec = Moat.Runtime.Api.ContainerRuntime.DefaultConfig(kind);
            File.WriteAllText(path, OciJson.SerializeIndented(spec) + "\n");
            // Unlike runc spec's config: say once what the mapping means for the rootfs the user puts in.
            if (kind == DefaultConfigKind.MappedRoot)
                CommandContext.Err($"note: {path}: container ids 0-{DefaultSpec.MappedRootSize - 1} are host ids {DefaultSpec.MappedRootHostId}-{DefaultSpec.MappedRootHostId + DefaultSpec.MappedRootSize - 1} (a user namespace: container root is not host root); files of the rootfs owned by host ids outside that range show as nobody inside: shift its owners up by {DefaultSpec.MappedRootHostId} to make them the container's, or use --host-root for runc's configuration");
            return 0;
        }));
        return command;
    }
}
