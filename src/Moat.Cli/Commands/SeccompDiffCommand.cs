using System.CommandLine;
using System.Text;
using System.Text.Json;
using Moat.Audit.Seccomp;
using Moat.Cli.Output;

namespace Moat.Cli.Commands;

/// <summary>
/// seccomp diff: what PROFILE allows beyond BASELINE (default: Moat's default profile). Exit status as
/// diff(1): 0 when it allows nothing more, 1 when it does, 125 on errors.
/// </summary>
public static class SeccompDiffCommand
{
    public static Command Create()
    {
        var profile = new Argument<string>("PROFILE") { Description = "a profile (linux.seccomp JSON) or a config.json; \"default\" is Moat's default" };
        var baseline = new Argument<string>("BASELINE") { Description = "what to compare against (default: Moat's default profile)", DefaultValueFactory = _ => ProfileFile.DefaultName };
        var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("diff", "show what a seccomp profile allows beyond another");
        command.Arguments.Add(profile);
        command.Arguments.Add(baseline);
        command.Options.Add(format);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var (a, b) = (ProfileFile.Load(parse.GetValue(profile)!), ProfileFile.Load(parse.GetValue(baseline)!));
            var differences = ProfileDiff.Beyond(a, b, RecordingProfile.NativeNames());
            var architectures = ProfileDiff.ArchitecturesBeyond(a, b);
            context.Out(parse.GetValue(format) == "json" ? Json(differences, architectures) : Text(differences, architectures, parse.GetValue(profile)!, parse.GetValue(baseline)!));
            return differences.Count > 0 || architectures.Count > 0 ? 1 : 0;
        }));
        return command;
    }

    static string Text(IReadOnlyList<ProfileDifference> differences, IReadOnlyList<string> architectures, string profile, string baseline)
    {
        if (differences.Count == 0 && architectures.Count == 0)
            return $"{profile} allows nothing beyond {baseline}\n";
        var table = new Table("SYSCALL", "PROFILE", "BASELINE");
        foreach (var d in differences)
            table.Add(d.Syscall, d.Profile.Detail, d.Baseline.Detail);
        var text = new StringBuilder($"PROFILE {profile}, BASELINE {baseline}\n");
        text.Append(table);
        if (architectures.Count > 0)
            text.Append("architectures only in ").Append(profile).Append(": ").AppendJoin(", ", architectures).Append('\n');
        text.Append($"{differences.Count} system calls allowed beyond {baseline} (or under other conditions)\n");
        return text.ToString();
    }

    static string Json(IReadOnlyList<ProfileDifference> differences, IReadOnlyList<string> architectures)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("syscalls");
            foreach (var d in differences)
            {
                w.WriteStartObject();
                w.WriteString("name", d.Syscall);
                w.WriteString("profile", d.Profile.Detail);
                w.WriteString("baseline", d.Baseline.Detail);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("architectures");
            foreach (var a in architectures)
                w.WriteStringValue(a);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
