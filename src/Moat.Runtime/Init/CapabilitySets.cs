using Moat.Oci;

namespace Moat.Runtime.Init;

/// <summary>
/// The five capability sets of process.capabilities as bit masks, reduced to what the process can
/// really be given. runtime-spec (1.1+): a capability that cannot be granted MUST be logged as a
/// warning and SHOULD NOT fail the container. The runtime reduces the sets before the spawn, so
/// the init only applies what the kernel will accept and the warnings come from the runtime.
/// </summary>
public sealed record CapabilitySets(ulong Bounding, ulong Effective, ulong Permitted, ulong Inheritable, ulong Ambient)
{
    public static readonly CapabilitySets None = new(0, 0, 0, 0, 0);

    /// <summary>
    /// Each name becomes a bit, unless it is unknown, beyond this kernel's last capability, or not
    /// in the runtime's own bounding set (no process started by this runtime can hold it). Then the
    /// kernel's rules between the sets, as capset(2) and PR_CAP_AMBIENT_RAISE enforce them: an
    /// inheritable capability must be in the bounding set, an effective one permitted, and an
    /// ambient one both permitted and inheritable. Every capability left out is warned about by
    /// set and name. An absent set is empty.
    /// </summary>
    public static CapabilitySets From(LinuxCapabilities? caps, ulong runtimeBounding, int lastCapability, Action<string>? warn = null)
    {
        ulong Mask(List<string>? names, string set)
        {
            ulong mask = 0;
            foreach (var name in names ?? [])
            {
                if (!Capabilities.TryGetNumber(name, out var number))
                    warn?.Invoke($"process.capabilities.{set}: unknown capability \"{name}\"; dropped");
                else if (number > lastCapability)
                    warn?.Invoke($"process.capabilities.{set}: {name} is not known to this kernel; dropped");
                else if ((runtimeBounding & (1UL << number)) == 0)
                    warn?.Invoke($"process.capabilities.{set}: {name} is not in this runtime's own capability bounding set, so it cannot be granted; dropped");
                else
                    mask |= 1UL << number;
            }
            return mask;
        }

        // Only what another set allows, each capability left out named once.
        ulong Within(ulong mask, ulong allowed, string set, string reason)
        {
            var dropped = mask & ~allowed;
            for (var number = 0; dropped != 0; number++, dropped >>= 1)
                if ((dropped & 1) != 0)
                    warn?.Invoke($"process.capabilities.{set}: {Capabilities.GetName(number)} {reason}; dropped");
            return mask & allowed;
        }

        var bounding = Mask(caps?.Bounding, "bounding");
        var permitted = Mask(caps?.Permitted, "permitted");
        var effective = Within(Mask(caps?.Effective, "effective"), permitted, "effective",
            "is not in the permitted set, so it cannot be effective");
        var inheritable = Within(Mask(caps?.Inheritable, "inheritable"), bounding, "inheritable",
            "is not in the bounding set, so it cannot be inheritable");
        var ambient = Within(Mask(caps?.Ambient, "ambient"), inheritable & permitted, "ambient",
            "is not both inheritable and permitted, so it cannot be ambient");
        return new CapabilitySets(bounding, effective, permitted, inheritable, ambient);
    }
}
