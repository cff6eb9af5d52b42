using Moat.Interop;

namespace Moat.Runtime.Host;

/// <summary>
/// Everything the host context reads from the machine. The real probe reads /proc and /sys and
/// asks the kernel; unit tests give a fake one, so host detection is tested without the host.
/// </summary>
public interface IHostProbe
{
    /// <summary>The text of a file, or null when it is absent or unreadable.</summary>
    string? ReadText(string path);

    bool Exists(string path);

    /// <summary>The Landlock ABI version, 0 when Landlock is unavailable.</summary>
    int LandlockAbi();

    bool SeccompActionAvailable(uint action);

    bool SeccompFlagsSupported(uint flags);

    uint RealUid { get; }

    uint EffectiveUid { get; }

    string Architecture { get; }
}

/// <summary>The probe of the machine this process runs on.</summary>
public sealed class SystemHostProbe : IHostProbe
{
    public string? ReadText(string path)
    {
        try
        {
            return Libc.TryReadText(path);
        }
        catch (SyscallException)
        {
            return null;
        }
    }

    public bool Exists(string path) => Path.Exists(path);

    public int LandlockAbi() => Libc.LandlockAbiVersion();

    public bool SeccompActionAvailable(uint action) => Libc.SeccompActionAvailable(action);

    public bool SeccompFlagsSupported(uint flags) => Libc.SeccompFlagsSupported(flags);

    public uint RealUid => Libc.getuid();

    public uint EffectiveUid => Libc.geteuid();

    public string Architecture => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        var other => other.ToString().ToLowerInvariant(),
    };
}
