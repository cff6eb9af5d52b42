using System.Text.Json;

namespace Moat.Oci.Json;

/// <summary>
/// A document the OCI codec cannot read. <see cref="DocumentPath"/> is the location inside the document
/// the codec was given; when that document was a whole file, <see cref="JsonException.Path"/> and
/// <see cref="JsonException.LineNumber"/> are set too. When the codec ran as a converter inside another
/// document, they are left for the serializer to fill in with the outer location.
/// </summary>
public sealed class SpecJsonException : JsonException
{
    internal SpecJsonException(string detail, bool isSyntaxError, string documentPath, long? lineNumber, long? bytePositionInLine, Exception inner)
        : base(Describe(detail, isSyntaxError, documentPath, lineNumber), lineNumber is null ? null : documentPath, lineNumber, bytePositionInLine, inner)
    {
        Detail = detail;
        IsSyntaxError = isSyntaxError;
        DocumentPath = documentPath;
    }

    /// <summary>What is wrong, e.g. "expected a string" or "trailing commas are not allowed".</summary>
    public string Detail { get; }

    /// <summary>True when the text is not JSON; false when it is JSON that does not fit the model.</summary>
    public bool IsSyntaxError { get; }

    /// <summary>Where, in System.Text.Json's path notation: $.process.args[1].</summary>
    public string DocumentPath { get; }

    private static string Describe(string detail, bool isSyntaxError, string documentPath, long? lineNumber)
    {
        var kind = isSyntaxError ? "invalid JSON" : "invalid value";
        var line = lineNumber is { } zeroBased ? $" (line {zeroBased + 1})" : "";
        return $"{kind} at {documentPath}{line}: {detail}";
    }
}
