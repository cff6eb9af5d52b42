using System.Diagnostics;
using System.Text;

namespace Moat.Trust.Gpg;

/// <summary>
/// Checks an OpenPGP signed message (what `skopeo copy --sign-by` stores) with the system's gpgv against a
/// keyring made of the trusted keys only, so a valid signature is one made by one of them; the signed
/// content comes back from gpgv itself. gpgv runs with a temporary home, never the user's keyrings.
/// </summary>
public sealed class GpgVerifier : IDisposable
{
    public const string Program = "/usr/bin/gpgv";
    readonly string directory;
    readonly string keyring;

    /// <param name="keys">Public keys, each binary or ASCII-armoured (`gpg --export [--armor]`).</param>
    public GpgVerifier(IEnumerable<byte[]> keys)
    {
        if (!File.Exists(Program))
            throw new TrustConfigException($"{Program} is missing: GPG signatures are verified with gpgv (Debian package gpgv)");
        directory = Directory.CreateTempSubdirectory("moat-gpgv-").FullName;
        keyring = Path.Combine(directory, "trusted.gpg");
        using var output = File.Create(keyring);
        foreach (var key in keys)
            output.Write(Dearmor(key));
    }

    public sealed record Result(byte[]? Content, string? Fingerprint, string? Failure);

    public Result Verify(byte[] signature)
    {
        var signatureFile = Path.Combine(directory, "signature");
        var contentFile = Path.Combine(directory, "content");
        File.WriteAllBytes(signatureFile, signature);
        File.Delete(contentFile);
        var start = new ProcessStartInfo(Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--homedir", directory, "--status-fd", "1", "--keyring", keyring, "--output", contentFile, signatureFile })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new TrustConfigException($"{Program} could not be started");
        var stderr = process.StandardError.ReadToEndAsync();
        var status = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var fingerprint = status.Split('\n').Select(l => l.Split(' ')).FirstOrDefault(f => f.Length > 2 && f[0] == "[GNUPG:]" && f[1] == "VALIDSIG")?[2];
        if (process.ExitCode != 0 || fingerprint is null)
        {
            var why = status.Contains("NO_PUBKEY") ? "it was made by a key that is not trusted"
                : status.Contains("BADSIG") ? "its signature does not match its content (changed after signing)"
                : status.Contains("NODATA") ? "it is not an OpenPGP signed message"
                : $"gpgv refused it ({FirstLine(stderr.Result)})";
            return new Result(null, null, why);
        }
        return new Result(File.ReadAllBytes(contentFile), fingerprint, null);
    }

    static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "no reason given";

    /// <summary>The binary packets of an ASCII-armoured key (RFC 4880 §6.2); binary input is returned as it is.</summary>
    internal static byte[] Dearmor(byte[] key)
    {
        var text = Encoding.ASCII.GetString(key);
        var begin = text.IndexOf("-----BEGIN PGP PUBLIC KEY BLOCK-----", StringComparison.Ordinal);
        if (begin < 0) return key;
        var lines = text[begin..].Split('\n').Select(l => l.Trim()).Skip(1).ToList();
        var body = new StringBuilder();
        var inHeaders = true;
        foreach (var line in lines)
        {
            if (line.StartsWith("-----END", StringComparison.Ordinal)) break;
            if (inHeaders)
            {
                if (line.Length == 0) inHeaders = false;
                else if (!line.Contains(':')) { inHeaders = false; body.Append(line); }
                continue;
            }
            if (line.StartsWith('=')) continue; // the CRC-24 checksum line
            body.Append(line);
        }
        try { return Convert.FromBase64String(body.ToString()); }
        catch (FormatException) { throw new TrustConfigException("an armoured GPG key is not valid base64"); }
    }

    public void Dispose()
    {
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
