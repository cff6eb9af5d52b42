using Moat.Runtime.Host;
using Moat.Runtime.State;

namespace Moat.Runtime.Tiers;

/// <summary>What a tier beyond the container tier is made with: the state store, the host's facts, the container tier it builds on, and where messages go.</summary>
public sealed record TierServices(StateStore Store, HostContext Host, ContainerTier ContainerTier, Action<string> Warn, Action<string>? Debug);
