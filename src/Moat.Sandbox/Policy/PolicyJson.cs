using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Moat.Sandbox.Policy;

/// <summary>
/// The policy file (JSON; schema in docs/sandbox.md) read and written by hand over
/// Utf8JsonReader/Utf8JsonWriter, as the runtime's own documents are: no serializer metadata in
/// moat-runtime. Errors name the field; unknown fields are errors too (a typo must not loosen nothing silently).
/// </summary>
public static class PolicyJson
{
    public static SandboxPolicy Read(ReadOnlySpan<byte> utf8, string source)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            var policy = ReadPolicy(ref reader, source);
            policy.Validate();
            return policy;
        }
        catch (JsonException e)
        {
            throw new SandboxPolicyException($"{source}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
        catch (SandboxPolicyException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new SandboxPolicyException($"{source}: {e.Message}");
        }
    }

    static SandboxPolicy ReadPolicy(ref Utf8JsonReader r, string source)
    {
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
            throw new SandboxPolicyException("the policy must be a JSON object");
        var policy = new SandboxPolicy();
        while (r.Read() && r.TokenType != JsonTokenType.EndObject)
        {
            var name = r.GetString()!;
            r.Read();
            switch (name)
            {
                case "readable": policy.Readable = Strings(ref r, name); break;
                case "writable": policy.Writable = Strings(ref r, name); break;
                case "hidden": policy.Hidden = Strings(ref r, name); break;
                case "executables": policy.Executables = Strings(ref r, name); break;
                case "connect":
                    policy.Connect = Strings(ref r, name).Select((s, i) => NetworkRule.Parse(s, $"connect[{i}]")).ToList();
                    break;
                case "bind":
                    policy.Bind = Scalars(ref r, name).Select((s, i) => PortRange.Parse(s, $"bind[{i}]")).ToList();
                    break;
                case "calls":
                    if (r.TokenType != JsonTokenType.StartObject)
                        throw new SandboxPolicyException("calls: must be an object of system call names to \"allow\" or \"deny\"");
                    while (r.Read() && r.TokenType != JsonTokenType.EndObject)
                    {
                        var call = r.GetString()!;
                        r.Read();
                        policy.Calls[call] = r.TokenType == JsonTokenType.String ? r.GetString() switch
                        {
                            "allow" => CallOverride.Allow,
                            "deny" => CallOverride.Deny,
                            var other => throw new SandboxPolicyException($"calls.{call}: \"{other}\" is neither \"allow\" nor \"deny\""),
                        } : throw new SandboxPolicyException($"calls.{call}: must be \"allow\" or \"deny\"");
                    }
                    break;
                default:
                    throw new SandboxPolicyException($"unknown field \"{name}\" (known: readable, writable, hidden, executables, connect, bind, calls)");
            }
        }
        return policy;
    }

    static List<string> Strings(ref Utf8JsonReader r, string field)
    {
        if (r.TokenType != JsonTokenType.StartArray)
            throw new SandboxPolicyException($"{field}: must be an array of strings");
        var list = new List<string>();
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            list.Add(r.TokenType == JsonTokenType.String ? r.GetString()! : throw new SandboxPolicyException($"{field}[{list.Count}]: must be a string"));
        return list;
    }

    /// <summary>Strings or numbers (bind takes 8080 as well as "8080" and "9000-9100").</summary>
    static List<string> Scalars(ref Utf8JsonReader r, string field)
    {
        if (r.TokenType != JsonTokenType.StartArray)
            throw new SandboxPolicyException($"{field}: must be an array");
        var list = new List<string>();
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            list.Add(r.TokenType switch
            {
                JsonTokenType.String => r.GetString()!,
                JsonTokenType.Number => r.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => throw new SandboxPolicyException($"{field}[{list.Count}]: must be a port number or a string"),
            });
        }
        return list;
    }

    public static byte[] Write(SandboxPolicy policy)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            void List(string name, IEnumerable<string> items)
            {
                w.WriteStartArray(name);
                foreach (var item in items)
                    w.WriteStringValue(item);
                w.WriteEndArray();
            }
            List("readable", policy.Readable);
            List("writable", policy.Writable);
            List("hidden", policy.Hidden);
            List("executables", policy.Executables);
            List("connect", policy.Connect.Select(c => c.ToString()));
            List("bind", policy.Bind.Select(b => b.ToString()));
            w.WriteStartObject("calls");
            foreach (var (call, value) in policy.Calls.OrderBy(c => c.Key, StringComparer.Ordinal))
                w.WriteString(call, value == CallOverride.Allow ? "allow" : "deny");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static string WriteText(SandboxPolicy policy) => Encoding.UTF8.GetString(Write(policy));
}
