using System.Text;

namespace Moat.Images.Distribution;

/// <summary>
/// One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1): a scheme and its parameters, e.g.
/// `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`.
/// </summary>
public sealed class AuthChallenge
{
    public string Scheme { get; }
    /// <summary>Parameter names are case-insensitive; values are unquoted.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    public AuthChallenge(string scheme, IReadOnlyDictionary<string, string> parameters) { Scheme = scheme; Parameters = parameters; }

    public string? this[string name] => Parameters.TryGetValue(name, out var v) ? v : null;
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);
    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    public override string ToString() => $"{Scheme} {string.Join(",", Parameters.Select(p => $"{p.Key}=\"{p.Value}\""))}";

    /// <summary>
    /// Every challenge in the header values (a header may hold several, and a response several headers).
    /// A malformed value yields what could be read before the fault: a registry's odd header should not turn
    /// a clear 401 into a parse error.
    /// </summary>
    public static IReadOnlyList<AuthChallenge> Parse(IEnumerable<string> headerValues)
    {
        var result = new List<AuthChallenge>();
        foreach (var value in headerValues) ParseInto(value, result);
        return result;
    }

    public static IReadOnlyList<AuthChallenge> Parse(string headerValue) => Parse([headerValue]);

    static void ParseInto(string s, List<AuthChallenge> result)
    {
        var i = 0;
        while (true)
        {
            SkipSeparators(s, ref i);
            var scheme = ReadToken(s, ref i);
            if (scheme.Length == 0) return;
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            result.Add(new AuthChallenge(scheme, parameters));
            SkipSpaces(s, ref i);
            var first = true;
            while (i < s.Length)
            {
                var start = i;
                var name = ReadToken(s, ref i);
                SkipSpaces(s, ref i);
                if (name.Length > 0 && i < s.Length && s[i] == '=' && !(first && IsToken68Padding(s, i)))
                {
                    i++;
                    SkipSpaces(s, ref i);
                    string value;
                    if (i < s.Length && s[i] == '"')
                    {
                        if (!ReadQuoted(s, ref i, out value)) { parameters.TryAdd(name, value); return; }
                    }
                    else value = ReadToken(s, ref i);
                    parameters.TryAdd(name, value);
                    first = false;
                    SkipSpaces(s, ref i);
                    if (i >= s.Length) return;
                    if (s[i] != ',' && !SkipToNextComma(s, ref i)) return; // garbage after a value
                    if (i < s.Length && s[i] == ',') i++;
                    SkipSpaces(s, ref i);
                    continue;
                }
                if (first && name.Length > 0)
                {
                    // A token68 right after the scheme (`Negotiate abc==`): carries no parameters we use.
                    while (i < s.Length && s[i] == '=') i++;
                    if (!SkipToNextComma(s, ref i)) return;
                    break;
                }
                // The next challenge's scheme (or an empty item): hand back to the outer loop.
                i = start;
                if (name.Length == 0 && !SkipToNextComma(s, ref i)) return;
                break;
            }
            if (i >= s.Length) return;
        }
    }

    /// <summary>`abc==` followed by the end or a comma is token68 padding, not a parameter.</summary>
    static bool IsToken68Padding(string s, int equals)
    {
        var j = equals;
        while (j < s.Length && s[j] == '=') j++;
        if (j - equals == 1 && j < s.Length && s[j] is not (',' or ' ')) return false;
        while (j < s.Length && s[j] is ' ' or '\t') j++;
        return j >= s.Length || s[j] == ',';
    }

    static bool SkipToNextComma(string s, ref int i)
    {
        while (i < s.Length && s[i] != ',') i++;
        if (i >= s.Length) return false;
        i++;
        SkipSpaces(s, ref i);
        return true;
    }

    static void SkipSpaces(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t') i++;
    }

    static void SkipSeparators(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t' or ',') i++;
    }

    /// <summary>RFC 9110 tchar: letters, digits and !#$%&amp;'*+-.^_`|~ (plus '/' and ':' which some registries leave unquoted).</summary>
    static string ReadToken(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || "!#$%&'*+-.^_`|~/:".Contains(s[i]))) i++;
        return s[start..i];
    }

    /// <summary>A quoted-string with backslash escapes; false when the closing quote is missing.</summary>
    static bool ReadQuoted(string s, ref int i, out string value)
    {
        var text = new StringBuilder();
        i++; // opening quote
        while (i < s.Length)
        {
            var c = s[i++];
            if (c == '"') { value = text.ToString(); return true; }
            if (c == '\\' && i < s.Length) c = s[i++];
            text.Append(c);
        }
        value = text.ToString();
        return false;
    }
}
