using Moat.Monitor.Protocol;

namespace Moat.Tests.Monitor;

/// <summary>The container's log as the monitor writes it, read back with the Protocol's LogReader.</summary>
public class LogTests
{
    [Fact]
    public void JsonFileLogRotatesByRenameChainAndReadsBackInOrder()
    {
        // 60 numbered lines of ~40 bytes each: with 1000-byte files and 2 rotated kept, the oldest fall off.
        using var container = new MonitoredContainer(
            ["sh", "-c", "i=1; while [ $i -le 60 ]; do echo \"line $i\"; i=$((i+1)); done"],
            c => c with { LogDriver = LogDrivers.JsonFile, LogMaxSize = 1000, LogMaxFiles = 2 });
        container.Create();
        using (var client = container.AttachAndStart())
            Assert.Equal(0, MonitoredContainer.ReadUntilExit(client).ExitCode);
        container.WaitForMonitorExit();

        Assert.True(File.Exists(container.LogPath + ".1"));
        Assert.True(File.Exists(container.LogPath + ".2"));
        Assert.False(File.Exists(container.LogPath + ".3"));
        foreach (var file in LogReader.Files(container.LogPath))
            Assert.InRange(new FileInfo(file).Length, 1, 1000);
        Assert.StartsWith("{\"log\":\"line ", File.ReadLines(container.LogPath).First());

        var lines = LogReader.Read(container.LogPath, LogDrivers.JsonFile).Select(e => e.Text).ToList();
        Assert.Equal("line 60\n", lines[^1]);
        // Consecutive numbers from wherever the kept files begin: nothing lost or reordered within them.
        var first = int.Parse(lines[0]["line ".Length..].Trim());
        Assert.True(first > 1, "the oldest lines should have been rotated away");
        Assert.Equal(Enumerable.Range(first, 61 - first).Select(i => $"line {i}\n"), lines);

        var tail = LogReader.Read(container.LogPath, LogDrivers.JsonFile, tail: 3);
        Assert.Equal(["line 58\n", "line 59\n", "line 60\n"], tail.Select(e => e.Text));
        Assert.All(tail, e => Assert.Equal(LogFormat.Stdout, e.Stream));
    }

    [Fact]
    public void NoneDriverWritesNoLogButClientsGetOutput()
    {
        using var container = new MonitoredContainer(["echo", "hi"], c => c with { LogDriver = LogDrivers.None });
        container.Create();
        using var client = container.AttachAndStart();
        Assert.Equal("hi\n", MonitoredContainer.ReadUntilExit(client).Stdout);
        container.WaitForMonitorExit();
        Assert.False(File.Exists(container.LogPath));
    }
}
