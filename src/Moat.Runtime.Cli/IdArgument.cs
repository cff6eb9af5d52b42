using System.CommandLine;
using System.CommandLine.Parsing;

namespace Moat.Runtime.Cli;

/// <summary>
/// The container-id argument of every verb that takes one. The parser gives a token that looks like
/// an option but is not one to the next argument, so `moat create --bogus` would name a container
/// "--bogus": such a token is refused as runc refuses it ("flag provided but not defined").
/// </summary>
public static class IdArgument
{
    public static Argument<string> One(string description)
    {
        var argument = new Argument<string>("container-id") { Description = description };
        argument.Validators.Add(RefuseFlags);
        return argument;
    }

    public static Argument<string[]> Many(string description)
    {
        var argument = new Argument<string[]>("container-id")
        {
            Description = description,
            Arity = ArgumentArity.OneOrMore,
            // The parser's own conversion to an array goes through Array.CreateInstance(Type), i.e.
            // reflection, which maps ~400 KB of metadata in every delete under NativeAOT.
            CustomParser = result =>
            {
                var ids = new string[result.Tokens.Count];
                for (var i = 0; i < ids.Length; i++)
                    ids[i] = result.Tokens[i].Value;
                return ids;
            },
        };
        argument.Validators.Add(RefuseFlags);
        return argument;
    }

    static void RefuseFlags(ArgumentResult result)
    {
        foreach (var token in result.Tokens)
            if (token.Value.StartsWith('-'))
                result.AddError($"flag provided but not defined: {token.Value}");
    }
}
