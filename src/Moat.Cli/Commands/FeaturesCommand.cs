using System.CommandLine;
using System.Text.Json;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Rootfs;
using Moat.Runtime.Seccomp;

namespace Moat.Cli.Commands;

public static class FeaturesCommand
{
    public static Command Create()
    {
        var command = new Command("features", "show the enabled features (runtime-spec features document)");
        command.SetAction(parse => CommandContext.Run(parse, _ =>
        {
            var cgroups = Moat.Runtime.Host.HostContext.Current.Cgroups;
            var features = FeaturesDocument.Create(new FeatureSupport
            {
                MountOptions = MountOptions.KnownOptions,
                CgroupV1 = cgroups.Hierarchies.Any(h => !h.IsV2),
                CgroupV2 = cgroups.Unified is not null,
                Seccomp = Moat.Interop.Libseccomp.IsAvailable,
                SeccompSupportedFlags = SeccompNames.Flags.Where(f => SeccompCompiler.FlagValue(f) is { } v && Moat.Interop.Libc.SeccompFlagsSupported(v)).ToList(),
                AppArmor = HostSupport.AppArmorEnabled,
                SELinux = HostSupport.SelinuxEnabled,
                IdmapMounts = true,
            });
            CommandContext.Out(JsonSerializer.Serialize(features, OciJson.Indented.Features) + "\n");
            return 0;
        }));
        return command;
    }
}
