using Moat.Interop;
using Moat.Runtime;
using Moat.Vm.Protocol;

namespace Moat.Vm.Host;

/// <summary>A runtime command's connection to a container's shim (its control socket).</summary>
public sealed class ShimClient : IDisposable
{
    readonly FileDescriptor socket;

    public FrameChannel Channel { get; }

    ShimClient(FileDescriptor socket)
    {
        this.socket = socket;
        Channel = new FrameChannel(socket, "the container's shim");
    }

    public static ShimClient Connect(VmFiles files)
    {
        try
        {
            return new ShimClient(Libc.ConnectUnixStream(files.ControlSocket));
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"container not running (its virtual machine's shim does not answer: {e.Message})", e);
        }
    }

    /// <summary>
    /// One request, its reply; a refusal becomes the guest's sentence. The reply is the first frame
    /// that comes back: the shim passes an exec's output only after its reply, so anything else
    /// first is a broken shim, not something to skip (skipping it once lost an exec's first output).
    /// </summary>
    public Reply Ask(FrameType type, byte[]? payload = null)
    {
        Frame? answer;
        try
        {
            Channel.Write(type, 1, payload);
            answer = Channel.Read();
        }
        catch (SyscallException)
        {
            answer = null; // EPIPE, ECONNRESET: the shim went away with its machine
        }
        switch (answer)
        {
            case { Type: FrameType.Reply } frame:
                var reply = Reply.Decode(frame.Payload);
                if (!reply.Ok)
                    throw new RuntimeException(reply.Message);
                return reply;
            case null or { Type: FrameType.Exit }:
                throw new RuntimeException("container not running (its virtual machine stopped)");
            case { } other:
                throw new RuntimeException($"the container's shim sent {other.Type} before its reply to {type} (a protocol error)");
        }
    }

    public static Reply Ask(VmFiles files, FrameType type, byte[]? payload = null)
    {
        using var client = Connect(files);
        return client.Ask(type, payload);
    }

    public void Dispose() => socket.Dispose();
}
