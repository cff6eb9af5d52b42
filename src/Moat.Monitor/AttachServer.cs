using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Monitor;

/// <summary>One client of the attach socket, with what could not be sent to it yet.</summary>
public sealed class AttachedClient(FileDescriptor fd) : IDisposable
{
    public FileDescriptor Fd { get; } = fd;
    public Queue<byte[]> Pending { get; } = new();
    public long PendingBytes { get; set; }
    /// <summary>Close once everything queued is sent (after Exited).</summary>
    public bool Closing { get; set; }
    /// <summary>Sent RemoveAfterExit: it removes the container after the last exit (see <see cref="AttachFrames.RemoveAfterExit"/>).</summary>
    public bool RemovesContainer { get; set; }
    public void Dispose() => Fd.Dispose();
}

/// <summary>
/// The attach socket (<see cref="AttachFrames"/>): accepts clients, sends them output and answers,
/// hands their messages to the monitor. Sends never block the monitor: what a slow client cannot take
/// now is queued and sent when its socket has room; a client that falls too far behind is dropped
/// (the log still has everything).
/// </summary>
public sealed unsafe class AttachServer : IDisposable
{
    const long MaxQueued = 4 * 1024 * 1024;
    readonly MonitorLog log;
    readonly byte[] receiveBuffer = new byte[AttachFrames.MaxPayload + 1];

    public AttachServer(FileDescriptor listener, MonitorLog log)
    {
        Listener = listener;
        this.log = log;
    }

    public FileDescriptor Listener { get; }
    public List<AttachedClient> Clients { get; } = [];

    public AttachedClient? Accept()
    {
        var fd = Libc.TryAccept(Listener);
        if (fd is null)
            return null;
        var client = new AttachedClient(fd);
        Clients.Add(client);
        return client;
    }

    /// <summary>Receives one message: its type and payload; null when the client has gone (or sent nothing usable).</summary>
    public (byte Type, byte[] Payload)? Receive(AttachedClient client, out bool gone)
    {
        gone = false;
        nint n;
        fixed (byte* p = receiveBuffer)
        {
            do
                n = Libc.recv(client.Fd.Fd, p, receiveBuffer.Length, Libc.MSG_DONTWAIT);
            while (n < 0 && Errors.LastErrno == Errors.EINTR);
        }
        if (n < 0 && Errors.LastErrno == Errors.EAGAIN)
            return null;
        if (n <= 0)
        {
            gone = true;
            return null;
        }
        return (receiveBuffer[0], receiveBuffer.AsSpan(1, (int)n - 1).ToArray());
    }

    /// <summary>Sends a message to every client (output is cut into messages of at most MaxPayload bytes).</summary>
    public void Broadcast(byte type, ReadOnlySpan<byte> payload)
    {
        for (var i = Clients.Count - 1; i >= 0; i--)
            Send(Clients[i], type, payload);
    }

    public void Send(AttachedClient client, byte type, ReadOnlySpan<byte> payload)
    {
        do
        {
            var piece = payload.Length > AttachFrames.MaxPayload ? payload[..AttachFrames.MaxPayload] : payload;
            var message = new byte[piece.Length + 1];
            message[0] = type;
            piece.CopyTo(message.AsSpan(1));
            Enqueue(client, message);
            payload = payload[piece.Length..];
        }
        while (!payload.IsEmpty);
        Flush(client);
    }

    public static void SendInt(AttachServer server, AttachedClient client, byte type, int value)
    {
        Span<byte> payload = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(payload, value);
        server.Send(client, type, payload);
    }

    void Enqueue(AttachedClient client, byte[] message)
    {
        if (client.PendingBytes + message.Length > MaxQueued)
        {
            log.Write("an attached client fell more than 4 MiB behind the output: it is disconnected");
            Drop(client);
            return;
        }
        client.Pending.Enqueue(message);
        client.PendingBytes += message.Length;
    }

    /// <summary>Sends what is queued for a client until its socket is full; drops a client that has gone.</summary>
    public void Flush(AttachedClient client)
    {
        while (client.Pending.TryPeek(out var message))
        {
            nint n;
            fixed (byte* p = message)
            {
                do
                    n = Libc.send(client.Fd.Fd, p, message.Length, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
                while (n < 0 && Errors.LastErrno == Errors.EINTR);
            }
            if (n < 0)
            {
                if (Errors.LastErrno == Errors.EAGAIN)
                    return;
                Drop(client); // EPIPE, ECONNRESET: the client went away
                return;
            }
            client.Pending.Dequeue();
            client.PendingBytes -= message.Length;
        }
        if (client.Closing)
            Drop(client);
    }

    /// <summary>
    /// Ends every client's session: Exited with the code, then the connection closes (once sent), except for
    /// a client that removes the container: it stays for <see cref="AttachFrames.Deleted"/> (or <see cref="CloseRemovers"/>).
    /// </summary>
    public void ExitAll(int exitCode)
    {
        for (var i = Clients.Count - 1; i >= 0; i--)
        {
            var client = Clients[i];
            client.Closing = !client.RemovesContainer;
            SendInt(this, client, AttachFrames.Exited, exitCode);
        }
    }

    /// <summary>A restart follows the exit: the removers' claim is void, their sessions end as everyone's.</summary>
    public void CloseRemovers()
    {
        for (var i = Clients.Count - 1; i >= 0; i--)
        {
            var client = Clients[i];
            if (!client.RemovesContainer)
                continue;
            client.RemovesContainer = false;
            client.Closing = true;
            Flush(client);
        }
    }

    /// <summary>No new clients (the last exit): the listening socket is closed; connected clients stay.</summary>
    public void StopListening() => Listener.Dispose();

    public void Drop(AttachedClient client)
    {
        if (!Clients.Remove(client))
            return;
        // A unix socket closed with unread messages in its queue resets the connection: the client's next
        // recv fails with ECONNRESET before it reads what it was sent, the Exited frame included (a client
        // that sent Stdin as the container exited lost its exit code so). Read and discard what it sent first.
        Discard(client);
        client.Dispose();
    }

    void Discard(AttachedClient client)
    {
        fixed (byte* p = receiveBuffer)
        {
            nint n;
            do
                n = Libc.recv(client.Fd.Fd, p, receiveBuffer.Length, Libc.MSG_DONTWAIT);
            while (n > 0 || (n < 0 && Errors.LastErrno == Errors.EINTR));
        }
    }

    public void Dispose()
    {
        foreach (var client in Clients)
        {
            Discard(client);
            client.Dispose();
        }
        Clients.Clear();
        Listener.Dispose();
    }
}
