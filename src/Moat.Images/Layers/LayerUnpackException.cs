namespace Moat.Images.Layers;

/// <summary>A layer that cannot be unpacked: malformed, truncated, too large, or an entry refused for safety.</summary>
public sealed class LayerUnpackException : Exception
{
    public LayerUnpackException(string message, Exception? inner = null) : base(message, inner) { }
}
