using System.Diagnostics;
using System.Text;
using Moat.Scan.Versions;

namespace Moat.Tests.Scan.Versions;

public sealed class DpkgVersionTests
{
    [Theory]
    [InlineData("1.0", "1.0", 0)]
    [InlineData("1.0", "1.1", -1)]
    [InlineData("1:1.0", "2.0", 1)]           // epoch wins
    [InlineData("0:1.0", "1.0", 0)]           // epoch 0 is no epoch
    [InlineData("1.0~rc1", "1.0", -1)]        // ~ before the end
    [InlineData("1.0~~", "1.0~", -1)]
    [InlineData("1.0~", "1.0", -1)]
    [InlineData("1.0a", "1.0", 1)]
    [InlineData("1.0a", "1.0+", -1)]          // letters before non-letters
    [InlineData("1.0-1", "1.0-1+deb12u1", -1)]
    [InlineData("2.36-9+deb12u4", "2.36-9+deb12u10", -1)]
    [InlineData("1.0-1", "1.0", 1)]           // missing revision sorts as empty
    [InlineData("1.01", "1.1", 0)]            // numbers, not strings
    [InlineData("1:2.5.1-4", "1:2.5.1-4+b1", -1)]
    [InlineData("10", "9", 1)]
    public void OrdersAsDpkgDocuments(string a, string b, int expected)
    {
        Assert.Equal(expected, DpkgVersion.Compare(a, b));
        Assert.Equal(-expected, DpkgVersion.Compare(b, a));
    }

    /// <summary>A few hundred generated pairs, each compared by Debian's own dpkg: the answers must agree.</summary>
    [Fact]
    public void AgreesWithDpkgCompareVersionsOnGeneratedPairs()
    {
        var random = new Random(19);
        var pairs = new List<(string A, string B)>();
        for (var i = 0; i < 400; i++)
        {
            var a = Generate(random);
            // Half the pairs are near-misses of each other, where the rules matter most.
            var b = i % 2 == 0 ? Generate(random) : Mutate(a, random);
            pairs.Add((a, b));
        }
        var script = new StringBuilder();
        foreach (var (a, b) in pairs)
            script.Append($"if dpkg --compare-versions '{a}' lt '{b}'; then echo -1; elif dpkg --compare-versions '{a}' eq '{b}'; then echo 0; else echo 1; fi\n");
        var start = new ProcessStartInfo("bash") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        process.StandardInput.Write(script.ToString());
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        process.WaitForExit();
        Assert.Equal(pairs.Count, output.Length);
        var disagreements = new List<string>();
        for (var i = 0; i < pairs.Count; i++)
        {
            var ours = DpkgVersion.Compare(pairs[i].A, pairs[i].B);
            if (ours != int.Parse(output[i]))
                disagreements.Add($"{pairs[i].A} vs {pairs[i].B}: dpkg {output[i]}, ours {ours}");
        }
        Assert.Empty(disagreements);
        Assert.Contains(output, o => o == "0");
        Assert.Contains(output, o => o == "-1");
        Assert.Contains(output, o => o == "1");
    }

    const string Upstream = "0123456789abz.+~", Revision = "0123456789abz.+~";

    static string Generate(Random random)
    {
        var text = new StringBuilder();
        if (random.Next(4) == 0) text.Append(random.Next(3)).Append(':');
        text.Append(random.Next(10));
        for (var n = random.Next(6); n > 0; n--) text.Append(Upstream[random.Next(Upstream.Length)]);
        if (random.Next(3) > 0)
        {
            text.Append('-').Append(Revision[random.Next(10)]);
            for (var n = random.Next(4); n > 0; n--) text.Append(Revision[random.Next(Revision.Length)]);
        }
        return text.ToString();
    }

    static string Mutate(string version, Random random)
    {
        var choices = new Func<string>[]
        {
            () => version + "~" + random.Next(3),
            () => version + "+" + (char)('a' + random.Next(3)),
            () => version + random.Next(10),
            () => version.Contains(':') ? version[(version.IndexOf(':') + 1)..] : "0:" + version,
            () => version.Replace('.', '+'),
            () => version + (version.Contains('-') ? "." : "-") + "0",
            () => version.Length > 2 ? version[..^1] : version + "a",
        };
        return choices[random.Next(choices.Length)]();
    }
}
