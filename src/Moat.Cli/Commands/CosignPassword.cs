using Moat.Cli.Output;
using Moat.Interop;

namespace Moat.Cli.Commands;

/// <summary>The password of a cosign key, as cosign takes it: $COSIGN_PASSWORD when set (even empty), else asked on the terminal.</summary>
static class CosignPassword
{
    public const string Variable = "COSIGN_PASSWORD";

    public static string ForReading()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { } password) return password;
        RequireTerminal();
        return Terminal.ReadSecret("Enter password for private key: ");
    }

    public static string ForNewKey()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { } password) return password;
        RequireTerminal();
        var first = Terminal.ReadSecret("Enter password for private key: ");
        var again = Terminal.ReadSecret("Enter password for private key again: ");
        return first == again ? first : throw new ArgumentException("the two passwords differ");
    }

    static void RequireTerminal()
    {
        if (Libc.isatty(0) != 1)
            throw new ArgumentException($"the key's password is not in ${Variable} and standard input is not a terminal to ask for it");
    }
}
