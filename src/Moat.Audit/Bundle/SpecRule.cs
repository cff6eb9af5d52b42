using Moat.Audit.Findings;

namespace Moat.Audit.Bundle;

/// <summary>One rule over a container's config: reports its findings into the sink (none when the config passes).</summary>
public abstract class SpecRule
{
    public abstract RuleInfo Info { get; }

    public abstract void Check(SpecFacts config, FindingSink sink);
}
