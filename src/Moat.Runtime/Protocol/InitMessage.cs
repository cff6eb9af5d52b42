using System.Text.Json.Serialization;
using Moat.Oci;

namespace Moat.Runtime.Protocol;

/// <summary>
/// What the runtime sends the init stage once it runs inside the new namespaces: the payload of
/// <see cref="StageFrame.Config"/>, written and read by <see cref="InitMessageCodec"/>.
/// </summary>
public sealed class InitMessage
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("spec")] public Spec Spec { get; set; } = new();
    [JsonPropertyName("bundle")] public string Bundle { get; set; } = "";
    [JsonPropertyName("rootfs")] public string Rootfs { get; set; } = "";
    [JsonPropertyName("noPivot")] public bool NoPivot { get; set; }
    [JsonPropertyName("noNewKeyring")] public bool NoNewKeyring { get; set; }
    [JsonPropertyName("preserveFds")] public int PreserveFds { get; set; }
    /// <summary>Descriptor of the container's state directory, to reach exec.fifo after pivot_root.</summary>
    [JsonPropertyName("stateDirFd")] public int StateDirFd { get; set; }
    /// <summary>True when the runtime waits in the foreground and start follows at once (run): no fifo.</summary>
    [JsonPropertyName("startImmediately")] public bool StartImmediately { get; set; }
    /// <summary>An exec into a running container: namespaces joined, no root filesystem to build, no fifo.</summary>
    [JsonPropertyName("exec")] public bool Exec { get; set; }
    /// <summary>The runtime runs prestart/createRuntime hooks: the init stops before pivot_root and waits.</summary>
    [JsonPropertyName("runtimeHooks")] public bool RuntimeHooks { get; set; }
    /// <summary>linux.seccomp compiled by the runtime (libseccomp is not reachable after pivot_root).</summary>
    [JsonPropertyName("seccomp")] public Seccomp.CompiledSeccompFilter? Seccomp { get; set; }
    /// <summary>The container's cgroup directories, bind-mounted for a cgroup mount on a v1 host.</summary>
    [JsonPropertyName("cgroupPath")] public string CgroupPath { get; set; } = "";
    /// <summary>For each idmapped mount (by index in spec.mounts), the descriptor of its user namespace.</summary>
    [JsonPropertyName("idmapFds")] public Dictionary<int, int>? IdmapFds { get; set; }
    /// <summary>process.capabilities as the runtime reduced them to what can be granted (<see cref="Init.CapabilitySets.From"/>).</summary>
    [JsonPropertyName("capabilities")] public Init.CapabilitySets Capabilities { get; set; } = Init.CapabilitySets.None;
    /// <summary>The kernel's last capability number, read once by the runtime.</summary>
    [JsonPropertyName("lastCapability")] public int LastCapability { get; set; } = Oci.Capabilities.Last;
    /// <summary>
    /// Mounts (by index in spec.mounts) whose source the runtime opened: one descriptor each, in this
    /// order, follows the config frame on the sync socket (<see cref="StageFrame.BindSource"/>, Create/BindSources).
    /// </summary>
    [JsonPropertyName("bindSourceMounts")] public List<int>? BindSourceMounts { get; set; }
    /// <summary>The init's side of BindSourceMounts: the received descriptors by mount index. Not sent.</summary>
    [JsonIgnore] public Dictionary<int, Moat.Interop.FileDescriptor>? BindSourceFds { get; set; }
    [JsonPropertyName("cgroupHierarchies")] public List<CgroupMountSource> CgroupHierarchies { get; set; } = [];
    /// <summary>The init's pid as the runtime sees it (state's pid), for the seccomp listener's state.</summary>
    [JsonPropertyName("hostPid")] public int HostPid { get; set; }
    /// <summary>A Landlock ruleset to apply just before execve (the sandbox tier), or null.</summary>
    [JsonPropertyName("landlock")] public LandlockRuleset? Landlock { get; set; }
    /// <summary>An already connected seccomp listener socket passed down (a tier's supervisor, or listenerPath connected by the runtime for a mapped root), or -1 to connect to listenerPath.</summary>
    [JsonPropertyName("seccompListenerFd")] public int SeccompListenerFd { get; set; } = -1;
    /// <summary>The socket is a tier's supervisor, which takes the descriptor itself (pidfd_getfd) instead of receiving it by SCM_RIGHTS.</summary>
    [JsonPropertyName("lendSeccompFd")] public bool LendSeccompFd { get; set; }
}

/// <summary>A hierarchy as the init stage needs it to build /sys/fs/cgroup.</summary>
public sealed class CgroupMountSource
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("directory")] public string Directory { get; set; } = "";
    [JsonPropertyName("v2")] public bool IsV2 { get; set; }
    [JsonPropertyName("controllers")] public List<string> Controllers { get; set; } = [];
}
