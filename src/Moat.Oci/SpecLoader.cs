using System.Text;
using System.Text.Json;
using Moat.Oci.Json;

namespace Moat.Oci;

/// <summary>Reads config.json into a <see cref="Spec"/>, turning every failure into a <see cref="SpecException"/>.</summary>
public static class SpecLoader
{
    /// <summary>Loads &lt;bundle&gt;/config.json. The result is parsed but not validated.</summary>
    public static Spec Load(string bundleDirectory)
    {
        if (!Directory.Exists(bundleDirectory))
        {
            throw new SpecException($"bundle {bundleDirectory}: no such directory");
        }

        var configPath = Path.Combine(bundleDirectory, Bundle.ConfigFileName);
        byte[] json;
        try
        {
            json = File.ReadAllBytes(configPath);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SpecException($"bundle {bundleDirectory}: {Bundle.ConfigFileName} not found", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SpecException($"bundle {bundleDirectory}: cannot read {Bundle.ConfigFileName}: {ErrorText.Reason(ex)}", ex);
        }

        return Parse(json);
    }

    /// <summary>Parses config.json content; <paramref name="sourceName"/> prefixes error messages.</summary>
    public static Spec Parse(ReadOnlySpan<byte> json, string sourceName = Bundle.ConfigFileName)
    {
        json = SkipUtf8Bom(json);
        CheckTopLevelIsObject(json, sourceName);

        try
        {
            return SpecJson.ReadSpec(json);
        }
        catch (SpecJsonException ex)
        {
            throw new SpecException($"{sourceName}: {ex.Message}", ex);
        }
    }

    /// <summary>Parses config.json text (convenience for callers holding a string).</summary>
    public static Spec Parse(string json, string sourceName = Bundle.ConfigFileName) =>
        Parse(Encoding.UTF8.GetBytes(json), sourceName);

    private static ReadOnlySpan<byte> SkipUtf8Bom(ReadOnlySpan<byte> json) =>
        json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? json[3..] : json;

    // Gives "empty" and "not an object" their own messages instead of the serializer's generic ones.
    private static void CheckTopLevelIsObject(ReadOnlySpan<byte> json, string sourceName)
    {
        if (json.Trim(" \t\r\n"u8).IsEmpty)
        {
            throw new SpecException($"{sourceName}: file is empty");
        }

        var reader = new Utf8JsonReader(json);
        try
        {
            reader.Read();
        }
        catch (JsonException ex)
        {
            throw new SpecException(
                $"{sourceName}: invalid JSON at $ (line {ex.LineNumber + 1}): {Explain(ex)}", ex);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new SpecException($"{sourceName}: expected a JSON object at the top level, found {DescribeToken(reader.TokenType)}");
        }
    }

    // Only the first token is read here, so the reader's own wording is all there is to clean up.
    private static string Explain(JsonException ex) => ErrorText.JsonSyntax(ex);

    private static string DescribeToken(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
