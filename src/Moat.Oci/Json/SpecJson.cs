using System.Buffers;
using System.Text.Json;

namespace Moat.Oci.Json;

/// <summary>
/// Hand-written reader and writer for the OCI documents. System.Text.Json's metadata set-up for the
/// ~70 model types costs milliseconds of reflection per process even when source-generated; this
/// reads and writes the same JSON (same rules, same bytes, same error paths) with none of it.
/// </summary>
public static class SpecJson
{
    // The serializer's reader settings for OciJsonContext: strict JSON, depth 64.
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>The writer settings of OciJsonContext (compact) and OciJson.Indented (tabs).</summary>
    public static JsonWriterOptions WriterOptions(bool indented) => indented
        ? new JsonWriterOptions { Indented = true, IndentCharacter = '\t', IndentSize = 1 }
        : default;

    public static Spec ReadSpec(ReadOnlySpan<byte> utf8) => ReadDocument(utf8, SpecReader.ReadSpec);

    public static Process ReadProcess(ReadOnlySpan<byte> utf8) => ReadDocument(utf8, ProcessReader.ReadProcess);

    public static LinuxResources ReadLinuxResources(ReadOnlySpan<byte> utf8) => ReadDocument(utf8, ResourcesReader.ReadResources);

    /// <summary>A linux.seccomp object alone (a profile file).</summary>
    public static LinuxSeccomp ReadSeccomp(ReadOnlySpan<byte> utf8) => ReadDocument(utf8, SeccompReader.ReadSeccomp);

    public static void Write(Utf8JsonWriter writer, Spec spec) => SpecWriter.WriteSpec(writer, spec);

    public static void Write(Utf8JsonWriter writer, Process process) => ProcessWriter.WriteProcess(writer, process);

    public static void Write(Utf8JsonWriter writer, LinuxResources resources) => ResourcesWriter.WriteResources(writer, resources);

    /// <summary>A seccomp object alone, compact (the seccomp filter cache keys on it).</summary>
    public static byte[] ToUtf8Bytes(LinuxSeccomp seccomp, bool indented = false) => ToUtf8Bytes(w => SeccompWriter.WriteSeccomp(w, seccomp), WriterOptions(indented));

    public static byte[] ToUtf8Bytes(Spec spec, bool indented = false) => ToUtf8Bytes(w => Write(w, spec), WriterOptions(indented));

    /// <summary>Whatever <paramref name="write"/> writes, as UTF-8 bytes: every hand-written document goes through here.</summary>
    public static byte[] ToUtf8Bytes(Action<Utf8JsonWriter> write, JsonWriterOptions options = default)
    {
        // Same output as the default encoder, without its start-up cost (JsonEscaping).
        options.Encoder ??= JsonEscaping.Instance;
        // One buffer per thread, kept between documents: create writes state.json twice and the
        // init message once, each ~10-20 KB, and a fresh buffer doubling up from 4 KB allocated
        // about three times the document each time (every allocation is memory the process touches).
        // A nested call finds the slot empty and uses a buffer of its own.
        var buffer = writeBuffer ?? new ArrayBufferWriter<byte>(16384);
        writeBuffer = null;
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, options))
            {
                write(writer);
            }
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            buffer.ResetWrittenCount();
            writeBuffer = buffer;
        }
    }

    [ThreadStatic]
    static ArrayBufferWriter<byte>? writeBuffer;

    /// <summary>A whole document: errors carry its path and line (also used for the runtime's own documents).</summary>
    internal static T ReadDocument<T>(ReadOnlySpan<byte> utf8, JsonValueReader<T> read)
    {
        var reader = new Utf8JsonReader(utf8, ReaderOptions);
        var context = new JsonReadContext();
        try
        {
            reader.Read();
            var value = read(ref reader, context);
            // Anything but whitespace after the document is refused, as the serializer does.
            reader.Read();
            return value;
        }
        catch (JsonValueError e)
        {
            var (line, column) = Locate(utf8, reader.TokenStartIndex);
            throw new SpecJsonException(e.Message, isSyntaxError: false, context.Path, line, column, e);
        }
        catch (JsonException e)
        {
            throw new SpecJsonException(DescribeSyntaxError(e), isSyntaxError: true, context.Path, e.LineNumber ?? 0, e.BytePositionInLine, e);
        }
    }

    /// <summary>Reads a value embedded in a document the serializer is reading (the converters).</summary>
    internal static T ReadEmbedded<T>(ref Utf8JsonReader reader, JsonValueReader<T> read)
    {
        var context = new JsonReadContext();
        try
        {
            return read(ref reader, context);
        }
        catch (JsonValueError e)
        {
            throw new SpecJsonException(e.Message, isSyntaxError: false, context.Path, null, null, e);
        }
        catch (JsonException e) when (e is not SpecJsonException)
        {
            throw new SpecJsonException(DescribeSyntaxError(e), isSyntaxError: true, context.Path, null, null, e);
        }
    }

    // Tokens never span lines (JSON strings cannot hold a raw newline), so the line of a token is the
    // number of newlines before it, which is what the reader itself counts.
    private static (long Line, long Column) Locate(ReadOnlySpan<byte> utf8, long tokenStart)
    {
        var before = utf8[..(int)Math.Min(tokenStart, utf8.Length)];
        var lastNewline = before.LastIndexOf((byte)'\n');
        return (before.Count((byte)'\n'), before.Length - (lastNewline + 1));
    }

    private static string DescribeSyntaxError(JsonException ex)
    {
        // Without "LineNumber: n | BytePositionInLine: m.", which callers report themselves.
        var message = ErrorText.JsonSyntax(ex);
        // The reader's wording for these talks about reader options; say what is wrong instead.
        if (message.Contains("trailing comma", StringComparison.Ordinal))
        {
            return "trailing commas are not allowed";
        }
        if (message.StartsWith("Expected depth to be zero", StringComparison.Ordinal) || message.StartsWith("zero depth at end", StringComparison.Ordinal))
        {
            return "unexpected end of data: an object or array is not closed";
        }
        return message;
    }
}
