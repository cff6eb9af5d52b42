using Moat.Tests.Engines.Infrastructure;

namespace Moat.Tests.Engines;

/// <summary>The Kubernetes RuntimeClass configuration in docs/engines.md, read by containerd's own config parser.</summary>
public sealed class ContainerdConfigTests : IDisposable
{
    const string Marker = "<!-- containerd-cri-config:";
    readonly string directory = Directory.CreateTempSubdirectory("moat-cri-config-").FullName;

    /// <summary>The first ```toml block after the marker in docs/engines.md.</summary>
    static string DocumentedCriConfig()
    {
        var text = File.ReadAllText(Path.Combine(Host.RepositoryRoot, "docs", "engines.md"));
        var at = text.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(at >= 0, "docs/engines.md lost its containerd-cri-config marker");
        var start = text.IndexOf("```toml\n", at, StringComparison.Ordinal) + "```toml\n".Length;
        var end = text.IndexOf("```", start, StringComparison.Ordinal);
        return text[start..end];
    }

    [Fact]
    public void CriRuntimeForMoatParsesAndKeepsItsOptions()
    {
        Host.Require(ContainerdDaemon.ContainerdPath);
        var file = Path.Combine(directory, "config.toml");
        File.WriteAllText(file, DocumentedCriConfig());

        var dump = Host.Run(ContainerdDaemon.ContainerdPath, ["--config", file, "config", "dump"]).Ok().Stdout;

        var at = dump.IndexOf("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.moat]", StringComparison.Ordinal);
        Assert.True(at >= 0, $"containerd's dump has no runtime \"moat\":\n{dump}");
        var section = dump[at..];
        Assert.Contains("runtime_type = \"io.containerd.runc.v2\"", section);
        Assert.Contains("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.moat.options]", section);
        Assert.Contains("BinaryName = \"/usr/local/bin/moat-runtime\"", section);
        Assert.Contains("SystemdCgroup = false", section);
    }

    [Fact]
    public void ContainerdRejectsABrokenConfig()
    {
        // The check above means something only if the parser refuses what it cannot read.
        Host.Require(ContainerdDaemon.ContainerdPath);
        var file = Path.Combine(directory, "broken.toml");
        File.WriteAllText(file, DocumentedCriConfig().Replace("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.moat]", "[plugins.\"io.containerd"));

        var result = Host.Run(ContainerdDaemon.ContainerdPath, ["--config", file, "config", "dump"]);

        Assert.NotEqual(0, result.ExitCode);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
