using System.Security.Cryptography;

namespace Moat.Trust.Cosign;

/// <summary>
/// Key pairs as `cosign generate-key-pair` makes them: ECDSA on P-256, the private key PKCS #8 in an encrypted
/// key file, the public key a PKIX "PUBLIC KEY" PEM. Signatures are ASN.1 DER ECDSA over SHA-256 of the payload.
/// </summary>
public static class CosignKeys
{
    public sealed record KeyPair(string PrivatePem, string PublicPem);

    public static KeyPair Generate(string password)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pkcs8 = key.ExportPkcs8PrivateKey();
        try
        {
            return new KeyPair(EncryptedKeyFile.Encrypt(pkcs8, password), PublicPem(key));
        }
        finally { CryptographicOperations.ZeroMemory(pkcs8); }
    }

    public static string PublicPem(ECDsa key) => PemEncoding.WriteString("PUBLIC KEY", key.ExportSubjectPublicKeyInfo()) + "\n";

    /// <summary>An encrypted cosign private key, opened with the password. Only ECDSA keys are supported (cosign's default).</summary>
    public static ECDsa LoadPrivateKey(string path, string password)
    {
        var pkcs8 = EncryptedKeyFile.Decrypt(ReadText(path), password, path);
        try
        {
            var key = ECDsa.Create();
            try { key.ImportPkcs8PrivateKey(pkcs8, out _); }
            catch (CryptographicException)
            {
                key.Dispose();
                throw new KeyFileException($"{path} holds a key that is not ECDSA (PKCS #8); Moat signs with ECDSA keys as cosign generate-key-pair makes them");
            }
            return key;
        }
        finally { CryptographicOperations.ZeroMemory(pkcs8); }
    }

    public static ECDsa LoadPublicKey(string path) => ParsePublicKey(ReadText(path), path);

    /// <summary>A PKIX "PUBLIC KEY" PEM holding an ECDSA key.</summary>
    public static ECDsa ParsePublicKey(string pemText, string source)
    {
        if (!PemEncoding.TryFind(pemText, out var fields) || pemText[fields.Label] is not "PUBLIC KEY")
            throw new KeyFileException($"{source} is not a \"PUBLIC KEY\" PEM file");
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(pemText[fields.Base64Data].ToString()), out _);
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new KeyFileException($"{source} holds a public key that is not ECDSA; Moat verifies ECDSA signatures as cosign makes them");
        }
    }

    public static byte[] Sign(ECDsa key, ReadOnlySpan<byte> payload) =>
        key.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>SHA-256 whatever the curve: cosign's default `--signature-digest-algorithm`.</summary>
    public static bool Verify(ECDsa key, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> signature)
    {
        try { return key.VerifyData(payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence); }
        catch (CryptographicException) { return false; }
    }

    static string ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyFileException($"cannot read the key file {path}: {Moat.Oci.ErrorText.Reason(e)}");
        }
    }
}
