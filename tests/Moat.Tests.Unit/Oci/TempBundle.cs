using Moat.Oci;

namespace Moat.Tests.Unit.Oci;

/// <summary>A throwaway bundle directory with an (empty) rootfs, removed on dispose.</summary>
internal sealed class TempBundle : IDisposable
{
    public TempBundle(bool createRootfs = true)
    {
        Directory = Path.Combine(Path.GetTempPath(), "moat-oci-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        if (createRootfs)
        {
            System.IO.Directory.CreateDirectory(Path.Combine(Directory, "rootfs"));
        }
    }

    public string Directory { get; }

    public string ConfigPath => Path.Combine(Directory, Bundle.ConfigFileName);

    public void WriteConfig(string json) => File.WriteAllText(ConfigPath, json);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }
}
