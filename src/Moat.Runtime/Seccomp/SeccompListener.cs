using System.Text.Json;
using System.Text.Json.Serialization;
using Moat.Interop;
using Moat.Oci;
using Moat.Oci.Json;

namespace Moat.Runtime.Seccomp;

/// <summary>
/// Hands the seccomp user-notification descriptor to the supervisor at linux.seccomp.listenerPath,
/// as runtime-spec (config-linux.md "seccomp", runtime.md) describes: one message on a unix stream
/// socket whose body is the "container process state" JSON and which carries the descriptor with
/// SCM_RIGHTS. The init connects before pivot_root (the path is still reachable then), loads the
/// filter, and sends right after.
/// </summary>
public static class SeccompListener
{
    /// <summary>The name of the descriptor in the state's "fds" array.</summary>
    public const string SeccompFdName = "seccompFd";

    /// <summary>
    /// Connects to the listener socket (AF_UNIX, SOCK_STREAM, close-on-exec) and returns the
    /// connected descriptor, which the caller owns. Paths longer than 107 bytes do not fit in a
    /// sockaddr_un and fail with ENAMETOOLONG.
    /// </summary>
    public static int ConnectListener(string path)
    {
        try
        {
            return Libc.ConnectUnixStream(path).Detach();
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"linux.seccomp.listenerPath: cannot connect to {path}: {Errors.Describe(e.Errno)}", e);
        }
    }

    /// <summary>Sends <paramref name="stateJson"/> with <paramref name="listenerFd"/> attached (SCM_RIGHTS) on a connected socket.</summary>
    public static void SendNotifyFd(int connectedSocketFd, int listenerFd, ReadOnlySpan<byte> stateJson)
    {
        try
        {
            Libc.SendWithDescriptor(connectedSocketFd, stateJson, listenerFd, "seccomp listener");
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"linux.seccomp.listenerPath: sending the seccomp descriptor failed: {Errors.Describe(e.Errno)}", e);
        }
    }

    /// <summary>
    /// For a tier's supervisor, which may notify sendmsg (so SCM_RIGHTS would wait on the very listener
    /// it carries): writes "seccompFd N\n" and the state JSON with plain writes, then waits for the
    /// supervisor's one-byte answer, sent once it took descriptor N with pidfd_getfd (runc hands its
    /// own seccomp descriptor to its parent the same way).
    /// </summary>
    public static void LendNotifyFd(int connectedSocketFd, int listenerFd, ReadOnlySpan<byte> stateJson)
    {
        try
        {
            // Formatted on the stack: nothing here may allocate (see ProcessSyscalls.LoadSeccomp).
            Span<byte> header = stackalloc byte[32];
            "seccompFd "u8.CopyTo(header);
            listenerFd.TryFormat(header[10..], out var digits, provider: System.Globalization.CultureInfo.InvariantCulture);
            header[10 + digits] = (byte)'\n';
            Libc.WriteAll(connectedSocketFd, header[..(11 + digits)], "seccomp listener");
            Libc.WriteAll(connectedSocketFd, stateJson, "seccomp listener");
            Span<byte> answer = stackalloc byte[1];
            if (Libc.Read(connectedSocketFd, answer, "seccomp listener") != 1)
                throw new SyscallException("read", Errors.EIO, "the supervisor closed its socket before it took the seccomp descriptor");
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"sandbox supervisor: handing over the seccomp descriptor failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// The container process state: {"ociVersion", "fds": ["seccompFd"], "pid", "metadata" (omitted
    /// when empty), "state": the container's state as `moat state` prints it}, as UTF-8 JSON.
    /// </summary>
    public static byte[] BuildStateJson(string ociVersion, int pid, string? metadata, ContainerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var document = new ContainerProcessState
        {
            OciVersion = ociVersion,
            Fds = [SeccompFdName],
            Pid = pid,
            Metadata = string.IsNullOrEmpty(metadata) ? null : metadata,
            State = state,
        };
        return SpecJson.ToUtf8Bytes(w => Write(w, document));
    }

    /// <summary>
    /// By hand, the bytes the source-generated form writes (metadata left out when null): a serializer
    /// context would put System.Text.Json's serializer into moat-runtime, ~0.3 MB of resident type data
    /// in every process.
    /// </summary>
    internal static void Write(Utf8JsonWriter w, ContainerProcessState document)
    {
        w.WriteStartObject();
        w.WriteString("ociVersion"u8, document.OciVersion);
        w.WriteStartArray("fds"u8);
        foreach (var name in document.Fds)
        {
            w.WriteStringValue(name);
        }
        w.WriteEndArray();
        w.WriteNumber("pid"u8, document.Pid);
        if (document.Metadata is not null)
            w.WriteString("metadata"u8, document.Metadata);
        w.WritePropertyName("state"u8);
        ContainerStateJson.Write(w, document.State);
        w.WriteEndObject();
    }
}

/// <summary>runtime-spec's "container process state", sent to a seccomp listener.</summary>
public sealed class ContainerProcessState
{
    [JsonPropertyName("ociVersion")]
    public string OciVersion { get; set; } = "";

    /// <summary>Names of the descriptors passed with SCM_RIGHTS, in order.</summary>
    [JsonPropertyName("fds")]
    public List<string> Fds { get; set; } = [];

    [JsonPropertyName("pid")]
    public int Pid { get; set; }

    /// <summary>linux.seccomp.listenerMetadata, opaque to the runtime.</summary>
    [JsonPropertyName("metadata")]
    public string? Metadata { get; set; }

    [JsonPropertyName("state")]
    public ContainerState State { get; set; } = new();
}
