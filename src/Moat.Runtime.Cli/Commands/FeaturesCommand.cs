using Moat.Runtime.Cli.Parsing;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Rootfs;
using Moat.Runtime.Seccomp;

namespace Moat.Runtime.Cli.Commands;

public static class FeaturesCommand
{
    public static Command Create()
    {
        var command = new Command("features", "show the enabled features (runtime-spec features document)");
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            var features = context.Runtime.Features();
            CommandContext.Out(OciJson.SerializeIndented(features) + "\n");
            return 0;
        }));
        return command;
    }
}
