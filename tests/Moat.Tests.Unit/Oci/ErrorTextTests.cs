using System.Text.Json;
using Moat.Oci;
using Xunit;

namespace Moat.Tests.Unit.Oci;

/// <summary>
/// The NativeAOT build keeps only the framework's resource keys (UseSystemResourceKeys): these are
/// the messages its exceptions carry there, as measured, and what the user must see instead.
/// </summary>
public class ErrorTextTests
{
    public static TheoryData<Exception, string> FrameworkExceptions => new()
    {
        { new DirectoryNotFoundException("IO_PathNotFound_Path, /no/such/dir/config.json"), "/no/such/dir/config.json: no such file or directory" },
        { new FileNotFoundException("IO_FileNotFound_FileName, /tmp/nofile", "/tmp/nofile"), "/tmp/nofile: no such file or directory" },
        { new IOException("IO_FileExists_Name, /run/x", 17), "/run/x: File exists (errno 17)" },
        { new UnauthorizedAccessException("UnauthorizedAccess_IODenied_Path, /root/secret"), "/root/secret: permission denied" },
        // .NET opens a directory as a file only to refuse it with EACCES of its own.
        { new UnauthorizedAccessException("UnauthorizedAccess_IODenied_Path, /", new IOException("Permission denied", 13)), "/: is a directory" },
        { new PathTooLongException("IO_PathTooLong_Path, /tmp/aaaa"), "/tmp/aaaa: file name too long" },
        { new FormatException("Format_InvalidStringWithValue, x"), "\"x\" is not in the expected format" },
        { new OverflowException("Overflow_Int32"), "number out of range" },
        { new IOException("IO_SharingViolation_File, /x"), "/x: sharing violation" },
        { new InvalidOperationException("InvalidOperation_EnumFailedVersion"), "enum failed version" },
    };

    [Theory]
    [MemberData(nameof(FrameworkExceptions))]
    public void ResourceKeysBecomeSentences(Exception e, string expected) =>
        Assert.Equal(expected, ErrorText.Of(e));

    [Fact]
    public void ReasonLeavesThePathToTheCaller() =>
        Assert.Equal("no such file or directory", ErrorText.Reason(new DirectoryNotFoundException("IO_PathNotFound_Path, /x/y")));

    [Theory]
    [InlineData("Could not find a part of the path '/x'.")]
    [InlineData("Input/output error : '/proc/version'")]
    [InlineData("File exists")]
    public void SentencesAreKept(string message)
    {
        Assert.Equal(message, ErrorText.Of(new IOException(message, 5)));
        Assert.False(ErrorText.TrySplitResourceKey(message, out _, out _));
    }

    [Theory]
    [InlineData("ExpectedStartOfPropertyOrValueNotFound LineNumber: 0 | BytePositionInLine: 9.", "expected start of property or value not found")]
    [InlineData("ExpectedStartOfValueNotFound, x LineNumber: 0 | BytePositionInLine: 6.", "expected start of value not found: x")]
    [InlineData("InvalidCharacterWithinString, 0x0A LineNumber: 0 | BytePositionInLine: 8.", "invalid character within string: 0x0A")]
    [InlineData("CannotReadInvalidUTF16, 0xD800 LineNumber: 0 | BytePositionInLine: 8.", "cannot read invalid utf16: 0xD800")]
    [InlineData("'x' is an invalid start of a value. LineNumber: 0 | BytePositionInLine: 6.", "'x' is an invalid start of a value.")]
    public void JsonReaderComplaintsBecomeSentencesWithoutTheirPosition(string message, string expected) =>
        Assert.Equal(expected, ErrorText.JsonSyntax(new JsonException(message)));
}
