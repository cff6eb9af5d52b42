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
        client.Send(AttachFrames.Stdin, "ignored\n"u8);
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
}
