using System.Text.Json.Serialization;
using Moat.Interop;

namespace Moat.Runtime.Seccomp;

/// <summary>
/// A seccomp filter ready for the init stage: the classic BPF program (raw struct sock_filter[],
/// 8 bytes an instruction, host byte order) and the SECCOMP_FILTER_FLAG_* bits to pass to
/// seccomp(2) with it. Everything here is plain data so it can travel to the init in a message.
/// </summary>
public sealed class CompiledSeccompFilter
{
    /// <summary>The program to pass to seccomp(SECCOMP_SET_MODE_FILTER) (see <see cref="SeccompLoader"/>).</summary>
    [JsonPropertyName("program")]
    public byte[] Program { get; init; } = [];

    /// <summary>SECCOMP_FILTER_FLAG_* bits for seccomp(2): TSYNC 1, LOG 2, SPEC_ALLOW 4, NEW_LISTENER 8, TSYNC_ESRCH 16, WAIT_KILLABLE_RECV 32.</summary>
    [JsonPropertyName("flags")]
    public uint Flags { get; init; }

    /// <summary>How many instructions at the start of <see cref="Program"/> are the -ENOSYS prologue (0: none).</summary>
    [JsonPropertyName("enosysStubLength")]
    public int EnosysStubLength { get; init; }

    /// <summary>libseccomp's architecture tokens in the filter (the native one first).</summary>
    [JsonPropertyName("architectureTokens")]
    public IReadOnlyList<uint> ArchitectureTokens { get; init; } = [];

    /// <summary>Syscall names the profile uses that this host's libseccomp does not know; they were left out (as runc does).</summary>
    [JsonPropertyName("skippedSyscalls")]
    public IReadOnlyList<string> SkippedSyscalls { get; init; } = [];

    /// <summary>linux.seccomp.listenerPath / listenerMetadata, for the hand-over of the notify descriptor.</summary>
    [JsonPropertyName("listenerPath")]
    public string? ListenerPath { get; init; }

    [JsonPropertyName("listenerMetadata")]
    public string? ListenerMetadata { get; init; }

    [JsonIgnore]
    public int InstructionCount => Program.Length / BpfInstruction.Size;

    /// <summary>Whether loading returns a user-notification descriptor (some rule is SCMP_ACT_NOTIFY).</summary>
    [JsonIgnore]
    public bool HasListener => (Flags & Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;

    /// <summary>The program in a bpf_asm-like notation, one instruction a line.</summary>
    public string Disassemble() => Bpf.Disassemble(Program);
}
