using Moat.Oci;
using Moat.Oci.Json;
using Moat.Oci.Profiles;

namespace Moat.Audit.Seccomp;

/// <summary>Profiles as files: a linux.seccomp object, or a whole config.json whose linux.seccomp is taken.</summary>
public static class ProfileFile
{
    /// <summary>The name `moat seccomp diff` gives Moat's default (Docker's default capability set).</summary>
    public const string DefaultName = "default";

    public static LinuxSeccomp Load(string path)
    {
        if (path == DefaultName)
            return DefaultSeccompProfile.For(Capabilities.DockerDefault.ToHashSet(StringComparer.Ordinal));
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AuditException($"cannot read the profile {path}: {ErrorText.Of(e)}", e);
        }
        try
        {
            if (LooksLikeConfig(bytes))
                return SpecLoader.Parse(bytes, path).Linux?.Seccomp
                    ?? throw new AuditException($"{path} is a config.json without linux.seccomp: the container runs unfiltered");
            return SpecJson.ReadSeccomp(bytes);
        }
        catch (Exception e) when (e is SpecException or Moat.Oci.Json.SpecJsonException)
        {
            throw new AuditException($"{path} is not a seccomp profile: {e.Message}", e);
        }
    }

    public static void Write(string path, LinuxSeccomp profile)
    {
        var full = Path.GetFullPath(path);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            var bytes = SpecJson.ToUtf8Bytes(profile, indented: true);
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.WriteByte((byte)'\n');
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            throw new AuditException($"cannot write the profile {path}: {ErrorText.Of(e)}", e);
        }
    }

    static bool LooksLikeConfig(ReadOnlySpan<byte> json) => json.IndexOf("\"ociVersion\""u8) >= 0;
}
