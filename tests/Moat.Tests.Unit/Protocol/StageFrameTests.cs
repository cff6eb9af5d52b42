using System.Text.RegularExpressions;
using Moat.Runtime.Protocol;
using Moat.Tests.Unit.Native;
using Xunit;

namespace Moat.Tests.Unit.Protocol;

/// <summary>
/// The frame tags have one definition, native/stage-frames.def: spawn.h expands it for C, and the
/// C# enum StageFrame must say the same. A frame added on one side only fails here.
/// </summary>
public sealed partial class StageFrameTests
{
    static string DefinitionFile => Path.Combine(CProbe.NativeDirectory, "stage-frames.def");

    /// <summary>Every frame of the definition as C code that includes spawn.h sees it (MOAT_FRAME_NAME).</summary>
    const string Program = """
        #include <stdio.h>
        #include "spawn.h"
        int main(void) {
        #define MOAT_FRAME(name, tag, doc) printf("%s=%d\n", #name, (int)MOAT_FRAME_##name);
        #include "stage-frames.def"
        #undef MOAT_FRAME
          return 0;
        }
        """;

    [GeneratedRegex("""^MOAT_FRAME\(([A-Z][A-Z_]*), '(.)', "([^"]+)"\)$""")]
    private static partial Regex Entry();

    static string PascalCase(string cName) =>
        string.Concat(cName.Split('_').Select(word => word[0] + word[1..].ToLowerInvariant()));

    static SortedDictionary<string, long> ToSorted(IEnumerable<KeyValuePair<string, long>> entries) => new(entries.ToDictionary(), StringComparer.Ordinal);

    [Fact]
    public void TheCSharpEnumHasExactlyTheFramesOfTheDefinition()
    {
        var fromC = ToSorted(CProbe.Values(Program, "-I", CProbe.NativeDirectory).Select(e => KeyValuePair.Create(PascalCase(e.Key), e.Value)));
        var fromCSharp = ToSorted(Enum.GetValues<StageFrame>().Select(f => KeyValuePair.Create(f.ToString(), (long)(byte)f)));

        var onlyC = fromC.Keys.Except(fromCSharp.Keys).ToList();
        var onlyCSharp = fromCSharp.Keys.Except(fromC.Keys).ToList();
        Assert.True(onlyC.Count == 0, $"frames in stage-frames.def without a StageFrame member: {string.Join(", ", onlyC)}");
        Assert.True(onlyCSharp.Count == 0, $"StageFrame members not in stage-frames.def: {string.Join(", ", onlyCSharp)}");
        CProbe.AssertEqual(new Dictionary<string, long>(fromC), fromCSharp);
        Assert.Equal(fromC.Count, fromC.Values.Distinct().Count());
    }

    [Fact]
    public void EveryLineOfTheDefinitionIsACommentOrAFrameWithADirection()
    {
        var entries = 0;
        foreach (var line in File.ReadLines(DefinitionFile))
        {
            if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal))
                continue;
            var entry = Entry().Match(line);
            Assert.True(entry.Success, $"stage-frames.def: not MOAT_FRAME(NAME, 'c', \"direction: payload\"): {line}");
            Assert.Matches("^(helper|runtime|init|helper or init) -> (helper|runtime|init): ", entry.Groups[3].Value);
            entries++;
        }
        Assert.Equal(Enum.GetValues<StageFrame>().Length, entries);
    }

    [Fact]
    public void NoTwoFramesShareATag()
    {
        var tags = Enum.GetValues<StageFrame>();

        Assert.Equal(Enum.GetNames<StageFrame>().Length, tags.Distinct().Count());
    }
}
