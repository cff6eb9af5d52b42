namespace Moat.Vm.Protocol;

/// <summary>
/// The messages between the host (the vm tier's shim, and the runtime commands through the shim's
/// control socket) and Moat's agent in the guest. docs/vm.md lists each with its payload. Requests
/// carry a request id in the frame's <see cref="Frame.Stream"/> field and are answered by one
/// <see cref="Reply"/> with the same id; stream frames carry the process they belong to (0: the
/// container's process; an exec's stream is its request id).
/// </summary>
public enum FrameType : ushort
{
    /// <summary>Both ways, first: u32 version, string software. The agent sends it when it is ready.</summary>
    Hello = 1,
    /// <summary>Request: bytes config.json (the guest's copy), u8 terminal, u16 rows, u16 columns.</summary>
    Create = 2,
    /// <summary>Request: start the created container's process.</summary>
    Start = 3,
    /// <summary>Request: bytes process JSON, u8 terminal, u16 rows, u16 columns; the request id becomes the exec's stream.</summary>
    Exec = 4,
    /// <summary>Stream: bytes for the process's stdin (or its terminal).</summary>
    Stdin = 5,
    /// <summary>Stream: the process's stdin is at end of file.</summary>
    StdinClose = 6,
    /// <summary>Stream: bytes the process wrote to stdout (or its terminal).</summary>
    Stdout = 7,
    /// <summary>Stream: bytes the process wrote to stderr.</summary>
    Stderr = 8,
    /// <summary>Stream: u16 rows, u16 columns of the process's terminal.</summary>
    Resize = 9,
    /// <summary>Request: u32 target stream, i32 signal, u8 all (every process of the container).</summary>
    Signal = 10,
    /// <summary>Request: the container's status in the guest; the reply's message is its name, value its guest pid.</summary>
    State = 11,
    /// <summary>Request: freeze the container's cgroup in the guest.</summary>
    Pause = 12,
    /// <summary>Request: thaw it.</summary>
    Resume = 13,
    /// <summary>Stream: i32 exit status (128+N for signal N); the stream ends.</summary>
    Exit = 14,
    /// <summary>Request: stop everything and power the guest off (delete).</summary>
    Poweroff = 15,
    /// <summary>Answer to a request: u8 ok, string message (the error sentence when not ok), i32 value.</summary>
    Reply = 16,
    /// <summary>
    /// Request, before Create (protocol 2): u16 count, then per interface string name, string MAC,
    /// u32 MTU, u16 count of string "address/prefix", u16 count of routes (string destination
    /// "default" or "prefix/length", string gateway or ""). The agent gives the guest's NICs (found by
    /// MAC) these names and settings; the container then shares the guest's network namespace.
    /// </summary>
    Network = 17,
}
