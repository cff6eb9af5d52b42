using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Moat.Monitor.Protocol;

/// <summary>
/// One entry of a container's log: when it was read, from which stream (stdout, stderr) and its text.
/// A complete line's <see cref="Text"/> ends with "\n"; a piece of a longer line (the container wrote
/// without a newline, and the monitor logged what it had) does not: print texts one after the other
/// and the output comes back as written.
/// </summary>
public readonly record struct LogEntry(DateTimeOffset Time, string Stream, string Text)
{
    public bool Partial => !Text.EndsWith('\n');
}

/// <summary>
/// The two on-disk log formats, written by the monitor and read by <see cref="LogReader"/>:
/// <list type="bullet">
/// <item>k8s-file (podman's and CRI's): <c>&lt;RFC3339Nano time&gt; stdout|stderr F|P &lt;text&gt;</c>, one line per
/// entry, P marking a piece of a line that continues in the next entry;</item>
/// <item>json-file (docker's): <c>{"log":"text\n","stream":"stdout","time":"..."}</c>, a piece of a line being
/// a log string without the final "\n".</item>
/// </list>
/// Times are written in UTC with nine fractional digits; any RFC 3339 time is read.
/// </summary>
public static class LogFormat
{
    public const string Stdout = "stdout";
    public const string Stderr = "stderr";

    /// <summary>RFC3339Nano in UTC: 2006-01-02T15:04:05.999999999Z with all nine digits (.NET keeps 100 ns).</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "00Z";

    /// <summary>Parses an RFC 3339 time with any number of fractional digits (Go writes up to nine, trimmed).</summary>
    public static bool TryParseTime(ReadOnlySpan<char> text, out DateTimeOffset time)
    {
        time = default;
        if (text.Length < 20)
            return false;
        Span<char> normal = stackalloc char[40];
        var length = 0;
        var i = 0;
        // The date and time up to the seconds: 19 characters.
        text[..19].CopyTo(normal);
        length = 19;
        i = 19;
        if (i < text.Length && text[i] == '.')
        {
            normal[length++] = '.';
            i++;
            var digits = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                if (digits < 7)
                    normal[length++] = text[i];
                digits++;
                i++;
            }
            if (digits == 0)
                return false;
            while (digits++ < 7)
                normal[length++] = '0';
        }
        else
        {
            ".0000000".CopyTo(normal[length..]);
            length += 8;
        }
        var zone = text[i..];
        if (zone is "Z" or "z")
            zone = "+00:00";
        if (zone.Length != 6 || length + 6 > normal.Length)
            return false;
        zone.CopyTo(normal[length..]);
        length += 6;
        return DateTimeOffset.TryParseExact(normal[..length], "yyyy-MM-dd'T'HH:mm:ss.fffffffzzz", CultureInfo.InvariantCulture,
            DateTimeStyles.None, out time);
    }

    /// <summary>
    /// Appends the entries for one piece of output to <paramref name="output"/>: one entry per line, and
    /// one partial entry for text after the last newline. Returns the byte offsets in output where each
    /// entry ends (so a writer can rotate between entries).
    /// </summary>
    public static void Encode(string driver, DateTimeOffset time, string stream, ReadOnlySpan<byte> data, ArrayBufferWriter<byte> output, List<int> entryEnds)
    {
        var timeText = FormatTime(time);
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            var complete = newline >= 0;
            var line = complete ? data[..newline] : data;
            if (driver == LogDrivers.JsonFile)
                EncodeJson(output, timeText, stream, line, complete);
            else
                EncodeK8s(output, timeText, stream, line, complete);
            entryEnds.Add(output.WrittenCount);
            data = complete ? data[(newline + 1)..] : [];
        }
    }

    static void EncodeK8s(ArrayBufferWriter<byte> output, string time, string stream, ReadOnlySpan<byte> line, bool complete)
    {
        var head = Encoding.ASCII.GetBytes($"{time} {stream} {(complete ? 'F' : 'P')} ");
        output.Write(head);
        output.Write(line);
        output.Write("\n"u8);
    }

    static void EncodeJson(ArrayBufferWriter<byte> output, string time, string stream, ReadOnlySpan<byte> line, bool complete)
    {
        // Invalid UTF-8 becomes U+FFFD, as docker's encoder does.
        var text = Encoding.UTF8.GetString(line);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("log"u8, complete ? text + "\n" : text);
            writer.WriteString("stream"u8, stream);
            writer.WriteString("time"u8, time);
            writer.WriteEndObject();
        }
        output.Write("\n"u8);
    }

    /// <summary>One line of a log file (without its newline) as an entry; null when it is not one (a torn or foreign line).</summary>
    public static LogEntry? Parse(string driver, ReadOnlySpan<byte> line) =>
        driver == LogDrivers.JsonFile ? ParseJson(line) : ParseK8s(line);

    static LogEntry? ParseK8s(ReadOnlySpan<byte> line)
    {
        var first = line.IndexOf((byte)' ');
        if (first <= 0)
            return null;
        var rest = line[(first + 1)..];
        var second = rest.IndexOf((byte)' ');
        if (second <= 0)
            return null;
        var stream = Encoding.ASCII.GetString(rest[..second]);
        rest = rest[(second + 1)..];
        // The tag: F or P, possibly with more flags after a colon in CRI's form ("F", "P").
        var third = rest.IndexOf((byte)' ');
        ReadOnlySpan<byte> tag, text;
        if (third < 0)
        {
            tag = rest;
            text = [];
        }
        else
        {
            tag = rest[..third];
            text = rest[(third + 1)..];
        }
        if (tag.IsEmpty || !TryParseTime(Encoding.ASCII.GetString(line[..first]), out var time))
            return null;
        var partial = tag[0] == (byte)'P';
        var content = Encoding.UTF8.GetString(text);
        return new LogEntry(time, stream, partial ? content : content + "\n");
    }

    static LogEntry? ParseJson(ReadOnlySpan<byte> line)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            string? log = null, stream = null, time = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan.SequenceEqual("log"u8) ? 1 : reader.ValueSpan.SequenceEqual("stream"u8) ? 2
                    : reader.ValueSpan.SequenceEqual("time"u8) ? 3 : 0;
                if (!reader.Read())
                    return null;
                if (name == 0 || reader.TokenType != JsonTokenType.String)
                {
                    reader.Skip();
                    continue;
                }
                var value = reader.GetString();
                switch (name)
                {
                    case 1: log = value; break;
                    case 2: stream = value; break;
                    case 3: time = value; break;
                }
            }
            if (log is null || stream is null || time is null || !TryParseTime(time, out var parsed))
                return null;
            return new LogEntry(parsed, stream, log);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
