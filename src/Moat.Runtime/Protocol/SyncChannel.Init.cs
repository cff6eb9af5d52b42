using System.Text;
using Moat.Interop;

namespace Moat.Runtime.Protocol;

/// <summary>The init stage's side: what it receives from the runtime, and what it reports.</summary>
public sealed partial class SyncChannel
{
    /// <summary>
    /// The config and the bind sources' descriptors that follow it (<see cref="InitMessage.BindSourceFds"/>);
    /// null when the runtime died before it sent anything.
    /// </summary>
    public InitMessage? ReceiveConfig()
    {
        if (Receive() is not { } frame)
            return null;
        if (frame.Frame != StageFrame.Config)
            throw Unexpected(frame.Frame);
        var init = InitMessageCodec.Read(frame.Payload);
        if (init.BindSourceMounts is { Count: > 0 } mounts)
        {
            init.BindSourceFds = new Dictionary<int, FileDescriptor>(mounts.Count);
            foreach (var index in mounts)
                init.BindSourceFds[index] = ReceiveDescriptor("bind mount source");
        }
        return init;
    }

    /// <summary>Waits until the runtime has moved this process into its cgroups.</summary>
    public void ReceivePlaced()
    {
        var frame = Receive();
        if (frame is { Frame: StageFrame.Placed })
            return;
        throw frame is null ? new RuntimeException("the runtime exited before it placed the container in its cgroups") : Unexpected(frame.Value.Frame);
    }

    /// <summary>Stops for the runtime's prestart and createRuntime hooks, and returns when they ran.</summary>
    public void WaitForRuntimeHooks()
    {
        Send(StageFrame.HooksPoint);
        if (Receive() is not { Frame: StageFrame.HooksDone })
            throw new RuntimeException("the runtime did not finish its hooks");
    }

    /// <summary>Sends the pty master; the caller keeps and closes its own descriptor.</summary>
    public void SendConsole(FileDescriptor master)
    {
        Send(StageFrame.Console);
        SendDescriptor(StageFrame.Console, master, "console");
    }

    public void SendCreated() => Send(StageFrame.Created);

    /// <summary>False when the runtime died before it recorded this process (the init then dies too).</summary>
    public bool ReceiveStateSaved() => Receive() is { Frame: StageFrame.StateSaved };

    /// <summary>What failed, before the init exits.</summary>
    public void SendError(string text) => Send(StageFrame.Error, Encoding.UTF8.GetBytes(text));

    static RuntimeException Unexpected(StageFrame frame) => new($"init: unexpected message {Name(frame)}");
}
