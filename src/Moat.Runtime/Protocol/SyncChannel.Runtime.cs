using System.Buffers.Binary;
using System.Text;
using Moat.Interop;

namespace Moat.Runtime.Protocol;

/// <summary>What the init reports after its config: hooks point, console (with the pty master), or created.</summary>
public readonly record struct InitReport(StageFrame Frame, FileDescriptor? Console = null);

/// <summary>The runtime's side: what it sends the helper and the init, and what it receives from them.</summary>
public sealed partial class SyncChannel
{
    const string InitDied = "container init exited before it reported (see the container's stderr)";

    /// <summary>The helper has its namespaces and waits for the id maps.</summary>
    public void ReceiveReadyForSetup() => Expect(StageFrame.ReadyForSetup);

    public void SendGo() => Send(StageFrame.Go);

    /// <summary>The helper's new mount namespace (a descriptor), where the runtime opens the bind sources.</summary>
    public FileDescriptor ReceiveMountNamespace()
    {
        Expect(StageFrame.MountNamespace);
        return ReceiveDescriptor("mount namespace");
    }

    /// <summary>The init's pid, as the helper's constructor forked it into a pid namespace.</summary>
    public int ReceivePid()
    {
        var payload = Expect(StageFrame.Pid);
        if (payload.Length != sizeof(int))
            throw new RuntimeException($"container init sent a pid of {payload.Length} bytes");
        return BinaryPrimitives.ReadInt32LittleEndian(payload);
    }

    /// <summary>The config, then the bind sources' descriptors in <see cref="InitMessage.BindSourceMounts"/> order.</summary>
    public void SendConfig(InitMessage message, IReadOnlyList<FileDescriptor>? bindSources)
    {
        Send(StageFrame.Config, InitMessageCodec.Write(message));
        if (bindSources is null)
            return;
        foreach (var source in bindSources)
            SendDescriptor(StageFrame.BindSource, source, "bind mount source");
    }

    public void SendPlaced() => Send(StageFrame.Placed);

    /// <summary>
    /// The init's next report after the config; its error frame, or its end without one, is thrown as
    /// a <see cref="RuntimeException"/>. Which report may come when is the caller's to judge.
    /// </summary>
    public InitReport ReceiveInitReport()
    {
        var (frame, _) = ReceiveFromStage();
        return frame switch
        {
            StageFrame.HooksPoint or StageFrame.Created => new InitReport(frame),
            StageFrame.Console => new InitReport(frame, ReceiveDescriptor("console")),
            _ => throw OutOfTurn(frame),
        };
    }

    public void SendHooksDone() => Send(StageFrame.HooksDone);

    public void SendStateSaved() => Send(StageFrame.StateSaved);

    /// <summary>
    /// run, after <see cref="SendStateSaved"/>: the init's end of the socket is close-on-exec, so its
    /// end-of-file says that the user's program was executed.
    /// </summary>
    public void WaitForExec()
    {
        while (Receive() is not null)
        {
        }
    }

    /// <summary>The text of an error frame if that is what comes next; null for any other frame or the end.</summary>
    public string? ReceiveErrorIfAny() => Receive() is { Frame: StageFrame.Error } frame ? Encoding.UTF8.GetString(frame.Payload) : null;

    public static RuntimeException OutOfTurn(StageFrame frame) => new($"container init sent {Name(frame)} out of turn");

    byte[] Expect(StageFrame expected)
    {
        var (frame, payload) = ReceiveFromStage();
        if (frame != expected)
            throw new RuntimeException($"container init sent {Name(frame)} where {Name(expected)} was expected");
        return payload;
    }

    /// <summary>The next frame from the helper or the init; its error, or its death, as an exception.</summary>
    (StageFrame Frame, byte[] Payload) ReceiveFromStage()
    {
        var frame = Receive() ?? throw new RuntimeException(InitDied);
        if (frame.Frame == StageFrame.Error)
            throw new RuntimeException(Encoding.UTF8.GetString(frame.Payload));
        return frame;
    }
}
