namespace Moat.Runtime;

/// <summary>Container ids as runc accepts them: letters, digits, '_', '+', '-', '.', not "." or "..", and not starting with '-'.</summary>
public static class ContainerId
{
    public const int MaxLength = 1024;

    public static void Validate(string? id)
    {
        if (string.IsNullOrEmpty(id))
            throw new RuntimeException("container id cannot be empty");
        if (id.Length > MaxLength)
            throw new RuntimeException($"invalid container id: longer than {MaxLength} characters");
        if (id is "." or "..")
            throw new RuntimeException($"invalid container id \"{id}\"");
        // It would read as an option on every later command line that names it.
        if (id[0] == '-')
            throw new RuntimeException($"invalid container id \"{id}\": it must not start with '-'");
        foreach (var c in id)
        {
            var ok = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' or '+' or '-' or '.';
            if (!ok)
                throw new RuntimeException($"invalid container id \"{id}\": only letters, digits, '_', '+', '-' and '.' are allowed");
        }
    }
}
