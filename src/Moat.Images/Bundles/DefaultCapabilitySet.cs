using Moat.Oci;

namespace Moat.Images.Bundles;

/// <summary>Docker's default capability set and its --cap-add/--cap-drop arithmetic (moby daemon/pkg/oci/caps).</summary>
public static class DefaultCapabilitySet
{
    /// <summary>What Docker and Podman grant a container unless told otherwise.</summary>
    public static IReadOnlyList<string> Names => Capabilities.DockerDefault;

    const string All = "ALL";

    /// <summary>
    /// The default set with <paramref name="drop"/> removed and <paramref name="add"/> added. ALL in add
    /// means every capability but the dropped ones; ALL in drop means only the added ones.
    /// </summary>
    public static List<string> Apply(IReadOnlyList<string> add, IReadOnlyList<string> drop)
    {
        var adds = Normalize(add, "--cap-add");
        var drops = Normalize(drop, "--cap-drop");
        IEnumerable<string> result;
        if (adds.Contains(All))
            result = Capabilities.Names.Where(c => !drops.Contains(c));
        else if (drops.Contains(All))
            result = adds;
        else
            result = Names.Where(c => !drops.Contains(c)).Concat(adds);
        return result.Distinct(StringComparer.Ordinal).ToList();
    }

    static List<string> Normalize(IReadOnlyList<string> names, string flag)
    {
        var normalized = new List<string>();
        foreach (var name in names)
        {
            var upper = name.Trim().ToUpperInvariant();
            if (upper != All && !upper.StartsWith("CAP_", StringComparison.Ordinal))
                upper = "CAP_" + upper;
            if (upper != All && !Capabilities.IsKnown(upper))
                throw new BundleException($"{flag}: unknown capability \"{name}\"");
            normalized.Add(upper);
        }
        return normalized;
    }
}
