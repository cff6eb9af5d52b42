using System.Text.Json;
using Xunit;

namespace Moat.Tests.Unit.Oci;

internal static class JsonAssert
{
    /// <summary>Asserts two JSON documents are equal ignoring whitespace and object key order.</summary>
    public static void Equivalent(string expected, string actual)
    {
        using var expectedDocument = JsonDocument.Parse(expected);
        using var actualDocument = JsonDocument.Parse(actual);
        var difference = FindDifference(expectedDocument.RootElement, actualDocument.RootElement, "$");
        Assert.True(difference is null, $"JSON differs at {difference}\nactual: {actual}");
    }

    private static string? FindDifference(JsonElement expected, JsonElement actual, string path)
    {
        if (expected.ValueKind != actual.ValueKind)
        {
            return $"{path}: expected {expected.ValueKind}, got {actual.ValueKind}";
        }
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var expectedProperties = expected.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
                var actualProperties = actual.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
                foreach (var name in expectedProperties.Keys.Union(actualProperties.Keys))
                {
                    if (!expectedProperties.TryGetValue(name, out var e))
                    {
                        return $"{path}.{name}: unexpected property";
                    }
                    if (!actualProperties.TryGetValue(name, out var a))
                    {
                        return $"{path}.{name}: missing property";
                    }
                    if (FindDifference(e, a, $"{path}.{name}") is { } difference)
                    {
                        return difference;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var expectedItems = expected.EnumerateArray().ToList();
                var actualItems = actual.EnumerateArray().ToList();
                if (expectedItems.Count != actualItems.Count)
                {
                    return $"{path}: expected {expectedItems.Count} items, got {actualItems.Count}";
                }
                for (var i = 0; i < expectedItems.Count; i++)
                {
                    if (FindDifference(expectedItems[i], actualItems[i], $"{path}[{i}]") is { } difference)
                    {
                        return difference;
                    }
                }
                return null;
            case JsonValueKind.Number:
                // Compare the literal digits so that 64-bit values are not squeezed through a double.
                return expected.GetRawText() == actual.GetRawText() ? null : $"{path}: expected {expected.GetRawText()}, got {actual.GetRawText()}";
            case JsonValueKind.String:
                return expected.GetString() == actual.GetString() ? null : $"{path}: expected \"{expected.GetString()}\", got \"{actual.GetString()}\"";
            default:
                return null;
        }
    }
}
