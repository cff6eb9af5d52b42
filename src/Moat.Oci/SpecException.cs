namespace Moat.Oci;

/// <summary>A config.json that cannot be read, parsed or accepted; the message names the file or field at fault.</summary>
public class SpecException : Exception
{
    public SpecException(string message)
        : base(message)
    {
    }

    public SpecException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
