using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpYaml;
using SharpYaml.Events;

namespace Moat.Sandbox.Policy;

/// <summary>
/// The policy file in YAML: the same schema as the JSON one (docs/sandbox.md). SharpYaml's event parser
/// (no serializer, no reflection: NativeAOT-clean) reads it; this walk checks the shape against the
/// schema, with the line of anything wrong (an unknown key, a list where a mapping belongs, an alias),
/// and turns it into the JSON document PolicyJson reads, so both formats share one set of value checks.
/// </summary>
public static class PolicyYaml
{
    static readonly string[] Lists = ["readable", "writable", "hidden", "executables", "connect", "bind"];
    const string Known = "readable, writable, hidden, executables, connect, bind, calls";

    /// <summary>Reads a policy file: YAML (.yaml, .yml, or anything not starting like JSON) or JSON.</summary>
    public static SandboxPolicy ReadFile(ReadOnlySpan<byte> content, string source)
    {
        var extension = Path.GetExtension(source).ToLowerInvariant();
        var first = content.TrimStart(" \t\r\n"u8);
        var json = extension == ".json" || (extension is not (".yaml" or ".yml") && !first.IsEmpty && first[0] is (byte)'{' or (byte)'/');
        return json ? PolicyJson.Read(content, source) : Read(Encoding.UTF8.GetString(content), source);
    }

    public static SandboxPolicy Read(string yaml, string source) => PolicyJson.Read(ToJson(yaml, source), source);

    /// <summary>The policy as JSON; a SandboxPolicyException naming the line when the YAML is not a policy.</summary>
    public static byte[] ToJson(string yaml, string source)
    {
        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            var parser = Parser.CreateParser(new StringReader(yaml));
            using var w = new Utf8JsonWriter(buffer);
            var events = new Events(parser, source);
            events.Expect<StreamStart>("the start of the file");
            if (events.Peek() is StreamEnd)
            {
                // An empty file: the empty policy (nothing allowed), as "{}" is.
                w.WriteStartObject();
                w.WriteEndObject();
                w.Flush();
                return buffer.WrittenSpan.ToArray();
            }
            events.Expect<DocumentStart>("a document");
            var top = events.Next();
            if (top is not MappingStart)
                throw events.Error(top, "the policy must be a mapping of keys (" + Known + ")");
            w.WriteStartObject();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (events.Next() is var key && key is not MappingEnd)
            {
                var name = events.KeyName(key);
                if (!seen.Add(name))
                    throw events.Error(key, $"the key \"{name}\" is given twice");
                if (name == "calls")
                    Calls(events, w);
                else if (Array.IndexOf(Lists, name) >= 0)
                    List(events, w, name);
                else
                    throw events.Error(key, $"unknown key \"{name}\" (known: {Known})");
            }
            w.WriteEndObject();
            events.Expect<DocumentEnd>("the end of the document");
            if (events.Peek() is not StreamEnd)
                throw events.Error(events.Peek(), "a policy file holds one document");
            w.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        catch (YamlException e)
        {
            throw new SandboxPolicyException($"{source}: not valid YAML (line {e.Start.Line + 1}): {e.Message}");
        }
    }

    static void List(Events events, Utf8JsonWriter w, string name)
    {
        var value = events.Next();
        if (value is not SequenceStart)
            throw events.Error(value, $"{name}: must be a list");
        w.WriteStartArray(name);
        var index = 0;
        while (events.Next() is var item && item is not SequenceEnd)
        {
            if (item is not Scalar scalar)
                throw events.Error(item, $"{name}[{index}]: must be a single value");
            // bind takes 8080 as well as "8080": a plain number stays a number.
            if (name == "bind" && scalar.Style == ScalarStyle.Plain && long.TryParse(scalar.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                w.WriteNumberValue(number);
            else
                w.WriteStringValue(scalar.Value);
            index++;
        }
        w.WriteEndArray();
    }

    static void Calls(Events events, Utf8JsonWriter w)
    {
        var value = events.Next();
        if (value is not MappingStart)
            throw events.Error(value, "calls: must be a mapping of system call names to allow or deny");
        w.WriteStartObject("calls");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (events.Next() is var key && key is not MappingEnd)
        {
            var call = events.KeyName(key);
            if (!seen.Add(call))
                throw events.Error(key, $"calls: \"{call}\" is given twice");
            var decision = events.Next();
            if (decision is not Scalar scalar)
                throw events.Error(decision, $"calls.{call}: must be allow or deny");
            w.WriteString(call, scalar.Value);
        }
        w.WriteEndObject();
    }

    /// <summary>The parser's events, with the file's name and a line for every complaint.</summary>
    sealed class Events(IParser parser, string source)
    {
        ParsingEvent? peeked;

        public ParsingEvent Next()
        {
            var e = Peek();
            peeked = null;
            if (e is AnchorAlias)
                throw Error(e, "aliases (*name) are not supported in a policy: write the value out");
            return e;
        }

        public ParsingEvent Peek()
        {
            if (peeked is null)
            {
                if (!parser.MoveNext() || parser.Current is null)
                    throw new SandboxPolicyException($"{source}: the file ends too early");
                peeked = parser.Current;
            }
            return peeked;
        }

        public void Expect<T>(string what) where T : ParsingEvent
        {
            var e = Next();
            if (e is not T)
                throw Error(e, $"expected {what}");
        }

        public string KeyName(ParsingEvent key) =>
            key is Scalar { Value: { Length: > 0 } name } ? name : throw Error(key, "a key must be a plain name");

        public SandboxPolicyException Error(ParsingEvent at, string sentence) =>
            new($"{source}: line {at.Start.Line + 1}: {sentence}");
    }
}
