namespace Moat.Scan.Versions;

/// <summary>
/// apk-tools' version order (Gentoo-style: digits{.digits}{letter}{_suffix{digits}}{-rN}). Each token
/// compares by value; a pre-release suffix (_alpha &lt; _beta &lt; _pre &lt; _rc) sorts before the plain
/// version, a post-release one (_cvs &lt; _svn &lt; _git &lt; _hg &lt; _p) after it. Digits after a '.' with
/// leading zeros compare as fractions (0.01 &lt; 0.1), as apk's "digit or zero" token does.
/// </summary>
public static class ApkVersion
{
    enum Token { Invalid = -1, DigitOrZero, Digit, Letter, Suffix, SuffixNumber, RevisionNumber, End }

    static readonly string[] PreSuffixes = ["alpha", "beta", "pre", "rc"];
    static readonly string[] PostSuffixes = ["cvs", "svn", "git", "hg", "p"];

    public static int Compare(string a, string b)
    {
        Token at = Token.Digit, bt = Token.Digit;
        long av = 0, bv = 0;
        int ai = 0, bi = 0;
        a = a.Trim();
        b = b.Trim();
        while (at == bt && at != Token.End && at != Token.Invalid && av == bv)
        {
            av = Next(ref at, a, ref ai);
            bv = Next(ref bt, b, ref bi);
        }
        if (av != bv)
            return av < bv ? -1 : 1;
        if (at == bt)
            return 0;
        // Equal so far, one goes on: it is newer unless what follows is a pre-release suffix.
        var ta = at;
        var ia = ai;
        if (at == Token.Suffix && Next(ref ta, a, ref ia) < 0)
            return -1;
        var tb = bt;
        var ib = bi;
        if (bt == Token.Suffix && Next(ref tb, b, ref ib) < 0)
            return 1;
        if (at > bt)
            return -1;
        if (bt > at)
            return 1;
        return 0;
    }

    /// <summary>True when apk itself would accept the version string.</summary>
    public static bool IsValid(string version)
    {
        var type = Token.Digit;
        var index = 0;
        while (type != Token.End && type != Token.Invalid)
            Next(ref type, version, ref index);
        return type == Token.End;
    }

    /// <summary>The value of the token of the given type at index, and the type of the one after it.</summary>
    static long Next(ref Token type, string s, ref int index)
    {
        if (index >= s.Length)
        {
            type = Token.End;
            return 0;
        }
        long value = 0;
        var i = index;
        var following = Token.Invalid;
        switch (type)
        {
            case Token.DigitOrZero when s[i] == '0':
                // Leading zeros: the more there are, the smaller (a decimal fraction).
                while (i < s.Length && s[i] == '0') i++;
                following = Token.Digit;
                value = -(i - index);
                break;
            case Token.DigitOrZero:
            case Token.Digit:
            case Token.SuffixNumber:
            case Token.RevisionNumber:
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    // Saturate rather than wrap: a 20-digit snapshot date still orders sensibly.
                    value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : value * 10 + (s[i] - '0');
                    i++;
                }
                break;
            case Token.Letter:
                value = s[i++];
                break;
            case Token.Suffix:
                var rest = s.AsSpan(i);
                var found = false;
                for (var k = 0; k < PreSuffixes.Length && !found; k++)
                    if (rest.StartsWith(PreSuffixes[k], StringComparison.Ordinal))
                    {
                        value = k - PreSuffixes.Length;
                        i += PreSuffixes[k].Length;
                        found = true;
                    }
                for (var k = 0; k < PostSuffixes.Length && !found; k++)
                    if (rest.StartsWith(PostSuffixes[k], StringComparison.Ordinal))
                    {
                        value = k;
                        i += PostSuffixes[k].Length;
                        found = true;
                    }
                if (!found)
                {
                    type = Token.Invalid;
                    return -1;
                }
                break;
            default:
                type = Token.Invalid;
                return -1;
        }
        index = i;
        if (index >= s.Length)
            type = Token.End;
        else if (following != Token.Invalid)
            type = following;
        else
            type = FollowingToken(type, s, ref index);
        return value;
    }

    /// <summary>What kind of token starts at index, given the one before; consumes separators.</summary>
    static Token FollowingToken(Token previous, string s, ref int index)
    {
        Token next;
        var c = s[index];
        if (c == 0)
            next = Token.End;
        else if (previous is Token.Digit or Token.DigitOrZero && char.IsAsciiLetterLower(c))
            next = Token.Letter;
        else if (previous == Token.Letter && char.IsAsciiDigit(c))
            next = Token.Digit;
        else if (previous == Token.Suffix && char.IsAsciiDigit(c))
            next = Token.SuffixNumber;
        else
        {
            next = c switch
            {
                '.' => Token.DigitOrZero,
                '_' => Token.Suffix,
                '-' when index + 1 < s.Length && s[index + 1] == 'r' => Token.RevisionNumber,
                _ => Token.Invalid,
            };
            if (next == Token.RevisionNumber)
                index++;
            index++;
        }
        // Tokens only go forward (a revision after a suffix, never a digit after a revision), with the
        // exceptions apk allows: another dotted number, another suffix, digits after a letter.
        if (next < previous && !((next == Token.DigitOrZero && previous == Token.Digit) ||
                                 (next == Token.Suffix && previous == Token.SuffixNumber) ||
                                 (next == Token.Digit && previous == Token.Letter)))
            next = Token.Invalid;
        return next;
    }
}
