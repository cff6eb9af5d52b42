namespace Moat.Images.Registries;

/// <summary>A registries.conf that cannot be read, or a reference it cannot resolve (short name without search registries, blocked registry).</summary>
public sealed class RegistriesConfigException(string message) : Exception(message);
