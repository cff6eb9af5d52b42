namespace Moat.Monitor.Protocol;

/// <summary>
/// The attach socket (<see cref="ContainerFiles.AttachSocket"/>): AF_UNIX SOCK_SEQPACKET, so each send is
/// one message. The first byte of every message says what it is; the rest is its payload.
/// Monitor to client: <see cref="Stdout"/>/<see cref="Stderr"/> carry output (with a terminal all output
/// is Stdout); <see cref="Exited"/> (payload: the exit code, 4 bytes little-endian) is the last message
/// before the monitor closes the connection because the container exited.
/// Client to monitor: <see cref="Stdin"/> carries input, <see cref="Resize"/> the window size (rows, then
/// columns, 2 bytes little-endian each), <see cref="CloseStdin"/> ends the container's stdin,
/// <see cref="Start"/> asks the monitor to run the runtime's `start` (the only way a created container is
/// started, so the monitor always knows when it runs); the monitor answers that client with
/// <see cref="Started"/> (payload: the init's host pid, 4 bytes little-endian) or <see cref="Error"/>
/// (payload: a UTF-8 sentence). A client that wants the output from the first byte connects first and
/// then sends Start on the same connection.
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
    /// <summary>Largest payload in one message (the socket's buffer allows more; this keeps latency low).</summary>
    public const int MaxPayload = 32 * 1024;
}
