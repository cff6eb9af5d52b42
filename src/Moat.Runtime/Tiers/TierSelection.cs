namespace Moat.Runtime.Tiers;

/// <summary>
/// Which tier a new container gets. Engines cannot all pass a flag, so three ways lead to a tier,
/// in this order: the global flag <c>--isolation</c> (whoever calls moat-runtime directly), the
/// annotation <c>run.moat.isolation</c> (podman, CRI-O and Kubernetes pass pod annotations), and the
/// name the executable was started by (<c>moat-runtime-sandbox</c>, <c>moat-runtime-vm</c>: one
/// binary, links in PATH, so a RuntimeClass or an engine's runtime table can name a tier).
/// When two of them name different tiers, that is an error, not a silent pick.
/// </summary>
public static class TierSelection
{
    public const string ExecutablePrefix = "moat-runtime-";

    public static Isolation Choose(string? flag, IReadOnlyDictionary<string, string>? annotations, string? executableName)
    {
        var sources = new List<(string Source, Isolation Tier)>(3);
        if (flag is { Length: > 0 })
            sources.Add(("--isolation", Parse(flag, "--isolation")));
        if (annotations is not null && annotations.TryGetValue(IsolationNames.Annotation, out var annotated) && annotated.Length > 0)
            sources.Add(($"the annotation {IsolationNames.Annotation}", Parse(annotated, $"annotation {IsolationNames.Annotation}")));
        if (FromExecutableName(executableName) is { } named)
            sources.Add(($"the executable name {Path.GetFileName(executableName)}", named));
        if (sources.Count == 0)
            return Isolation.Container;
        foreach (var other in sources)
            if (other.Tier != sources[0].Tier)
                throw new RuntimeException($"{sources[0].Source} asks for the {sources[0].Tier.ToName()} tier but {other.Source} asks for {other.Tier.ToName()}: give one");
        return sources[0].Tier;
    }

    /// <summary>The tier an executable name selects ("moat-runtime-vm"), or null for any other name.</summary>
    public static Isolation? FromExecutableName(string? executableName)
    {
        var name = Path.GetFileName(executableName);
        if (name is null || !name.StartsWith(ExecutablePrefix, StringComparison.Ordinal))
            return null;
        var suffix = name[ExecutablePrefix.Length..];
        return IsolationNames.TryParse(suffix, out var tier) ? tier : null;
    }

    static Isolation Parse(string value, string source) =>
        IsolationNames.TryParse(value, out var tier)
            ? tier
            : throw new RuntimeException($"{source}: unknown isolation tier \"{value}\" (known: container, sandbox, vm)");
}
