using System.Text.Json;

namespace Moat.Oci.Json;

/// <summary>Reads one JSON value of a document read by hand (see <see cref="JsonTokens"/>).</summary>
public delegate T JsonTokenReader<T>(ref Utf8JsonReader reader);

/// <summary>
/// Values of documents that are read by hand with the source-generated serializer's default rules: null
/// where a reference is expected stays null, numbers must fit their type exactly, times are ISO 8601. The
/// hand-written readers of small hot documents (the monitor's files, the image config) share these; the
/// OCI Spec codec keeps its own stricter reader (<c>JsonRead</c>: RespectNullableAnnotations and the
/// serializer's error paths). Each reader stands on the value it reads and leaves the reader on its last token.
/// </summary>
public static class JsonTokens
{
    /// <summary>Moves to the next property's value (true, with its name), or onto the end of the object (false).</summary>
    public static bool NextProperty(ref Utf8JsonReader reader, out string name)
    {
        if (!reader.Read())
            throw new JsonException("the document ends inside an object");
        if (reader.TokenType == JsonTokenType.EndObject)
        {
            name = "";
            return false;
        }
        if (reader.TokenType != JsonTokenType.PropertyName)
            throw new JsonException($"expected a property name, found {reader.TokenType}");
        name = reader.GetString()!;
        if (!reader.Read())
            throw new JsonException($"the document ends before the value of '{name}'");
        return true;
    }

    /// <summary>Throws unless the current token is <paramref name="token"/>.</summary>
    public static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string what)
    {
        if (reader.TokenType != token)
            throw new JsonException($"expected {token} for {what}, found {(reader.TokenType == JsonTokenType.None ? "the end" : reader.TokenType.ToString())}");
    }

    /// <summary>Reads the first token and throws unless it is <paramref name="token"/>.</summary>
    public static void ExpectFirst(ref Utf8JsonReader reader, JsonTokenType token, string what)
    {
        if (!reader.Read())
            throw new JsonException($"{what} is empty");
        Expect(ref reader, token, what);
    }

    /// <summary>Throws unless the document ended with the value just read.</summary>
    public static void ExpectEnd(ref Utf8JsonReader reader, string what)
    {
        if (reader.Read())
            throw new JsonException($"'{reader.TokenType}' after the end of {what}");
    }

    public static JsonException Expected(string what, ref Utf8JsonReader reader) => new($"expected {what}, found {reader.TokenType}");

    public static string? String(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        _ => throw Expected("a string", ref reader),
    };

    /// <summary>A list's or map's string; null stays null, as the serializer leaves it.</summary>
    public static string StringElement(ref Utf8JsonReader reader) => String(ref reader)!;

    public static bool Boolean(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw Expected("true or false", ref reader),
    };

    public static int Int32(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : throw Expected("a 32-bit integer", ref reader);

    public static long Int64(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : throw Expected("a 64-bit integer", ref reader);

    public static ulong UInt64(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var value) ? value : throw Expected("an unsigned 64-bit integer", ref reader);

    public static DateTimeOffset Time(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var value) ? value : throw Expected("an ISO 8601 time", ref reader);

    public static DateTimeOffset? NullableTime(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Null ? null : Time(ref reader);

    public static List<T>? List<T>(ref Utf8JsonReader reader, JsonTokenReader<T> element)
    {
        if (reader.TokenType == JsonTokenType.Null)
            return null;
        Expect(ref reader, JsonTokenType.StartArray, "a list");
        var values = new List<T>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            values.Add(element(ref reader));
        return values;
    }

    public static List<string>? Strings(ref Utf8JsonReader reader) => List(ref reader, StringElement);

    public static Dictionary<string, T>? Map<T>(ref Utf8JsonReader reader, JsonTokenReader<T> value)
    {
        if (reader.TokenType == JsonTokenType.Null)
            return null;
        Expect(ref reader, JsonTokenType.StartObject, "a map");
        var values = new Dictionary<string, T>(StringComparer.Ordinal);
        while (NextProperty(ref reader, out var key))
            values[key] = value(ref reader);
        return values;
    }

    public static Dictionary<string, string>? StringMap(ref Utf8JsonReader reader) => Map(ref reader, StringElement);
}
