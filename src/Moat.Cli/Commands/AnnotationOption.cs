using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>cosign's `-a KEY=VALUE` (repeatable): annotations written into a signature's optional section, or required of it.</summary>
static class AnnotationOption
{
    public static Option<string[]> Create(string description) => new("--annotations", "-a") { Description = description, AllowMultipleArgumentsPerToken = false };

    public static Dictionary<string, string> Parse(string[]? values)
    {
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values ?? [])
        {
            var equals = value.IndexOf('=');
            if (equals <= 0) throw new ArgumentException($"the annotation '{value}' is not KEY=VALUE");
            annotations[value[..equals]] = value[(equals + 1)..];
        }
        return annotations;
    }
}
