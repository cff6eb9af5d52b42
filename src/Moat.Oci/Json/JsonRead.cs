using System.Text.Json;

namespace Moat.Oci.Json;

internal delegate T JsonValueReader<T>(ref Utf8JsonReader reader, JsonReadContext context);

/// <summary>
/// Reads one JSON value into a C# value with the serializer's rules under RespectNullableAnnotations:
/// a non-nullable property refuses null, numbers must fit their C# type exactly (no fractions or exponents),
/// and collection elements of reference type may be null (the serializer does not check those).
/// </summary>
internal static class JsonRead
{
    public static string String(ref Utf8JsonReader reader, JsonReadContext context)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            throw context.NullNotAllowed();
        }
        return StringValue(ref reader, context);
    }

    public static string? NullableString(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Null ? null : StringValue(ref reader, context);

    private static string StringValue(ref Utf8JsonReader reader, JsonReadContext context)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw context.Expected("a string");
        }
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // Invalid UTF-8: the serializer reports it as a value that cannot be converted.
            throw context.Expected("a string");
        }
    }

    public static bool Bool(ref Utf8JsonReader reader, JsonReadContext context) => BoolValue(ref reader, context, "true or false");

    public static bool? NullableBool(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Null ? null : BoolValue(ref reader, context, "true or false or null");

    private static bool BoolValue(ref Utf8JsonReader reader, JsonReadContext context, string expected) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw context.Expected(expected),
    };

    private const string Int32Name = "a 32-bit signed integer";
    private const string UInt32Name = "a 32-bit unsigned integer";
    private const string Int64Name = "a 64-bit signed integer";
    private const string UInt64Name = "a 64-bit unsigned integer";
    private const string UInt16Name = "a 16-bit unsigned integer";
    private const string OrNull = " or null";

    public static int Int32(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : throw context.Expected(Int32Name);

    public static int? NullableInt32(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Null ? null
        : reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : throw context.Expected(Int32Name + OrNull);

    public static uint UInt32(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetUInt32(out var value) ? value : throw context.Expected(UInt32Name);

    public static uint? NullableUInt32(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Null ? null
        : reader.TokenType == JsonTokenType.Number && reader.TryGetUInt32(out var value) ? value : throw context.Expected(UInt32Name + OrNull);

    public static long Int64(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : throw context.Expected(Int64Name);

    public static long? NullableInt64(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Null ? null
        : reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : throw context.Expected(Int64Name + OrNull);

    public static ulong UInt64(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var value) ? value : throw context.Expected(UInt64Name);

    public static ulong? NullableUInt64(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Null ? null
        : reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var value) ? value : throw context.Expected(UInt64Name + OrNull);

    public static ushort? NullableUInt16(ref Utf8JsonReader reader, JsonReadContext context) =>
        reader.TokenType == JsonTokenType.Null ? null
        : reader.TokenType == JsonTokenType.Number && reader.TryGetUInt16(out var value) ? value : throw context.Expected(UInt16Name + OrNull);

    /// <summary>A property of object type that may be null.</summary>
    public static T? NullableObject<T>(ref Utf8JsonReader reader, JsonReadContext context, JsonValueReader<T> read)
        where T : class =>
        reader.TokenType == JsonTokenType.Null ? null : read(ref reader, context);

    /// <summary>A property of object type that may not be null.</summary>
    public static T Object<T>(ref Utf8JsonReader reader, JsonReadContext context, JsonValueReader<T> read)
        where T : class =>
        reader.TokenType == JsonTokenType.Null ? throw context.NullNotAllowed() : read(ref reader, context);

    public static List<T>? NullableList<T>(ref Utf8JsonReader reader, JsonReadContext context, JsonValueReader<T> element) =>
        reader.TokenType == JsonTokenType.Null ? null : ListValue(ref reader, context, element);

    public static List<T> List<T>(ref Utf8JsonReader reader, JsonReadContext context, JsonValueReader<T> element) =>
        reader.TokenType == JsonTokenType.Null ? throw context.NullNotAllowed() : ListValue(ref reader, context, element);

    private static List<T> ListValue<T>(ref Utf8JsonReader reader, JsonReadContext context, JsonValueReader<T> element)
    {
        context.StartArray(ref reader);
        var list = new List<T>();
        while (context.NextElement(ref reader))
        {
            list.Add(ElementOrNull(ref reader, context, element));
            context.ElementDone();
        }
        return list;
    }

    public static Dictionary<string, T>? NullableDictionary<T>(ref Utf8JsonReader reader, JsonReadContext context, JsonValueReader<T> value)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        context.StartDictionary(ref reader);
        var dictionary = new Dictionary<string, T>();
        while (context.NextKey(ref reader) is { } key)
        {
            // Indexer, not Add: a repeated key keeps its last value, as the serializer does.
            dictionary[key] = ElementOrNull(ref reader, context, value);
        }
        return dictionary;
    }

    // Elements and dictionary values of reference type accept null: nullable annotations are not enforced on them.
    private static T ElementOrNull<T>(ref Utf8JsonReader reader, JsonReadContext context, JsonValueReader<T> read) =>
        reader.TokenType == JsonTokenType.Null && default(T) is null ? default! : read(ref reader, context);
}
