using System.Text;
using System.Text.Encodings.Web;

namespace Moat.Oci.Json;

/// <summary>
/// Escapes exactly what <see cref="JavaScriptEncoder.Default"/> escapes, with the same sequences
/// Utf8JsonWriter writes for it, without its set-up: the default encoder's static constructor builds
/// a bitmap of the whole Unicode plane, which cost ~150 µs of every moat process that writes JSON
/// (a third of what `moat state` does after start-up). Escaped: C0 controls, DEL, everything above
/// ASCII, and <c>" &amp; ' + &lt; &gt; \ `</c>. Tests compare it with the default encoder on every
/// BMP character and on supplementary ones.
/// </summary>
public sealed class JsonEscaping : JavaScriptEncoder
{
    public static readonly JsonEscaping Instance = new();

    private JsonEscaping() { }

    public override int MaxOutputCharactersPerInputCharacter => 6; // \uXXXX

    private static bool Escapes(int scalar) => scalar switch
    {
        < 0x20 or >= 0x7F => true,
        '"' or '&' or '\'' or '+' or '<' or '>' or '\\' or '`' => true,
        _ => false,
    };

    public override bool WillEncode(int unicodeScalar) => Escapes(unicodeScalar);

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (var i = 0; i < textLength; i++)
            if (Escapes(text[i]))
                return i;
        return -1;
    }

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text)
    {
        for (var i = 0; i < utf8Text.Length; i++)
            if (Escapes(utf8Text[i]))
                return i;
        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var destination = new Span<char>(buffer, bufferLength);
        numberOfCharactersWritten = 0;
        if (!Escapes(unicodeScalar))
        {
            if (!new Rune(unicodeScalar).TryEncodeToUtf16(destination, out var written))
                return false;
            numberOfCharactersWritten = written;
            return true;
        }
        var shortForm = unicodeScalar switch
        {
            '\b' => 'b', '\t' => 't', '\n' => 'n', '\f' => 'f', '\r' => 'r', '\\' => '\\',
            _ => '\0',
        };
        if (shortForm != '\0')
        {
            if (destination.Length < 2)
                return false;
            destination[0] = '\\';
            destination[1] = shortForm;
            numberOfCharactersWritten = 2;
            return true;
        }
        Span<char> units = stackalloc char[2];
        var count = new Rune(unicodeScalar).EncodeToUtf16(units);
        if (destination.Length < 6 * count)
            return false;
        for (var i = 0; i < count; i++)
        {
            var target = destination.Slice(6 * i, 6);
            target[0] = '\\';
            target[1] = 'u';
            ((int)units[i]).TryFormat(target[2..], out _, "X4");
        }
        numberOfCharactersWritten = 6 * count;
        return true;
    }
}
