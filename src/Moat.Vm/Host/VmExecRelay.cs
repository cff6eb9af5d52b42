using System.Runtime.InteropServices;
using System.Text;
using Moat.Interop;
using Moat.Runtime;
using Moat.Vm.Protocol;

namespace Moat.Vm.Host;

/// <summary>
/// An exec's host end (<c>moat-runtime vm-exec DIR PROCESS.json terminal|pipes</c>): a child of the
/// exec command, holding the exec's stdio (its descriptors 0-2, or a pty's slave), connected to the
/// shim, which gives it the process's stream in the guest. It exits with the process's status, so
/// the exec command waits for it as for a local process, and its signals are the process's.
/// Descriptor 3 is the exec command's: "ok GUESTPID" or the error, then closed.
/// </summary>
public static class VmExecRelay
{
    public static int Run(string directory, string processFile, bool terminal)
    {
        var files = new VmFiles(directory);
        Libc.SetCloseOnExec(3, true);
        ShimClient client;
        RelayedTerminal? tty = null;
        try
        {
            var json = File.ReadAllBytes(processFile);
            File.Delete(processFile);
            client = ShimClient.Connect(files);
            var size = terminal ? RelayedTerminal.SizeOf(0) : new WindowSize(0, 0);
            var reply = client.Ask(FrameType.Exec, new ProcessRequest(json, terminal, size.Rows, size.Columns).Encode());
            // Before the exec command returns (and hands the master to a --console-socket), so that
            // the caller's first resize is not lost.
            if (terminal)
                tty = RelayedTerminal.Take(0, size, s => client.Channel.Write(FrameType.Resize, 0, s.Encode()));
            Report($"ok {reply.Value}");
        }
        catch (Exception e)
        {
            Report("error: " + e.Message);
            return 125;
        }
        Libc.Ignore(Libc.SIGPIPE);
        var channel = client.Channel;
        var registrations = new List<PosixSignalRegistration>();
        foreach (var (signal, number) in new[] { (PosixSignal.SIGINT, Libc.SIGINT), (PosixSignal.SIGTERM, Libc.SIGTERM), (PosixSignal.SIGHUP, Libc.SIGHUP), (PosixSignal.SIGQUIT, Libc.SIGQUIT) })
            registrations.Add(PosixSignalRegistration.Create(signal, ctx =>
            {
                ctx.Cancel = true;
                channel.Write(FrameType.Signal, 2, new SignalRequest(0, number, false).Encode());
            }));
        new Thread(() =>
        {
            var buffer = new byte[32 * 1024];
            try
            {
                int n;
                while ((n = Libc.Read(0, buffer, "stdin")) > 0)
                {
                    tty?.PassSize();
                    channel.Write(FrameType.Stdin, 0, buffer.AsSpan(0, n).ToArray());
                }
                if (!terminal)
                    channel.Write(FrameType.StdinClose, 0);
            }
            catch (SyscallException)
            {
            }
        }) { IsBackground = true, Name = "stdin" }.Start();
        try
        {
            // The shim passes the exec's frames in the order the agent sent them: its output, then
            // its exit, which ends the relay only once everything before it was written out.
            while (channel.Read() is { } frame)
            {
                switch (frame.Type)
                {
                    case FrameType.Stdout:
                        Write(1, frame.Payload);
                        break;
                    case FrameType.Stderr:
                        Write(terminal ? 1 : 2, frame.Payload);
                        break;
                    case FrameType.Exit:
                        return ExitStatus.Decode(frame.Payload).Status;
                }
            }
        }
        catch (Exception e) when (e is ProtocolException or SyscallException)
        {
        }
        return 137; // the machine went away under the process
    }

    static void Write(int fd, byte[] data)
    {
        try
        {
            Libc.WriteAll(fd, data, "exec output");
        }
        catch (SyscallException)
        {
        }
    }

    static void Report(string message)
    {
        try
        {
            Libc.WriteAll(3, Encoding.UTF8.GetBytes(message), "exec");
        }
        catch (SyscallException)
        {
        }
        Libc.close(3);
    }
}
