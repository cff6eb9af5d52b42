using System.Text;
using System.Text.Json;

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
            throw new SpecException($"bundle {bundleDirectory}: cannot read {Bundle.ConfigFileName}: {ex.Message}", ex);
        }

        return Parse(json);
    }

    /// <summary>Parses config.json content; <paramref name="sourceName"/> prefixes error messages.</summary>
    public static Spec Parse(ReadOnlySpan<byte> json, string sourceName = Bundle.ConfigFileName)
    {
        json = SkipUtf8Bom(json);
        CheckTopLevelIsObject(json, sourceName);

        Spec? spec;
        try
        {
            spec = JsonSerializer.Deserialize(json, OciJsonContext.Default.Spec);
        }
        catch (JsonException ex)
        {
            throw new SpecException(DescribeJsonError(ex, sourceName), ex);
        }

        // Unreachable after the top-level check, but keeps the contract explicit.
        return spec ?? throw new SpecException($"{sourceName}: expected a JSON object, found null");
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

    private static string DescribeJsonError(JsonException ex, string sourceName)
    {
        var path = string.IsNullOrEmpty(ex.Path) ? "$" : ex.Path;
        var line = ex.LineNumber is { } zeroBasedLine ? $" (line {zeroBasedLine + 1})" : "";
        // The serializer wraps reader (syntax) errors; everything else is a value that does not fit the model.
        var kind = ex.InnerException is JsonException ? "invalid JSON" : "invalid value";
        return $"{sourceName}: {kind} at {path}{line}: {Explain(ex)}";
    }

    private static string Explain(JsonException ex)
    {
        var message = StripLocation(ex.Message);
        const string conversionPrefix = "The JSON value could not be converted to ";
        if (message.StartsWith(conversionPrefix, StringComparison.Ordinal))
        {
            var typeName = message[conversionPrefix.Length..].TrimEnd('.');
            return $"expected {DescribeClrType(typeName)}";
        }
        // The serializer's wording for these talks about C# annotations and reader options; say what is wrong instead.
        if (message.Contains("doesn't allow setting null values", StringComparison.Ordinal))
        {
            return "null is not allowed here";
        }
        if (message.Contains("trailing comma", StringComparison.Ordinal))
        {
            return "trailing commas are not allowed";
        }
        if (message.StartsWith("Expected depth to be zero", StringComparison.Ordinal))
        {
            return "unexpected end of data: an object or array is not closed";
        }
        return message;
    }

    // System.Text.Json appends "Path: $.x | LineNumber: n | BytePositionInLine: m." which we report ourselves.
    private static string StripLocation(string message)
    {
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        }
        return (cut >= 0 ? message[..cut] : message).Trim();
    }

    private static string DescribeClrType(string clrTypeName)
    {
        var nullable = clrTypeName.StartsWith("System.Nullable`1[", StringComparison.Ordinal);
        var name = nullable ? clrTypeName["System.Nullable`1[".Length..].TrimEnd(']') : clrTypeName;
        var description = name switch
        {
            "System.String" => "a string",
            "System.Boolean" => "true or false",
            "System.Int32" => "a 32-bit signed integer",
            "System.UInt32" => "a 32-bit unsigned integer",
            "System.Int64" => "a 64-bit signed integer",
            "System.UInt64" => "a 64-bit unsigned integer",
            "System.UInt16" => "a 16-bit unsigned integer",
            _ when name.StartsWith("System.Collections.Generic.List`1", StringComparison.Ordinal) => "an array",
            _ when name.StartsWith("System.Collections.Generic.Dictionary`2", StringComparison.Ordinal) => "an object",
            _ when name.StartsWith("Moat.Oci.", StringComparison.Ordinal) => "an object",
            _ => name,
        };
        return nullable ? $"{description} or null" : description;
    }

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
