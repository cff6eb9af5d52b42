using System.CommandLine;
using System.Reflection;

namespace Moat.Cli.Commands;

public static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "show moat's version, the runtime-spec version it implements, and the host's kernel");
        command.SetAction(parse =>
        {
            var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            var host = Moat.Runtime.Host.HostContext.Current;
            parse.InvocationConfiguration.Output.Write($"moat version {version}\nspec: {Moat.Oci.SpecVersion.Current}\nkernel: {host.Kernel.Release} ({host.Kernel.Architecture})\n");
            return 0;
        });
        return command;
    }
}
