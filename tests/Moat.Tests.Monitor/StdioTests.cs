using System.Text;
using System.Text.Json.Nodes;
using Moat.Monitor.Protocol;

namespace Moat.Tests.Monitor;

/// <summary>Input through the attach socket, and a terminal received over the console socket.</summary>
public class StdioTests
{
    [Fact]
    public void StdinFramesReachTheContainerAndCloseStdinEndsIt()
    {
        using var container = new MonitoredContainer(["sh", "-c", "read a; echo got:$a; cat; echo eof"], c => c with { Stdin = true });
        container.Create();
        using var client = container.AttachAndStart();
        client.Send(AttachFrames.Stdin, "first\n"u8);
        client.Send(AttachFrames.Stdin, "second\n"u8);
        client.Send(AttachFrames.CloseStdin);
        var (stdout, _, code) = MonitoredContainer.ReadUntilExit(client);
        Assert.Equal("got:first\nsecond\neof\n", stdout);
        Assert.Equal(0, code);
    }

    [Fact]
    public void WithoutStdinTheContainerReadsEndOfFile()
    {
        using var container = new MonitoredContainer(["sh", "-c", "cat; echo done"]);
        container.Create();
        using var client = container.AttachAndStart();
        try
        {
            client.Send(AttachFrames.Stdin, "ignored\n"u8);
        }
        catch (Moat.Interop.SyscallException e) when (e.Errno == Moat.Interop.Errors.EPIPE)
        {
            // The container read end-of-file and finished before this was sent; the monitor hung up after Exited.
        }
        Assert.Equal("done\n", MonitoredContainer.ReadUntilExit(client).Stdout);
    }

    [Fact]
    public void TerminalOutputArrivesAndResizeReachesThePty()
    {
        using var container = new MonitoredContainer(
            ["sh", "-c", "stty size; tty; read line; stty size; echo read:$line; exit 4"],
            c => c with { Terminal = true, Stdin = true },
            spec => spec["process"]!["terminal"] = true);
        container.Create();
        using var client = container.Attach();
        client.SendResize(33, 77);
        client.Send(AttachFrames.Start);
        var output = new StringBuilder();
        var resized = false;
        int? exit = null;
        while (exit is null && client.Receive(TimeSpan.FromSeconds(60)) is { } message)
        {
            if (message.Type == AttachFrames.Stdout)
                output.Append(Encoding.UTF8.GetString(message.Payload));
            else if (message.Type == AttachFrames.Stderr)
                Assert.Fail("a terminal has one stream: everything is stdout");
            else if (message.Type == AttachFrames.Exited)
                exit = AttachClient.Number(message.Payload);
            if (!resized && output.ToString().Contains("/dev/pts/"))
            {
                resized = true;
                client.SendResize(40, 100);
                client.Send(AttachFrames.Stdin, "typed\r"u8);
            }
        }
        var text = output.ToString().Replace("\r\n", "\n");
        Assert.Contains("33 77\n", text);
        Assert.Contains("40 100\n", text);
        Assert.Contains("read:typed\n", text);
        Assert.Equal(4, exit);
        container.WaitForMonitorExit();
        Assert.Contains("33 77", File.ReadAllText(container.LogPath));
    }

    [Fact]
    public void SocketsInADirectoryWhosePathIsTooLongForSunPathStillWork()
    {
        // As <root>/containers/<64 hex digits>/: attach.sock and console.sock there exceed 107 bytes.
        using var container = new MonitoredContainer(["sh", "-c", "tty; echo long"], c => c with { Terminal = true },
            spec => spec["process"]!["terminal"] = true, directoryName: new string('d', 64) + "/" + new string('e', 40));
        Assert.True(Path.Combine(container.Directory, ContainerFiles.AttachSocket).Length > 107);
        container.Create();
        using var client = container.AttachAndStart();
        var (stdout, _, code) = MonitoredContainer.ReadUntilExit(client);
        Assert.Contains("/dev/pts/", stdout);
        Assert.Contains("long", stdout);
        Assert.Equal(0, code);
    }

    [Fact]
    public void ClientsGoingAwayAndHangUpsDoNotEndTheMonitor()
    {
        using var container = new MonitoredContainer(["sh", "-c", "while true; do echo tick; sleep 0.01; done"]);
        container.Create();
        // The first client starts it, takes one message and vanishes while output flows (EPIPE, never SIGPIPE).
        using (var first = container.AttachAndStart())
            Assert.NotNull(first.Receive(TimeSpan.FromSeconds(30)));
        var status = container.Status!;
        foreach (var signal in new[] { 1 /* SIGHUP */, 2 /* SIGINT */, 13 /* SIGPIPE */ })
            Assert.Equal(0, kill(status.MonitorPid, signal));
        Thread.Sleep(50); // give a wrongly handled signal the time to end the monitor
        using var second = container.Attach();
        var message = second.Receive(TimeSpan.FromSeconds(30));
        Assert.Equal(AttachFrames.Stdout, message!.Value.Type);
        Assert.True(MonitoredContainer.Alive(status.MonitorPid, status.MonitorStartTime));
        second.Send(AttachFrames.Start);
        // Start on a running container answers Started with its pid again.
        while (second.Receive(TimeSpan.FromSeconds(30)) is { } answer)
            if (answer.Type == AttachFrames.Started)
            {
                Assert.Equal(status.Pid, AttachClient.Number(answer.Payload));
                break;
            }
        container.RuntimeCommand("kill", container.Id, "KILL").Ok();
        Assert.Equal(137, MonitoredContainer.ReadUntilExit(second).ExitCode);
        container.WaitForMonitorExit();
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int kill(int pid, int signal);
}
