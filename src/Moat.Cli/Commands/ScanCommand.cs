using System.CommandLine;
using Moat.Cli.Output;
using Moat.Images.Service;
using Moat.Images.Storage;
using Moat.Scan;
using Moat.Scan.Inventory;
using Moat.Scan.Matching;
using Moat.Scan.Osv;
using Moat.Scan.Reports;

namespace Moat.Cli.Commands;

/// <summary>
/// scan: match a stored image's OS packages against the imported OSV data. Exit 0 when nothing is at or
/// above --fail-on (or no --fail-on), 1 when something is, 125 when the scan itself fails.
/// `scan db import` and `scan db status` manage the data.
/// </summary>
public static class ScanCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "the image (name or id)" };
        var format = new Option<string>("--format") { Description = "table, json or sarif (SARIF 2.1.0)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "sarif");
        var failOn = new Option<string?>("--fail-on") { Description = "exit 1 when a finding is at or above this severity: low, medium, high or critical" };
        failOn.AcceptOnlyFromAmong("low", "medium", "high", "critical");
        var command = new Command("scan", "find known vulnerabilities in an image's OS packages (OSV data imported with `moat scan db import`)");
        command.Arguments.Add(image);
        command.Options.Add(format);
        command.Options.Add(failOn);
        command.Subcommands.Add(DatabaseCommand());
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var text = parse.GetValue(image)!;
            var record = context.Images.Names.Get(text);
            using var database = VulnerabilityDatabase.Open(VulnerabilityDatabase.PathIn(context.Images.Layout), writable: false);
            ImageInventory inventory;
            using (var files = ImageFiles.Open(context.Images, record))
                inventory = ImageInventory.Read(files, dpkgLicenses: false);
            if (inventory.Packages.Count == 0)
                throw new ScanException($"no package database found in {text} (looked for dpkg, apk and rpm databases): there is nothing to match");
            var result = Scanner.Scan(inventory, database);
            switch (parse.GetValue(format))
            {
                case "json":
                    context.Out(ScanReports.Json(result, text));
                    break;
                case "sarif":
                    context.Out(ScanReports.Sarif(result, text, SbomCommand.ToolVersion));
                    break;
                default:
                    context.Out(Table(result));
                    context.Out(Summary(result, text));
                    break;
            }
            var threshold = parse.GetValue(failOn) is { } level ? SeverityLevels.Parse(level) : null;
            return threshold is { } t && result.AnyAtOrAbove(t) ? 1 : 0;
        }));
        return command;
    }

    static string Table(ScanResult result)
    {
        if (result.Findings.Count == 0)
            return "";
        var table = new Table("SEVERITY", "ID", "PACKAGE", "INSTALLED", "FIXED IN", "SUMMARY");
        foreach (var f in result.Findings)
            table.Add(SeverityLevels.Name(f.Severity), f.Id, f.Package.Name, f.InstalledVersion, f.FixedIn ?? "(no fix yet)", SbomCommand.Truncate(f.Summary ?? "", 60));
        return table.ToString();
    }

    static string Summary(ScanResult result, string image)
    {
        var counts = string.Join(", ", Enum.GetValues<Severity>().Reverse()
            .Select(s => (s, n: result.Findings.Count(f => f.Severity == s))).Where(x => x.n > 0)
            .Select(x => $"{x.n} {SeverityLevels.Name(x.s).ToLowerInvariant()}"));
        return result.Findings.Count == 0
            ? $"{image}: no known vulnerabilities in {result.Inventory.Packages.Count} packages ({result.Ecosystem})\n"
            : $"{image}: {result.Findings.Count} vulnerabilities ({counts}) in {result.Inventory.Packages.Count} packages ({result.Ecosystem})\n";
    }

    static Command DatabaseCommand()
    {
        var db = new Command("db", "the vulnerability data (OSV records) scans match against");
        var paths = new Argument<string[]>("FILE|DIR") { Description = "OSV records: *.json files, directories of them, or osv.dev's per-ecosystem all.zip", Arity = ArgumentArity.OneOrMore };
        var import = new Command("import", "import OSV records (Debian, Ubuntu, Alpine, Red Hat) into the store's vulnerability database");
        import.Arguments.Add(paths);
        import.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var layout = StorageLayout.ForCurrentUser(context.ServiceOptions().Root).EnsureCreated();
            using var database = VulnerabilityDatabase.Open(VulnerabilityDatabase.PathIn(layout), writable: true);
            var counts = OsvImporter.Import(database, parse.GetValue(paths)!);
            context.Out($"imported {counts.Stored} records from {counts.Files} files ({counts.Withdrawn} withdrawn, {counts.Skipped} for other ecosystems); the database holds {database.Count()}\n");
            return 0;
        }));
        var status = new Command("status", "what the vulnerability database holds, per ecosystem, and when it was last imported");
        status.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var layout = StorageLayout.ForCurrentUser(context.ServiceOptions().Root);
            using var database = VulnerabilityDatabase.Open(VulnerabilityDatabase.PathIn(layout), writable: false);
            var table = new Table("ECOSYSTEM", "RECORDS");
            foreach (var (ecosystem, records) in database.Ecosystems())
                table.Add(ecosystem, records.ToString(System.Globalization.CultureInfo.InvariantCulture));
            context.Out(table.ToString());
            context.Out($"{database.Count()} records, last imported {database.LastImport()?.ToString("u") ?? "never"}\n");
            return 0;
        }));
        db.Subcommands.Add(import);
        db.Subcommands.Add(status);
        return db;
    }
}
