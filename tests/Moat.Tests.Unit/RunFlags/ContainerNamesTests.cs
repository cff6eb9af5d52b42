using Moat.Engine.Names;
using Xunit;

namespace Moat.Tests.Unit.RunFlags;

/// <summary>Container ids and generated names, drawn from the kernel's generator (KernelRandom).</summary>
public class ContainerNamesTests
{
    [Fact]
    public void IdsAre64LowercaseHexDigitsNeverAllDigitsInTheShortForm()
    {
        var ids = Enumerable.Range(0, 200).Select(_ => ContainerNames.NewId()).ToList();
        Assert.All(ids, id =>
        {
            Assert.Equal(64, id.Length);
            Assert.True(id.All(char.IsAsciiHexDigitLower), id);
            Assert.False(id[..12].All(char.IsAsciiDigit), id);
        });
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void GeneratedNamesFollowTheGrammarAndTakeADigitWhenTheirFirstTriesAreTaken()
    {
        var name = ContainerNames.Generate(_ => false);
        Assert.Matches("^[a-z]+_[a-z]+$", name);
        Assert.Equal(name, ContainerNames.Validate(name));
        var tries = 0;
        var crowded = ContainerNames.Generate(_ => ++tries <= 5);
        Assert.Matches("^[a-z]+_[a-z]+[0-9]$", crowded);
    }

    [Fact]
    public void BelowStaysInItsBoundAndReachesEveryValue()
    {
        var seen = new HashSet<int>();
        for (var i = 0; i < 400; i++)
        {
            var n = KernelRandom.Below(4);
            Assert.InRange(n, 0, 3);
            seen.Add(n);
        }
        Assert.Equal(4, seen.Count); // a value missed in 400 fair draws: probability 4 * (3/4)^400, below 1e-49
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelRandom.Below(0));
    }
}
