namespace Moat.Images.Auth;

/// <summary>A user name and password (or token) for a registry.</summary>
public sealed record RegistryCredential(string Username, string Password)
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"{Username}:***";
}

/// <summary>An auth file that cannot be read or written; the message names the file.</summary>
public sealed class CredentialStoreException(string message, Exception? inner = null) : Exception(message, inner);
