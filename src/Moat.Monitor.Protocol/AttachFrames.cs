namespace Moat.Monitor.Protocol;

/// <summary>
/// The attach socket (<see cref="ContainerFiles.AttachSocket"/>): AF_UNIX SOCK_SEQPACKET, so each send is
/// one message. The first byte of every message says what it is; the rest is its payload.
/// Monitor to client: <see cref="Stdout"/>/<see cref="Stderr"/> carry output (with a terminal all output
/// is Stdout); <see cref="Exited"/> (payload: the exit code, 4 bytes little-endian) is the last message
/// before the monitor closes the connection because the container exited (but see <see cref="RemoveAfterExit"/>).
/// Client to monitor: <see cref="Stdin"/> carries input, <see cref="Resize"/> the window size (rows, then
/// columns, 2 bytes little-endian each), <see cref="CloseStdin"/> ends the container's stdin,
/// <see cref="Start"/> asks the monitor to run the runtime's `start` (the only way a created container is
/// started, so the monitor always knows when it runs); the monitor answers that client with
/// <see cref="Started"/> (payload: the init's host pid, 4 bytes little-endian) or <see cref="Error"/>
/// (payload: a UTF-8 sentence). A client that wants the output from the first byte connects first and
/// then sends Start on the same connection.
/// <see cref="RemoveAfterExit"/> (an attached `run --rm`) makes that client the one that removes the container.
/// Output produced while no client is attached goes to the log only; a client attaching gets what
/// comes after (docker's `attach` behaves the same).
/// </summary>
public static class AttachFrames
{
    public const byte Stdin = 0;
    public const byte Stdout = 1;
    public const byte Stderr = 2;
    public const byte Resize = 3;
    public const byte CloseStdin = 4;
    public const byte Exited = 5;
    public const byte Start = 6;
    public const byte Started = 7;
    public const byte Error = 8;
    /// <summary>
    /// Client to monitor, before Start: this client removes the container itself after its last exit (an
    /// attached `run --rm`, which would otherwise wait for the monitor's exit command, a second `moat`).
    /// The monitor answers <see cref="RemovalTaken"/> (a monitor older than these frames answers Error: the
    /// client then leaves the removal to the exit command). At the last exit such a client gets Exited and stays connected; once the runtime's container is
    /// deleted and status.json says exited, the monitor sends it <see cref="Deleted"/> and waits: <see cref="Removed"/>
    /// from it means the exit command is not needed; a hang-up without it (the client died or failed half
    /// way) and the monitor runs the exit command as it would have. A restart closes the connection as for
    /// any client (the claim is gone).
    /// </summary>
    public const byte RemoveAfterExit = 9;
    /// <summary>Monitor to a <see cref="RemoveAfterExit"/> client: the runtime's container is deleted, status.json says exited; remove it now.</summary>
    public const byte Deleted = 10;
    /// <summary>Client to monitor, after <see cref="Deleted"/>: the container is removed (record, layer, volumes); no exit command.</summary>
    public const byte Removed = 11;
    /// <summary>Monitor to client: the answer to <see cref="RemoveAfterExit"/>.</summary>
    public const byte RemovalTaken = 12;
    /// <summary>Largest payload in one message (the socket's buffer allows more; this keeps latency low).</summary>
    public const int MaxPayload = 32 * 1024;
}
