using System.CommandLine;
using Moat.Cli.Commands;

namespace Moat.Cli;

/// <summary>The `moat` command tree: the command people use (docker's and podman's verbs).</summary>
public static class MoatCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("moat: run containers at three strengths (container, sandbox, vm); the OCI runtime is moat-runtime");
        root.Options.Add(MoatGlobalOptions.Root);
        root.Options.Add(MoatGlobalOptions.RegistriesConf);
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(PullCommand.Create());
        root.Subcommands.Add(PushCommand.Create());
        root.Subcommands.Add(ImagesCommand.Create());
        root.Subcommands.Add(RmiCommand.Create());
        root.Subcommands.Add(TagCommand.Create());
        root.Subcommands.Add(SaveCommand.Create());
        root.Subcommands.Add(LoadCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(LoginCommand.Create());
        root.Subcommands.Add(LogoutCommand.Create());
        root.Subcommands.Add(SbomCommand.Create());
        root.Subcommands.Add(ScanCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(CreateCommand.Create());
        root.Subcommands.Add(StartCommand.Create());
        root.Subcommands.Add(StopCommand.Create());
        root.Subcommands.Add(RestartCommand.Create());
        root.Subcommands.Add(KillCommand.Create());
        root.Subcommands.Add(RmCommand.Create());
        root.Subcommands.Add(PsCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(ExecCommand.Create());
        root.Subcommands.Add(LogsCommand.Create());
        root.Subcommands.Add(TopCommand.Create());
        root.Subcommands.Add(PortCommand.Create());
        root.Subcommands.Add(UpdateCommand.Create());
        root.Subcommands.Add(EventsCommand.Create());
        root.Subcommands.Add(WaitCommand.Create());
        root.Subcommands.Add(PauseCommand.Create());
        root.Subcommands.Add(UnpauseCommand.Create());
        root.Subcommands.Add(RenameCommand.Create());
        root.Subcommands.Add(ContainerCommand());
        root.Subcommands.Add(ImageCommand());
        root.Subcommands.Add(SystemCommand());
        root.Subcommands.Add(NetworkCommand());
        root.Subcommands.Add(AuditCommand.Create());
        root.Subcommands.Add(SeccompCommand());
        root.Subcommands.Add(SignCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(KeyCommand());
        root.Subcommands.Add(TrustCommand());
        return root;
    }

    /// <summary>`moat image VERB`: the image verbs under one noun, as docker and podman have them.</summary>
    static Command ImageCommand()
    {
        var image = new Command("image", "manage images");
        image.Subcommands.Add(ImagesCommand.Create("ls"));
        image.Subcommands.Add(RmiCommand.Create("rm"));
        image.Subcommands.Add(TagCommand.Create("tag"));
        image.Subcommands.Add(PullCommand.Create("pull"));
        image.Subcommands.Add(PushCommand.Create("push"));
        image.Subcommands.Add(ImageInspectCommand.Create());
        image.Subcommands.Add(ImagePruneCommand.Create());
        image.Subcommands.Add(SaveCommand.Create("save"));
        image.Subcommands.Add(LoadCommand.Create("load"));
        image.Subcommands.Add(ImportCommand.Create("import"));
        return image;
    }

    /// <summary>`moat seccomp VERB`: least-privilege profiles from a recorded run, and their differences.</summary>
    static Command SeccompCommand()
    {
        var seccomp = new Command("seccomp", "generate and compare seccomp profiles");
        seccomp.Subcommands.Add(SeccompGenerateCommand.Create());
        seccomp.Subcommands.Add(SeccompDiffCommand.Create());
        return seccomp;
    }

    /// <summary>`moat key VERB`: cosign key pairs.</summary>
    static Command KeyCommand()
    {
        var key = new Command("key", "cosign signing keys");
        key.Subcommands.Add(KeyGenerateCommand.Create());
        return key;
    }

    /// <summary>`moat trust VERB`: the trust policy (containers-policy.json).</summary>
    static Command TrustCommand()
    {
        var trust = new Command("trust", "the image trust policy");
        trust.Subcommands.Add(TrustCheckCommand.Create());
        return trust;
    }

    /// <summary>`moat container VERB`: the container verbs under one noun, as docker has them.</summary>
    static Command ContainerCommand()
    {
        var container = new Command("container", "manage containers");
        container.Subcommands.Add(RunCommand.Create("run"));
        container.Subcommands.Add(CreateCommand.Create("create"));
        container.Subcommands.Add(StartCommand.Create("start"));
        container.Subcommands.Add(StopCommand.Create("stop"));
        container.Subcommands.Add(RestartCommand.Create("restart"));
        container.Subcommands.Add(KillCommand.Create("kill"));
        container.Subcommands.Add(RmCommand.Create("rm"));
        container.Subcommands.Add(PsCommand.Create("ls"));
        container.Subcommands.Add(InspectCommand.Create("inspect"));
        container.Subcommands.Add(ExecCommand.Create("exec"));
        container.Subcommands.Add(LogsCommand.Create("logs"));
        container.Subcommands.Add(TopCommand.Create("top"));
        container.Subcommands.Add(PortCommand.Create("port"));
        container.Subcommands.Add(UpdateCommand.Create("update"));
        container.Subcommands.Add(WaitCommand.Create("wait"));
        container.Subcommands.Add(PauseCommand.Create("pause"));
        container.Subcommands.Add(UnpauseCommand.Create("unpause"));
        container.Subcommands.Add(RenameCommand.Create("rename"));
        container.Subcommands.Add(ContainerPruneCommand.Create());
        container.Subcommands.Add(ContainerCleanupCommand.Create());
        return container;
    }

    /// <summary>`moat network VERB`: networks as objects (Moat.Network).</summary>
    static Command NetworkCommand()
    {
        var network = new Command("network", "manage networks");
        network.Subcommands.Add(NetworkCreateCommand.Create());
        network.Subcommands.Add(NetworkLsCommand.Create());
        network.Subcommands.Add(NetworkInspectCommand.Create());
        network.Subcommands.Add(NetworkRmCommand.Create());
        network.Subcommands.Add(NetworkConnectCommand.Create());
        network.Subcommands.Add(NetworkDisconnectCommand.Create());
        network.Subcommands.Add(NetworkPruneCommand.Create());
        return network;
    }

    static Command SystemCommand()
    {
        var system = new Command("system", "the store as a whole");
        system.Subcommands.Add(SystemDfCommand.Create());
        system.Subcommands.Add(SystemPruneCommand.Create());
        return system;
    }
}
