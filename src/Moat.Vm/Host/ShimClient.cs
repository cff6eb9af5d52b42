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

    /// <summary>One request, its reply; a refusal becomes the guest's sentence.</summary>
    public Reply Ask(FrameType type, byte[]? payload = null)
    {
        Channel.Write(type, 1, payload);
        while (Channel.Read() is { } frame)
            if (frame.Type == FrameType.Reply)
            {
                var reply = Reply.Decode(frame.Payload);
                if (!reply.Ok)
                    throw new RuntimeException(reply.Message);
                return reply;
            }
        throw new RuntimeException("container not running (its virtual machine stopped)");
    }

    public static Reply Ask(VmFiles files, FrameType type, byte[]? payload = null)
    {
        using var client = Connect(files);
        return client.Ask(type, payload);
    }

    public void Dispose() => socket.Dispose();
}
