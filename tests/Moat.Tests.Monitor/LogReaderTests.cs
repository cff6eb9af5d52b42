using System.Buffers;
using Moat.Monitor.Protocol;

namespace Moat.Tests.Monitor;

/// <summary>LogFormat and LogReader on files written here (no root, no containers).</summary>
public sealed class LogReaderTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("moat-logreader-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static byte[] Encode(string driver, DateTimeOffset time, string stream, string text)
    {
        var output = new ArrayBufferWriter<byte>();
        LogFormat.Encode(driver, time, stream, System.Text.Encoding.UTF8.GetBytes(text), output, []);
        return output.WrittenSpan.ToArray();
    }

    [Theory]
    [InlineData(LogDrivers.K8sFile)]
    [InlineData(LogDrivers.JsonFile)]
    public void PiecesOfALineAreJoinedAndSinceAndTailSelect(string driver)
    {
        var t0 = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234567);
        var path = Path.Combine(dir, "ctr.log");
        using (var file = File.Create(path))
        {
            file.Write(Encode(driver, t0, "stdout", "one\ntw"));
            file.Write(Encode(driver, t0.AddSeconds(1), "stderr", "err \"quoted\" é\n"));
            file.Write(Encode(driver, t0.AddSeconds(2), "stdout", "o\nthree\n"));
        }
        var all = LogReader.Read(path, driver);
        Assert.Equal(["stdout:one\n", "stderr:err \"quoted\" é\n", "stdout:two\n", "stdout:three\n"], all.Select(e => $"{e.Stream}:{e.Text}"));
        Assert.Equal(t0, all[0].Time);
        Assert.Equal(t0, all[2].Time); // a joined line keeps its first piece's time
        Assert.Equal(["three\n"], LogReader.Read(path, driver, since: t0.AddSeconds(2)).Select(e => e.Text));
        Assert.Equal(["two\n", "three\n"], LogReader.Read(path, driver, tail: 2).Select(e => e.Text));
    }

    [Fact]
    public void TimesOfOtherWritersParse()
    {
        Assert.True(LogFormat.TryParseTime("2021-07-28T10:30:44.539432305+02:00", out var podman));
        Assert.Equal(new DateTimeOffset(2021, 7, 28, 8, 30, 44, TimeSpan.Zero).AddTicks(5394323), podman.ToUniversalTime());
        Assert.True(LogFormat.TryParseTime("2021-07-28T10:30:44Z", out var whole));
        Assert.Equal(new DateTimeOffset(2021, 7, 28, 10, 30, 44, TimeSpan.Zero), whole);
        Assert.True(LogFormat.TryParseTime("2021-07-28T10:30:44.5Z", out var tenth));
        Assert.Equal(5_000_000, tenth.Ticks % 10_000_000);
        Assert.False(LogFormat.TryParseTime("yesterday", out _));
        var now = DateTimeOffset.UtcNow;
        Assert.True(LogFormat.TryParseTime(LogFormat.FormatTime(now), out var back));
        Assert.Equal(now, back);
    }

    [Fact]
    public void FollowReadsWhatIsAppendedAndCrossesARotation()
    {
        var path = Path.Combine(dir, "ctr.log");
        var t = DateTimeOffset.UtcNow;
        File.WriteAllBytes(path, Encode(LogDrivers.K8sFile, t, "stdout", "before\n"));
        var stop = false;
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<string>();
        var follower = new Thread(() =>
        {
            foreach (var entry in LogReader.Follow(path, LogDrivers.K8sFile, null, null, () => Volatile.Read(ref stop), cancel.Token, pollMilliseconds: 10))
                lock (seen)
                    seen.Add(entry.Text);
        });
        follower.Start();
        int Count()
        {
            lock (seen)
                return seen.Count;
        }
        Wait.Until(() => Count() == 1, TimeSpan.FromSeconds(30), () => "the existing entry was not read");
        File.AppendAllText(path, System.Text.Encoding.UTF8.GetString(Encode(LogDrivers.K8sFile, t, "stdout", "appended\n")));
        Wait.Until(() => Count() == 2, TimeSpan.FromSeconds(30), () => "the appended entry was not read");
        // Rotation as the monitor does it: the file is renamed away and a new one begins.
        File.AppendAllText(path, System.Text.Encoding.UTF8.GetString(Encode(LogDrivers.K8sFile, t, "stdout", "last-before-rotation\n")));
        File.Move(path, path + ".1");
        File.WriteAllBytes(path, Encode(LogDrivers.K8sFile, t, "stderr", "after rotation\n"));
        Wait.Until(() => Count() == 4, TimeSpan.FromSeconds(30), () => $"rotation: saw {string.Join("|", seen)}");
        Volatile.Write(ref stop, true);
        Assert.True(follower.Join(TimeSpan.FromSeconds(30)), "Follow did not end when told to stop");
        Assert.Equal(["before\n", "appended\n", "last-before-rotation\n", "after rotation\n"], seen);
    }
}
