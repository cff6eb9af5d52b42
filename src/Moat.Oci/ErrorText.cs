using System.Runtime.InteropServices;
using System.Text;

namespace Moat.Oci;

/// <summary>
/// Sentences for the framework's exceptions (IOException, UnauthorizedAccessException, the JSON
/// reader's, FormatException, ...). The NativeAOT build drops the framework's message texts
/// (UseSystemResourceKeys: start-up and size), so their Message is a resource key and its
/// arguments, "IO_PathNotFound_Path, /x": what the user sees is built here instead, from the
/// exception's type, its errno and the key's arguments. A message that is a sentence already
/// (a JIT run, or text from strerror) is kept.
/// </summary>
public static class ErrorText
{
    /// <summary>The path the exception is about, when known, and what went wrong: "/x: no such file or directory".</summary>
    public static string Of(Exception e)
    {
        if (!TrySplitResourceKey(e.Message, out _, out var argument))
            return e.Message;
        var path = e is FileNotFoundException { FileName: { Length: > 0 } name } ? name
            : argument is { Length: > 0 } && argument[0] == '/' ? argument : null;
        return path is null ? Reason(e) : $"{path}: {Reason(e)}";
    }

    /// <summary>What went wrong, without the path (for callers that name the file themselves).</summary>
    public static string Reason(Exception e)
    {
        if (!TrySplitResourceKey(e.Message, out var key, out var argument))
            return e.Message;
        var errno = Errno(e);
        return e switch
        {
            FileNotFoundException or DirectoryNotFoundException => "no such file or directory",
            PathTooLongException => "file name too long",
            EndOfStreamException => "the data ends too early",
            // .NET refuses to open a directory as a file with EACCES of its own.
            UnauthorizedAccessException when errno == 21 || (argument is { Length: > 0 } && argument[0] == '/' && Directory.Exists(argument)) => "is a directory",
            UnauthorizedAccessException => "permission denied",
            IOException when errno > 0 => Marshal.GetPInvokeErrorMessage(errno) + $" (errno {errno})",
            FormatException => argument is null ? "not in the expected format" : $"\"{argument}\" is not in the expected format",
            OverflowException => "number out of range",
            // A path is the caller's to name (Of puts it first).
            _ => argument is null || argument[0] == '/' ? Words(key) : $"{Words(key)} ({argument})",
        };
    }

    /// <summary>The JSON reader's complaint without its position ("LineNumber: ..."), which callers report themselves.</summary>
    public static string JsonSyntax(Exception e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        message = (cut >= 0 ? message[..cut] : message).Trim();
        return TrySplitResourceKey(message, out var key, out var argument)
            ? argument is null ? Words(key) : $"{Words(key)}: {argument}"
            : message;
    }

    /// <summary>errno of an IOException made from a failed call (its HResult), or of its inner one.</summary>
    static int Errno(Exception e) =>
        e is IOException { HResult: > 0 and < 4096 } io ? io.HResult
        : e.InnerException is IOException { HResult: > 0 and < 4096 } inner ? inner.HResult
        : 0;

    /// <summary>
    /// A resource key is one word of letters, digits and '_' that starts with a capital and has a
    /// capital or '_' after its first letter ("IO_PathNotFound_Path", "ExpectedStartOfValueNotFound");
    /// arguments follow after ", ".
    /// </summary>
    public static bool TrySplitResourceKey(string message, out string key, out string? argument)
    {
        var end = message.IndexOf(", ", StringComparison.Ordinal);
        key = end < 0 ? message : message[..end];
        argument = end < 0 ? null : message[(end + 2)..];
        if (key.Length < 2 || !char.IsAsciiLetterUpper(key[0]))
            return false;
        var inner = false;
        for (var i = 1; i < key.Length; i++)
        {
            var c = key[i];
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
                return false;
            inner |= c == '_' || char.IsAsciiLetterUpper(c);
        }
        return inner;
    }

    /// <summary>
    /// "ExpectedStartOfValueNotFound" → "expected start of value not found"; of "IO_SharingViolation_File",
    /// the part that says what happened ("sharing violation"), not the area or the argument's name.
    /// </summary>
    static string Words(string key)
    {
        var parts = key.Split('_', StringSplitOptions.RemoveEmptyEntries);
        var part = parts.Length >= 2 ? parts[1] : parts[0];
        var text = new StringBuilder(part.Length + 8);
        for (var i = 0; i < part.Length; i++)
        {
            // A capital starts a word after a small letter or a digit, and at the end of an
            // acronym ("JSONValue": "json value").
            if (i > 0 && char.IsAsciiLetterUpper(part[i]) &&
                (!char.IsAsciiLetterUpper(part[i - 1]) || (i + 1 < part.Length && char.IsAsciiLetterLower(part[i + 1]))))
                text.Append(' ');
            text.Append(char.ToLowerInvariant(part[i]));
        }
        return text.ToString();
    }
}
