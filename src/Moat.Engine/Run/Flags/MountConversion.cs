using Moat.Oci;

namespace Moat.Engine.Run.Flags;

/// <summary>A <see cref="MountRequest"/> as the OCI config's mount, once the engine knows the host path of a volume.</summary>
public static class MountConversion
{
    /// <summary>Options that ask the engine for something (relabel, chown, copy-up) rather than the kernel's mount.</summary>
    static readonly HashSet<string> EngineOptions = ["z", "Z", "U", "nocopy", "tmpcopyup", "notmpcopyup"];

    /// <summary>
    /// The config.json mount for <paramref name="request"/>. <paramref name="volumeDirectory"/> is the
    /// host directory of a (named or anonymous) volume; binds and tmpfs need none.
    /// </summary>
    public static Mount ToOci(MountRequest request, string? volumeDirectory = null)
    {
        var options = request.Options.Where(o => !EngineOptions.Contains(o)).ToList();
        switch (request.Type)
        {
            case MountFlags.Bind:
            case MountFlags.Volume:
                var source = request.Type == MountFlags.Bind
                    ? request.Source!
                    : volumeDirectory ?? throw new ArgumentException("a volume mount needs its host directory", nameof(volumeDirectory));
                if (!options.Contains("bind") && !options.Contains("rbind"))
                    options.Insert(0, "rbind");
                if (!options.Any(o => o is "private" or "rprivate" or "shared" or "rshared" or "slave" or "rslave"))
                    options.Add("rprivate");
                options.Add(request.ReadOnly ? "ro" : "rw");
                return new Mount { Destination = request.Target, Type = "bind", Source = source, Options = options };
            case MountFlags.Tmpfs:
                if (request.ReadOnly)
                    options.Add("ro");
                return new Mount { Destination = request.Target, Type = "tmpfs", Source = "tmpfs", Options = options };
            default:
                throw new ArgumentException($"unknown mount type {request.Type}", nameof(request));
        }
    }
}
