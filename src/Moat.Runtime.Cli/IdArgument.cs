using Moat.Runtime.Cli.Parsing;

namespace Moat.Runtime.Cli;

/// <summary>
/// The container-id argument of every verb that takes one. A token that looks like an option but is
/// not one would otherwise name a container ("moat create --bogus"): it is refused as runc refuses
/// it ("flag provided but not defined").
/// </summary>
public static class IdArgument
{
    public static Argument<string> One(string description) =>
        new("container-id") { Description = description, RefusesFlags = true };

    public static Argument<string[]> Many(string description) =>
        new("container-id") { Description = description, Arity = ArgumentArity.OneOrMore, RefusesFlags = true };
}
