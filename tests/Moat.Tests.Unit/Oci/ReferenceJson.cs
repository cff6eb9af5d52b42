using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Moat.Oci;
using Moat.Oci.Json;

namespace Moat.Tests.Unit.Oci;

/// <summary>
/// The source-generated serializer with OciJsonContext's options but none of its converters: what the
/// hand-written codec replaced, kept here as the oracle the codec is compared with.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(Spec))]
[JsonSerializable(typeof(Process))]
[JsonSerializable(typeof(LinuxResources))]
internal partial class ReferenceJsonContext : JsonSerializerContext
{
    // Lazy: a static initializer here could run before the generated part's own static fields are set.
    private static ReferenceJsonContext? s_indented;

    public static ReferenceJsonContext Indented => s_indented ??= new(new JsonSerializerOptions(Default.Options)
    {
        WriteIndented = true,
        IndentCharacter = '\t',
        IndentSize = 1,
    });
}

/// <summary>SpecLoader.Parse as it was before the codec: the serializer plus its message clean-up.</summary>
internal static class ReferenceSpecLoader
{
    /// <summary>The parsed spec, or the SpecException message the old loader produced.</summary>
    public static (Spec? Spec, string? Error) Parse(string json) => Parse(Encoding.UTF8.GetBytes(json));

    public static (Spec? Spec, string? Error) Parse(ReadOnlySpan<byte> json)
    {
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            json = json[3..];
        }
        try
        {
            return (JsonSerializer.Deserialize(json, ReferenceJsonContext.Default.Spec), null);
        }
        catch (JsonException ex)
        {
            return (null, Describe(ex));
        }
    }

    private static string Describe(JsonException ex)
    {
        var path = string.IsNullOrEmpty(ex.Path) ? "$" : ex.Path;
        var line = ex.LineNumber is { } zeroBasedLine ? $" (line {zeroBasedLine + 1})" : "";
        var kind = ex.InnerException is JsonException ? "invalid JSON" : "invalid value";
        return $"config.json: {kind} at {path}{line}: {Explain(ex)}";
    }

    private static string Explain(JsonException ex)
    {
        var message = StripLocation(ex.Message);
        const string conversionPrefix = "The JSON value could not be converted to ";
        if (message.StartsWith(conversionPrefix, StringComparison.Ordinal))
        {
            return $"expected {DescribeClrType(message[conversionPrefix.Length..].TrimEnd('.'))}";
        }
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
}

/// <summary>
/// A context that embeds the OCI documents through the codec's converters, as a context of the
/// runtime's own would: the converters are tested through it.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(SpecJsonConverter), typeof(ProcessJsonConverter), typeof(LinuxResourcesJsonConverter)])]
[JsonSerializable(typeof(Spec))]
[JsonSerializable(typeof(Process))]
[JsonSerializable(typeof(LinuxResources))]
internal partial class ConverterJsonContext : JsonSerializerContext;

/// <summary>OciJsonContext indented with tabs, as the runtime's documents were written before the hand-written writers.</summary>
internal static class ReferenceJson
{
    private static OciJsonContext? s_indentedOci;

    public static OciJsonContext IndentedOci => s_indentedOci ??= new(new JsonSerializerOptions(OciJsonContext.Default.Options)
    {
        WriteIndented = true,
        IndentCharacter = '\t',
        IndentSize = 1,
    });
}
