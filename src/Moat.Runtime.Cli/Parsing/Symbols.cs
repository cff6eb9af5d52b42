using System.Globalization;

namespace Moat.Runtime.Cli.Parsing;

// moat-runtime's own command-line parser. System.CommandLine did this before; under NativeAOT its
// types, their generic instantiations and the reflection it keeps (Array.CreateInstance, resource
// lookups) were about a sixth of the binary's relocated data, paid at every process start, for a
// command line of fifteen verbs and fixed flags (docs/performance.md). This keeps its shape (options,
// arguments, commands, one action per command) and runc's behaviour where the two differ.

/// <summary>A named flag: <c>--name value</c>, <c>--name=value</c>, <c>-n value</c>, or a bare <c>--name</c> for a boolean.</summary>
public abstract class Option
{
    protected Option(string name, string[] aliases)
    {
        Name = name;
        Aliases = aliases;
    }

    public string Name { get; }
    public IReadOnlyList<string> Aliases { get; }
    public string? Description { get; init; }
    /// <summary>Accepted after the command name too (runc's global flags).</summary>
    public bool Recursive { get; init; }
    public bool Hidden { get; init; }
    internal string[]? Allowed { get; private set; }

    public void AcceptOnlyFromAmong(params string[] values) => Allowed = values;

    internal bool Is(string token)
    {
        if (token == Name)
            return true;
        foreach (var alias in Aliases)
            if (token == alias)
                return true;
        return false;
    }

    /// <summary>A boolean: present means true, and a value is given only with "=".</summary>
    internal abstract bool IsFlag { get; }
    internal abstract bool HasDefault { get; }
    internal abstract object? DefaultValue();
    /// <summary>The typed value of the given texts (every occurrence, in order), or an error sentence.</summary>
    internal abstract object? Convert(List<string> values, out string? error);
}

public sealed class Option<T> : Option
{
    public Option(string name, params string[] aliases) : base(name, aliases)
    {
    }

    public Func<object?, T>? DefaultValueFactory { get; init; }

    internal override bool IsFlag => typeof(T) == typeof(bool);
    internal override bool HasDefault => DefaultValueFactory is not null;
    internal override object? DefaultValue() => DefaultValueFactory is { } factory ? factory(null) : default(T);

    internal override object? Convert(List<string> values, out string? error)
    {
        error = null;
        if (typeof(T) == typeof(string[]))
            return values.ToArray();
        var text = values[^1];
        if (Allowed is { } allowed && Array.IndexOf(allowed, text) < 0)
        {
            error = $"{Name}: \"{text}\" is not one of {string.Join(", ", allowed)}";
            return null;
        }
        if (typeof(T) == typeof(string))
            return text;
        if (typeof(T) == typeof(bool))
        {
            if (bool.TryParse(text, out var b))
                return b;
        }
        else if (typeof(T) == typeof(int))
        {
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i))
                return i;
        }
        else if (typeof(T) == typeof(long?))
        {
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l))
                return l;
        }
        else if (typeof(T) == typeof(ulong?))
        {
            if (ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var u))
                return u;
        }
        else if (typeof(T) == typeof(ushort?))
        {
            if (ushort.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s))
                return s;
        }
        else
            throw new InvalidOperationException($"option {Name}: no conversion to its type");
        error = IsFlag ? $"{Name}: \"{text}\" is not true or false" : $"{Name}: \"{text}\" is not a number in range";
        return null;
    }
}

/// <summary>How many tokens a positional argument takes.</summary>
public enum ArgumentArity
{
    ExactlyOne,
    ZeroOrMore,
    OneOrMore,
}

/// <summary>A positional argument: one token, or (an array) the rest of them.</summary>
public abstract class Argument
{
    protected Argument(string name) => Name = name;

    public string Name { get; }
    public string? Description { get; init; }
    public ArgumentArity Arity { get; init; } = ArgumentArity.ExactlyOne;
    /// <summary>A token that looks like a flag is refused here, as runc refuses it ("flag provided but not defined").</summary>
    public bool RefusesFlags { get; init; }
    internal abstract bool IsMany { get; }
    internal abstract bool HasDefault { get; }
    internal abstract object? DefaultValue();
    internal abstract object? Convert(List<string> values);
}

public sealed class Argument<T> : Argument
{
    public Argument(string name) : base(name)
    {
    }

    public Func<object?, T>? DefaultValueFactory { get; init; }

    internal override bool IsMany => typeof(T) == typeof(string[]);
    internal override bool HasDefault => DefaultValueFactory is not null;
    internal override object? DefaultValue() => DefaultValueFactory is { } factory ? factory(null) : default(T);
    internal override object? Convert(List<string> values) => IsMany ? values.ToArray() : values[0];
}

/// <summary>A verb: its options, its arguments in order, and what it does.</summary>
public sealed class Command(string name, string? description = null)
{
    public string Name { get; } = name;
    public string? Description { get; } = description;
    public List<string> Aliases { get; } = [];
    public List<Option> Options { get; } = [];
    public List<Argument> Arguments { get; } = [];
    public List<Command> Subcommands { get; } = [];
    /// <summary>False: tokens no option or argument takes are accepted and ignored (checkpoint's CRIU flags).</summary>
    public bool TreatUnmatchedTokensAsErrors { get; set; } = true;
    internal Func<ParseResult, int>? Action { get; private set; }

    public void SetAction(Func<ParseResult, int> action) => Action = action;

    internal bool Is(string token) => token == Name || Aliases.Contains(token);
}
