using Moat.Oci;

namespace Moat.Runtime.Init;

/// <summary>The five capability sets of process.capabilities as bit masks, limited to what the kernel knows.</summary>
public sealed record CapabilitySets(ulong Bounding, ulong Effective, ulong Permitted, ulong Inheritable, ulong Ambient)
{
    public static CapabilitySets From(LinuxCapabilities? caps, int lastCapability, Action<string>? warn = null)
    {
        ulong Mask(List<string>? names)
        {
            ulong mask = 0;
            foreach (var name in names ?? [])
            {
                if (!Capabilities.TryGetNumber(name, out var number))
                    throw new RuntimeException($"unknown capability \"{name}\"");
                if (number > lastCapability)
                {
                    warn?.Invoke($"capability {name} is not known to this kernel; ignored");
                    continue;
                }
                mask |= 1UL << number;
            }
            return mask;
        }
        return new CapabilitySets(Mask(caps?.Bounding), Mask(caps?.Effective), Mask(caps?.Permitted),
            Mask(caps?.Inheritable), Mask(caps?.Ambient));
    }
}
