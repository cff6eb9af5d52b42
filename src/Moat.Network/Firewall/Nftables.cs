using Moat.Interop;

namespace Moat.Network.Firewall;

/// <summary>Applies a ruleset script through libnftables (one netlink transaction: all of it or none).</summary>
public static class Nftables
{
    public static void Apply(string script)
    {
        if (!Libnftables.IsAvailable)
            throw new NetworkException($"{Libnftables.LibraryName} is not installed (Debian's libnftables1): Moat's firewall needs it");
        try
        {
            Libnftables.Run(script);
        }
        catch (InvalidOperationException e)
        {
            var first = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0];
            throw new NetworkException($"nftables refused Moat's rules: {first.TrimEnd('.')}", e);
        }
    }

    /// <summary>`list table inet moat`, or null when the table does not exist.</summary>
    public static string? List()
    {
        if (!Libnftables.IsAvailable)
            return null;
        try
        {
            return Libnftables.Run($"list table inet {RulesetBuilder.Table}");
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
