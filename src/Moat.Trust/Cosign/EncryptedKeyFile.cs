using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Moat.Trust.Crypto;

namespace Moat.Trust.Cosign;

/// <summary>
/// The encrypted private key as cosign writes it (cosign's pkg/cosign/keys.go over go-securesystemslib's
/// encrypted package): a PKCS #8 DER key sealed with NaCl secretbox under a key scrypt derives from the
/// password, the parameters in a JSON document that is the body of an "ENCRYPTED SIGSTORE PRIVATE KEY" PEM
/// block (older cosign: "ENCRYPTED COSIGN PRIVATE KEY"):
/// `{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":B64},"cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}`.
/// </summary>
public static class EncryptedKeyFile
{
    public const string SigstoreLabel = "ENCRYPTED SIGSTORE PRIVATE KEY";
    public const string CosignLabel = "ENCRYPTED COSIGN PRIVATE KEY";
    const int SaltSize = 32;

    /// <summary>The scrypt parameters go-securesystemslib accepts (legacy, standard, OWASP); it writes the standard ones.</summary>
    static readonly (int N, int R, int P)[] Accepted = [(32768, 8, 1), (65536, 8, 1), (131072, 8, 1)];
    static readonly (int N, int R, int P) Standard = (65536, 8, 1);

    /// <summary>The PEM text of an encrypted key, as cosign generate-key-pair writes cosign.key.</summary>
    public static string Encrypt(ReadOnlySpan<byte> pkcs8, string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var nonce = RandomNumberGenerator.GetBytes(SecretBox.NonceSize);
        var key = Scrypt.DeriveKey(Encoding.UTF8.GetBytes(password), salt, Standard.N, Standard.R, Standard.P, SecretBox.KeySize);
        var sealedKey = SecretBox.Seal(pkcs8, nonce, key);
        CryptographicOperations.ZeroMemory(key);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            // Field order and names as Go marshals the struct; []byte fields are standard base64 with padding.
            json.WriteStartObject();
            json.WriteStartObject("kdf");
            json.WriteString("name", "scrypt");
            json.WriteStartObject("params");
            json.WriteNumber("N", Standard.N);
            json.WriteNumber("r", Standard.R);
            json.WriteNumber("p", Standard.P);
            json.WriteEndObject();
            json.WriteBase64String("salt", salt);
            json.WriteEndObject();
            json.WriteStartObject("cipher");
            json.WriteString("name", "nacl/secretbox");
            json.WriteBase64String("nonce", nonce);
            json.WriteEndObject();
            json.WriteBase64String("ciphertext", sealedKey);
            json.WriteEndObject();
        }
        return PemEncoding.WriteString(SigstoreLabel, buffer.ToArray()) + "\n";
    }

    /// <summary>The PKCS #8 DER inside an encrypted key file; a wrong password is a clear error.</summary>
    public static byte[] Decrypt(string pemText, string password, string source)
    {
        if (!PemEncoding.TryFind(pemText, out var fields))
            throw new KeyFileException($"{source} is not a PEM file");
        var label = pemText[fields.Label];
        if (label is not (SigstoreLabel or CosignLabel))
            throw new KeyFileException($"{source} holds a \"{label}\" PEM block, not a cosign private key (\"{SigstoreLabel}\")");
        var body = Convert.FromBase64String(pemText[fields.Base64Data].ToString());
        byte[] salt, nonce, ciphertext;
        int n, r, p;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var kdf = root.GetProperty("kdf");
            if (kdf.GetProperty("name").GetString() != "scrypt")
                throw new KeyFileException($"{source} uses the key derivation \"{kdf.GetProperty("name").GetString()}\"; only scrypt is defined");
            var parameters = kdf.GetProperty("params");
            n = parameters.GetProperty("N").GetInt32();
            r = parameters.GetProperty("r").GetInt32();
            p = parameters.GetProperty("p").GetInt32();
            salt = kdf.GetProperty("salt").GetBytesFromBase64();
            var cipher = root.GetProperty("cipher");
            if (cipher.GetProperty("name").GetString() != "nacl/secretbox")
                throw new KeyFileException($"{source} uses the cipher \"{cipher.GetProperty("name").GetString()}\"; only nacl/secretbox is defined");
            nonce = cipher.GetProperty("nonce").GetBytesFromBase64();
            ciphertext = root.GetProperty("ciphertext").GetBytesFromBase64();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new KeyFileException($"{source} is not an encrypted cosign key: its content is not the expected JSON ({e.Message})");
        }
        // Parameters outside the known sets are refused before any work, so a file cannot ask for gigabytes.
        if (!Accepted.Contains((n, r, p)))
            throw new KeyFileException($"{source} asks for scrypt parameters N={n} r={r} p={p}, which cosign does not use");
        if (nonce.Length != SecretBox.NonceSize)
            throw new KeyFileException($"{source} has a {nonce.Length}-byte nonce; secretbox takes {SecretBox.NonceSize}");
        var key = Scrypt.DeriveKey(Encoding.UTF8.GetBytes(password), salt, n, r, p, SecretBox.KeySize);
        var plain = SecretBox.Open(ciphertext, nonce, key);
        CryptographicOperations.ZeroMemory(key);
        return plain ?? throw new KeyFileException($"the password does not open {source} (or the file was changed)");
    }
}

/// <summary>A key file that cannot be read, opened or used; the message says which and why.</summary>
public sealed class KeyFileException(string message) : Exception(message);
