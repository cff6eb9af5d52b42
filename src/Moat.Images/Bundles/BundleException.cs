namespace Moat.Images.Bundles;

/// <summary>A bundle cannot be made from this image with these options; the message says what and why.</summary>
public sealed class BundleException(string message, Exception? inner = null) : Exception(message, inner);
