using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Moat.Oci.Json;
using Xunit;

namespace Moat.Tests.Unit.Oci;

/// <summary>JsonEscaping must write the very bytes Utf8JsonWriter writes with its default encoder.</summary>
public class JsonEscapingTests
{
    private static byte[] Write(Action<Utf8JsonWriter> write, JavaScriptEncoder? encoder)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = encoder }))
            write(writer);
        return buffer.ToArray();
    }

    private static void AssertSameAsDefault(Action<Utf8JsonWriter> write, string what)
    {
        var expected = Write(write, null);
        var actual = Write(write, JsonEscaping.Instance);
        Assert.True(expected.AsSpan().SequenceEqual(actual),
            $"{what}: default {Encoding.UTF8.GetString(expected)} but JsonEscaping {Encoding.UTF8.GetString(actual)}");
    }

    private static IEnumerable<string> Texts()
    {
        for (var c = 0; c <= 0xFFFF; c++)
        {
            if (char.IsSurrogate((char)c))
                continue;
            yield return $"a{(char)c}b";
        }
        foreach (var scalar in new[] { 0x10000, 0x1F600, 0x10FFFF, 0x2F800 })
            yield return "x" + char.ConvertFromUtf32(scalar) + "y";
        yield return "";
        yield return "plain ascii, nothing to escape";
        yield return "/bin/sh -c \"echo <a & b> 'c' + `d` \\ e\"\n\t\r\b\f\u007f\u0080é€";
    }

    [Fact]
    public void EveryCharacterOfTheBmpAndSomeBeyondIsEscapedAsTheDefaultEncoderDoes()
    {
        foreach (var text in Texts())
        {
            AssertSameAsDefault(w => w.WriteStringValue(text), $"string {text}");
            var utf8 = Encoding.UTF8.GetBytes(text);
            AssertSameAsDefault(w => w.WriteStringValue(utf8), $"UTF-8 {text}");
        }
    }

    [Fact]
    public void PropertyNamesAreEscapedAsTheDefaultEncoderDoes()
    {
        foreach (var text in new[] { "ociVersion", "a<b", "naïve", "quote\"d", "tab\tbed", "+" })
        {
            AssertSameAsDefault(w => { w.WriteStartObject(); w.WriteString(text, "v"); w.WriteEndObject(); }, $"name {text}");
            var utf8 = Encoding.UTF8.GetBytes(text);
            AssertSameAsDefault(w => { w.WriteStartObject(); w.WriteString(utf8, "v"); w.WriteEndObject(); }, $"UTF-8 name {text}");
        }
    }

    private static string Outcome(Action<Utf8JsonWriter> write, JavaScriptEncoder? encoder)
    {
        try
        {
            return Encoding.UTF8.GetString(Write(write, encoder));
        }
        catch (Exception e)
        {
            return e.GetType().Name;
        }
    }

    [Fact]
    public void InvalidTextGetsWhatTheDefaultGives()
    {
        var invalidUtf8 = new byte[] { (byte)'a', 0xC3, 0x28, (byte)'b' };
        foreach (var (what, write) in new (string, Action<Utf8JsonWriter>)[]
                 {
                     ("lone high surrogate", w => w.WriteStringValue("lone \ud800 high")),
                     ("lone low surrogate", w => w.WriteStringValue("lone \udc00 low")),
                     ("invalid UTF-8", w => w.WriteStringValue(invalidUtf8)),
                 })
            Assert.True(Outcome(write, null) == Outcome(write, JsonEscaping.Instance),
                $"{what}: default {Outcome(write, null)}, JsonEscaping {Outcome(write, JsonEscaping.Instance)}");
    }

    [Fact]
    public void EveryHandWrittenDocumentUsesIt()
    {
        // ToUtf8Bytes fills in the encoder when the caller gives none, so the default one is never built.
        var bytes = SpecJson.ToUtf8Bytes(w => w.WriteStringValue("<&>"));
        Assert.Equal("\"\\u003C\\u0026\\u003E\"", Encoding.UTF8.GetString(bytes));
    }
}
