using System.Text;
using System.Text.Json;

namespace Moat.Oci.Json;

/// <summary>
/// Where the reader is in the document, kept the way System.Text.Json keeps its read stack so that
/// error paths come out identical: an object frame names the property being read (cleared before the
/// next name is read), an array frame counts the elements read so far, a dictionary frame names the
/// last key (never cleared, as the serializer's fast path does).
/// </summary>
internal sealed class JsonReadContext
{
    private enum FrameKind : byte { Object, Array, Dictionary }

    private FrameKind[] _kinds = new FrameKind[16];
    private string?[] _names = new string?[16];
    private int[] _counts = new int[16];
    private int _depth;

    public void StartObject(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Expected("an object");
        }
        Push(FrameKind.Object);
    }

    /// <summary>Moves to the next property name; false (and the frame is left) at the end of the object.</summary>
    public bool NextProperty(ref Utf8JsonReader reader)
    {
        _names[_depth - 1] = null;
        reader.Read();
        if (reader.TokenType == JsonTokenType.EndObject)
        {
            _depth--;
            return false;
        }
        return true;
    }

    /// <summary>When the current property is <paramref name="utf8Name"/>, records it and moves onto its value.</summary>
    public bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8Name, string name)
    {
        if (!reader.ValueTextEquals(utf8Name))
        {
            return false;
        }
        _names[_depth - 1] = name;
        reader.Read();
        return true;
    }

    /// <summary>Skips the value of a property the model does not know, whatever its shape.</summary>
    public void SkipUnknown(ref Utf8JsonReader reader)
    {
        _names[_depth - 1] = NameForPath(ref reader);
        reader.Skip();
    }

    // An unknown name only ever shows up in an error path, so invalid UTF-8 in it must not be an error of its own.
    private static string NameForPath(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return Encoding.UTF8.GetString(reader.ValueSpan);
        }
    }

    public void StartArray(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Expected("an array");
        }
        Push(FrameKind.Array);
    }

    /// <summary>Moves to the next element; false (and the frame is left) at the end of the array.</summary>
    public bool NextElement(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.EndArray)
        {
            _depth--;
            return false;
        }
        return true;
    }

    public void ElementDone() => _counts[_depth - 1]++;

    public void StartDictionary(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Expected("an object");
        }
        Push(FrameKind.Dictionary);
    }

    /// <summary>Reads the next key and moves onto its value; null (and the frame is left) at the end of the object.</summary>
    public string? NextKey(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.EndObject)
        {
            _depth--;
            return null;
        }
        string key;
        try
        {
            key = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // Invalid UTF-8: the serializer reports a key it cannot convert like any other value.
            throw Expected("a string");
        }
        _names[_depth - 1] = key;
        reader.Read();
        return key;
    }

    public JsonValueError Expected(string what) => new($"expected {what}");

    public JsonValueError NullNotAllowed() => new("null is not allowed here");

    /// <summary>The location in System.Text.Json's notation: $.a.b[2]['key.with.dots'].</summary>
    public string Path
    {
        get
        {
            var builder = new StringBuilder("$");
            for (var i = 0; i < _depth; i++)
            {
                if (_names[i] is { } name)
                {
                    if (name.AsSpan().IndexOfAny(SpecialCharacters) >= 0)
                    {
                        builder.Append("['").Append(name).Append("']");
                    }
                    else
                    {
                        builder.Append('.').Append(name);
                    }
                }
                if (_kinds[i] == FrameKind.Array)
                {
                    builder.Append('[').Append(_counts[i]).Append(']');
                }
            }
            return builder.ToString();
        }
    }

    // The characters for which System.Text.Json (net9) switches a path segment to the bracket form.
    private const string SpecialCharacters = ". '/\"[]()\t\n\r\f\b\\\u0085\u2028\u2029";

    private void Push(FrameKind kind)
    {
        if (_depth == _kinds.Length)
        {
            Array.Resize(ref _kinds, _depth * 2);
            Array.Resize(ref _names, _depth * 2);
            Array.Resize(ref _counts, _depth * 2);
        }
        _kinds[_depth] = kind;
        _names[_depth] = null;
        _counts[_depth] = 0;
        _depth++;
    }
}

/// <summary>A well-formed value that does not fit the model; the context supplies the path.</summary>
internal sealed class JsonValueError(string detail) : Exception(detail);
