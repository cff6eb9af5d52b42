using System.CommandLine;
using System.Reflection;
using Moat.Cli.Output;
using Moat.Images.Service;
using Moat.Scan.Inventory;
using Moat.Scan.Sbom;

namespace Moat.Cli.Commands;

/// <summary>sbom: the OS packages of a stored image, read from its layers (nothing is run), as a table, CycloneDX or SPDX.</summary>
public static class SbomCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "the image (name or id)" };
        var format = new Option<string>("--format") { Description = "table, cyclonedx (CycloneDX 1.5 JSON) or spdx (SPDX 2.3 JSON)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "cyclonedx", "spdx");
        var command = new Command("sbom", "list an image's OS packages (dpkg, apk, rpm databases) as a table or an SBOM");
        command.Arguments.Add(image);
        command.Options.Add(format);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var text = parse.GetValue(image)!;
            var record = context.Images.Names.Get(text);
            ImageInventory inventory;
            using (var files = ImageFiles.Open(context.Images, record))
                inventory = ImageInventory.Read(files);
            var subject = new SbomSubject(record.Names.FirstOrDefault() ?? record.Id.ToString(), record.Id.ToString(), record.ManifestDigest.ToString());
            switch (parse.GetValue(format))
            {
                case "cyclonedx":
                    context.Out(SbomDocuments.CycloneDx(inventory, subject, ToolVersion, Guid.NewGuid(), DateTimeOffset.UtcNow));
                    break;
                case "spdx":
                    context.Out(SbomDocuments.Spdx(inventory, subject, ToolVersion, Guid.NewGuid(), DateTimeOffset.UtcNow));
                    break;
                default:
                    if (inventory.Packages.Count == 0)
                        ImageCommandContext.Warn($"no package database found in {text} (looked for dpkg, apk and rpm databases)");
                    var table = new Table("NAME", "VERSION", "SOURCE", "ARCH", "LICENSE", "TYPE");
                    foreach (var p in inventory.Packages)
                        table.Add(p.Name, p.Version, p.SourceName is null ? "" : p.SourceVersion is null ? p.SourceName : $"{p.SourceName} ({p.SourceVersion})",
                            p.Architecture ?? "", Truncate(p.License ?? "", 40), p.Kind.ToString().ToLowerInvariant());
                    context.Out(table.ToString());
                    break;
            }
            return 0;
        }));
        return command;
    }

    internal static string ToolVersion =>
        typeof(SbomCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    internal static string Truncate(string text, int width) => text.Length <= width ? text : text[..(width - 3)] + "...";
}
