using System.Text.Json;
using System.Text.Json.Serialization;

namespace Moat.Vm.Host;

/// <summary>
/// The vm tier's files in a container's state directory, beside state.json (whose pid is QEMU's).
/// Short names: unix socket paths are limited to 107 bytes.
/// </summary>
public sealed record VmFiles(string Directory)
{
    /// <summary>QEMU's end of the agent channel (a chardev socket QEMU listens on; the shim is its one client).</summary>
    public string AgentSocket => Path.Combine(Directory, "a.sock");
    /// <summary>The shim's control socket: start, kill, exec, pause... from later runtime commands.</summary>
    public string ControlSocket => Path.Combine(Directory, "c.sock");
    /// <summary>What the shim needs to boot and create (written by create before the shim starts).</summary>
    public string Launch => Path.Combine(Directory, "vm.json");
    /// <summary>The guest's serial console (kernel messages, the agent's errors).</summary>
    public string Console => Path.Combine(Directory, "console.log");
    /// <summary>QEMU's own stderr.</summary>
    public string QemuLog => Path.Combine(Directory, "qemu.log");
    /// <summary>The container's exit status, written by the shim when the guest reports it.</summary>
    public string ExitFile => Path.Combine(Directory, "exit");
    /// <summary>The shim's pid and start time ("PID START"), so delete can stop it whatever happened.</summary>
    public string ShimFile => Path.Combine(Directory, "shim");
    /// <summary>QEMU's pid and start time ("PID START"), written by the shim, so delete can stop it even when the shim is gone.</summary>
    public string QemuFile => Path.Combine(Directory, "qemu");

    /// <summary>Writes a small file atomically (temporary file, fsync, rename).</summary>
    public static void WriteAtomically(string path, byte[] content)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(content);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>The shim's instructions: QEMU's argv, the guest's config, how the container's stdio is set up, and whether to start at once (run).</summary>
public sealed class VmLaunch
{
    [JsonPropertyName("qemu")] public List<string> Qemu { get; set; } = [];
    [JsonPropertyName("config")] public string GuestConfig { get; set; } = "";
    [JsonPropertyName("terminal")] public bool Terminal { get; set; }
    [JsonPropertyName("start")] public bool StartImmediately { get; set; }
    /// <summary>The container's network namespace on the host (its taps go there), or none.</summary>
    [JsonPropertyName("netns")] public string? NetworkNamespace { get; set; }
    /// <summary>The agent's Network request (<see cref="Protocol.NetworkRequest"/>), one interface per tap.</summary>
    [JsonPropertyName("network")] public byte[]? Network { get; set; }
    [JsonPropertyName("bootTimeoutSeconds")] public int BootTimeoutSeconds { get; set; } = 300;

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, VmJsonContext.Default.VmLaunch);

    public static VmLaunch FromJson(byte[] json) =>
        JsonSerializer.Deserialize(json, VmJsonContext.Default.VmLaunch) ?? throw new JsonException("empty launch file");
}

[JsonSerializable(typeof(VmLaunch))]
internal sealed partial class VmJsonContext : JsonSerializerContext;
