using Moat.Runtime.State;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class ProcessInfoTests
{
    // Fields 4..21 and 23..52 of a real stat line; field 22 (start time) is spliced in.
    static string StatLine(string comm, char state, string startTime) =>
        $"1234 ({comm}) {state} 1 1234 1234 0 -1 4194560 1500 0 0 0 12 3 0 0 20 0 1 0 {startTime} 23456789 1234 " +
        "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    [Fact]
    public void ParsesStateAndStartTime()
    {
        var stat = ProcessInfo.Parse(StatLine("bash", 'S', "987654"));

        Assert.Equal(new ProcessInfo.Stat('S', 987654), stat);
    }

    [Fact]
    public void CommandNameMayHoldSpacesAndParentheses()
    {
        var stat = ProcessInfo.Parse(StatLine("a b) c", 'R', "42"));

        Assert.NotNull(stat);
        Assert.Equal('R', stat.Value.State);
        Assert.Equal(42UL, stat.Value.StartTime);
    }

    [Fact]
    public void CommandNameThatLooksLikeFields()
    {
        var stat = ProcessInfo.Parse(StatLine(") Z 1 2 3 (", 'Z', "7"));

        Assert.Equal(new ProcessInfo.Stat('Z', 7), stat);
    }

    [Fact]
    public void MinimalLineWithExactlyTheStartTime()
    {
        // 22 fields in all: pid, comm, then fields 3..22.
        var stat = ProcessInfo.Parse("5 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99");

        Assert.Equal(new ProcessInfo.Stat('S', 99), stat);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("1234 (bash S 1 2 3")]
    [InlineData("5 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18")]
    [InlineData("5 (x) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99")]
    [InlineData("5 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -99")]
    [InlineData("5 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 abc")]
    public void MalformedInputGivesNull(string text)
    {
        Assert.Null(ProcessInfo.Parse(text));
    }

    [Fact]
    public void ReadsTheCurrentProcess()
    {
        var stat = ProcessInfo.Read(Environment.ProcessId);

        Assert.NotNull(stat);
        Assert.True(stat.Value.StartTime > 0);
        Assert.Equal(stat, ProcessInfo.Read(Environment.ProcessId));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ReadOfANonPositivePidIsNull(int pid)
    {
        Assert.Null(ProcessInfo.Read(pid));
    }

    [Fact]
    public void ReadOfAMissingPidIsNull()
    {
        // Above the largest possible pid_max (4194304).
        Assert.Null(ProcessInfo.Read(int.MaxValue));
    }

    [Fact]
    public void CurrentProcessIsAliveWithItsStartTime()
    {
        var start = ProcessInfo.Read(Environment.ProcessId)!.Value.StartTime;

        Assert.True(ProcessInfo.IsAlive(Environment.ProcessId, start));
        Assert.False(ProcessInfo.IsAlive(Environment.ProcessId, start + 1));
        Assert.False(ProcessInfo.IsAlive(Environment.ProcessId, 0));
    }

    [Fact]
    public void MissingProcessIsNotAlive()
    {
        Assert.False(ProcessInfo.IsAlive(0, 0));
        Assert.False(ProcessInfo.IsAlive(int.MaxValue, 1));
    }
}
