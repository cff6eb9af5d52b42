using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace Moat.Tests.Unit.Oci;

/// <summary>
/// JSON trees for the property tests: every leaf of a document by its path, random values in the shape
/// of a template (the kitchen sink, which sets every field of the model), and pruning to some leaves.
/// Fields are found by walking the JSON the codec writes, never by a list kept here, so a field added
/// to the model (and so to the kitchen sink and the codec, which their own tests enforce) is covered.
/// </summary>
internal static class JsonTree
{
    public static JsonNode Parse(byte[] utf8) => JsonNode.Parse(utf8) ?? throw new InvalidOperationException("null document");

    /// <summary>
    /// Path -> JSON text of each leaf. With <paramref name="arraysAreLeaves"/> an array is one leaf (the
    /// unit a merge replaces); without it each element is walked (empty arrays and objects are leaves).
    /// </summary>
    public static SortedDictionary<string, string> Leaves(JsonNode? node, bool arraysAreLeaves)
    {
        var leaves = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Walk(node, "$", arraysAreLeaves, leaves);
        return leaves;
    }

    private static void Walk(JsonNode? node, string path, bool arraysAreLeaves, SortedDictionary<string, string> leaves)
    {
        switch (node)
        {
            case JsonObject o when o.Count > 0:
                foreach (var (key, value) in o)
                    Walk(value, Child(path, key), arraysAreLeaves, leaves);
                break;
            case JsonArray a when a.Count > 0 && !arraysAreLeaves:
                for (var i = 0; i < a.Count; i++)
                    Walk(a[i], $"{path}[{i}]", arraysAreLeaves, leaves);
                break;
            default:
                leaves.Add(path, node?.ToJsonString() ?? "null");
                break;
        }
    }

    /// <summary>A property's path; keys that are not plain names (dictionary keys) in brackets.</summary>
    public static string Child(string path, string key) =>
        key.Length > 0 && key.All(char.IsAsciiLetterOrDigit) ? $"{path}.{key}" : $"{path}[{ToUtf8String(key)}]";

    /// <summary>The document with only the leaves in <paramref name="keep"/> (arrays as leaves); objects left empty are dropped.</summary>
    public static JsonNode? Prune(JsonNode? node, ISet<string> keep, string path = "$")
    {
        if (node is not JsonObject o)
            return keep.Contains(path) ? node?.DeepClone() : null;
        var pruned = new JsonObject();
        foreach (var (key, value) in o)
        {
            var child = Child(path, key);
            if (Prune(value, keep, child) is { } kept)
                pruned[key] = kept;
            else if (value is null && keep.Contains(child))
                pruned[key] = null;
        }
        return pruned.Count > 0 || (o.Count == 0 && keep.Contains(path)) ? pruned : null;
    }

    private static readonly string[] Alphabet = ["a", "Z", "0", " ", "-", "_", "/", ":", ".", "=", "\"", "\\", "é", "日", "😀", "\n", "\t", "\u0001"];

    private static readonly Gen<string> Strings = Gen.Elements(Alphabet).ArrayOf().Select(parts => string.Concat(parts));

    /// <summary>
    /// A tree shaped like <paramref name="template"/> (same keys, same array lengths) with every scalar
    /// replaced: strings by random text, numbers by 0..65535 (valid for every integer field), booleans
    /// by either value.
    /// </summary>
    public static Gen<JsonNode?> Randomize(JsonNode? template)
    {
        switch (template)
        {
            case JsonObject o:
            {
                var keys = o.Select(p => p.Key).ToArray();
                return Gen.CollectToArray(o.Select(p => Randomize(p.Value))).Select(values =>
                {
                    var result = new JsonObject();
                    for (var i = 0; i < keys.Length; i++)
                        result[keys[i]] = values[i]?.DeepClone();
                    return (JsonNode?)result;
                });
            }
            case JsonArray a:
                return Gen.CollectToArray(a.Select(Randomize)).Select(values =>
                    (JsonNode?)new JsonArray(values.Select(v => v?.DeepClone()).ToArray()));
            case JsonValue v:
                return v.GetValueKind() switch
                {
                    JsonValueKind.String => Strings.Select(s => (JsonNode?)JsonValue.Create(s)),
                    JsonValueKind.Number => Gen.Choose(0, 65535).Select(n => (JsonNode?)JsonValue.Create(n)),
                    JsonValueKind.True or JsonValueKind.False => Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b)),
                    var kind => throw new InvalidOperationException($"unexpected JSON value kind {kind}"),
                };
            default:
                return Gen.Constant<JsonNode?>(null);
        }
    }

    public static byte[] ToUtf8(JsonNode? node) => Encoding.UTF8.GetBytes(node?.ToJsonString() ?? "null");

    /// <summary>A string as a leaf's JSON text.</summary>
    public static string ToUtf8String(string value) => JsonValue.Create(value).ToJsonString();

    /// <summary>Both leaf maps equal, or a failure that names every differing path.</summary>
    public static void AssertSameLeaves(IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, string> actual, string what)
    {
        var differences = expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal)
            .Where(p => !expected.TryGetValue(p, out var e) || !actual.TryGetValue(p, out var a) || e != a)
            .Select(p => $"  {p}: expected {expected.GetValueOrDefault(p, "(absent)")}, got {actual.GetValueOrDefault(p, "(absent)")}")
            .ToList();
        if (differences.Count > 0)
            throw new Xunit.Sdk.XunitException($"{what}: {differences.Count} leaves differ\n{string.Join('\n', differences)}");
    }
}
