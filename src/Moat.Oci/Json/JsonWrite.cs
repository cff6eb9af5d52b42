using System.Text.Json;

namespace Moat.Oci.Json;

internal delegate void JsonValueWriter<in T>(Utf8JsonWriter writer, T value);

/// <summary>
/// Writes properties the way the serializer does with WhenWritingNull: a null property is left out,
/// while null elements and dictionary values are written as null.
/// </summary>
internal static class JsonWrite
{
    public static void String(Utf8JsonWriter w, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    public static void Bool(Utf8JsonWriter w, ReadOnlySpan<byte> name, bool? value)
    {
        if (value is { } v)
        {
            w.WriteBoolean(name, v);
        }
    }

    public static void Number(Utf8JsonWriter w, ReadOnlySpan<byte> name, int? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    public static void Number(Utf8JsonWriter w, ReadOnlySpan<byte> name, uint? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    public static void Number(Utf8JsonWriter w, ReadOnlySpan<byte> name, long? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    public static void Number(Utf8JsonWriter w, ReadOnlySpan<byte> name, ulong? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    public static void Number(Utf8JsonWriter w, ReadOnlySpan<byte> name, ushort? value)
    {
        if (value is { } v)
        {
            // The serializer writes ushort through the uint overload too: same digits.
            w.WriteNumber(name, (uint)v);
        }
    }

    public static void Object<T>(Utf8JsonWriter w, ReadOnlySpan<byte> name, T? value, JsonValueWriter<T> write)
        where T : class
    {
        if (value is not null)
        {
            w.WritePropertyName(name);
            write(w, value);
        }
    }

    public static void Strings(Utf8JsonWriter w, ReadOnlySpan<byte> name, IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            return;
        }
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            if (value is null)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteStringValue(value);
            }
        }
        w.WriteEndArray();
    }

    public static void Numbers(Utf8JsonWriter w, ReadOnlySpan<byte> name, IReadOnlyList<uint>? values)
    {
        if (values is null)
        {
            return;
        }
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteNumberValue(value);
        }
        w.WriteEndArray();
    }

    public static void List<T>(Utf8JsonWriter w, ReadOnlySpan<byte> name, List<T>? values, JsonValueWriter<T> write)
        where T : class
    {
        if (values is null)
        {
            return;
        }
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            if (value is null)
            {
                w.WriteNullValue();
            }
            else
            {
                write(w, value);
            }
        }
        w.WriteEndArray();
    }

    public static void Dictionary(Utf8JsonWriter w, ReadOnlySpan<byte> name, Dictionary<string, string>? values)
    {
        if (values is null)
        {
            return;
        }
        w.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            if (value is null)
            {
                w.WriteNull(key);
            }
            else
            {
                w.WriteString(key, value);
            }
        }
        w.WriteEndObject();
    }

    public static void Dictionary<T>(Utf8JsonWriter w, ReadOnlySpan<byte> name, Dictionary<string, T>? values, JsonValueWriter<T> write)
        where T : class
    {
        if (values is null)
        {
            return;
        }
        w.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            w.WritePropertyName(key);
            if (value is null)
            {
                w.WriteNullValue();
            }
            else
            {
                write(w, value);
            }
        }
        w.WriteEndObject();
    }
}
