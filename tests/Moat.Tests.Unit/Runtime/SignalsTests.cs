using Moat.Runtime;
using Moat.Runtime.Lifecycle;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class SignalsTests
{
    [Theory]
    [InlineData("KILL", 9)]
    [InlineData("SIGKILL", 9)]
    [InlineData("kill", 9)]
    [InlineData("sigkill", 9)]
    [InlineData("9", 9)]
    [InlineData("TERM", 15)]
    [InlineData("SIGTERM", 15)]
    [InlineData("HUP", 1)]
    [InlineData("USR1", 10)]
    [InlineData("SIGUSR2", 12)]
    [InlineData("CHLD", 17)]
    [InlineData("CLD", 17)]
    [InlineData("IOT", 6)]
    [InlineData("WINCH", 28)]
    [InlineData("SYS", 31)]
    [InlineData("1", 1)]
    [InlineData("64", 64)]
    [InlineData("015", 15)]
    public void ParsesNamesAndNumbers(string text, int expected)
    {
        Assert.Equal(expected, Signals.Parse(text));
    }

    [Theory]
    [InlineData("SIGRTMIN", 34)]
    [InlineData("RTMIN", 34)]
    [InlineData("SIGRTMIN+1", 35)]
    [InlineData("rtmin+30", 64)]
    [InlineData("RTMAX", 64)]
    [InlineData("RTMAX-1", 63)]
    [InlineData("SIGRTMAX-30", 34)]
    public void ParsesRealTimeSignals(string text, int expected)
    {
        Assert.Equal(expected, Signals.Parse(text));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("1000")]
    [InlineData("-1")]
    [InlineData("+9")]
    [InlineData(" 9")]
    [InlineData("FOO")]
    [InlineData("SIGFOO")]
    [InlineData("SIG")]
    [InlineData("")]
    [InlineData("SIGSIGKILL")]
    [InlineData("RTMIN-1")]
    [InlineData("RTMAX+1")]
    [InlineData("RTMIN+31")]
    [InlineData("RTMAX-31")]
    [InlineData("RTMIN+")]
    [InlineData("RTMINX")]
    public void RejectsInvalidSignals(string text)
    {
        Assert.Throws<RuntimeException>(() => Signals.Parse(text));
    }

    [Fact]
    public void ErrorNamesTheInput()
    {
        Assert.Contains("FOO", Assert.Throws<RuntimeException>(() => Signals.Parse("FOO")).Message);
        Assert.Contains("65", Assert.Throws<RuntimeException>(() => Signals.Parse("65")).Message);
    }
}
