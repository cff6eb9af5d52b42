using System.Text.Json;
using Moat.Scan.Inventory;
using Moat.Scan.Reports;

namespace Moat.Scan.Sbom;

/// <summary>What an SBOM says about the image itself.</summary>
public sealed record SbomSubject(string Name, string Id, string? Digest);

/// <summary>An inventory as CycloneDX 1.5 JSON and as SPDX 2.3 JSON, written field by field.</summary>
public static class SbomDocuments
{
    public static string CycloneDx(ImageInventory inventory, SbomSubject subject, string toolVersion, Guid serial, DateTimeOffset now)
    {
        return ScanReports.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("bomFormat", "CycloneDX");
            w.WriteString("specVersion", "1.5");
            w.WriteString("serialNumber", "urn:uuid:" + serial.ToString("D"));
            w.WriteNumber("version", 1);
            w.WriteStartObject("metadata");
            w.WriteString("timestamp", now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteStartObject("tools");
            w.WriteStartArray("components");
            w.WriteStartObject();
            w.WriteString("type", "application");
            w.WriteString("name", "moat");
            w.WriteString("version", toolVersion);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("component");
            w.WriteString("bom-ref", subject.Id);
            w.WriteString("type", "container");
            w.WriteString("name", subject.Name);
            if (subject.Digest is not null) w.WriteString("version", subject.Digest);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartArray("components");
            if (inventory.Os is { } os)
            {
                w.WriteStartObject();
                w.WriteString("bom-ref", "os:" + os.Distro);
                w.WriteString("type", "operating-system");
                w.WriteString("name", os.Id);
                if (os.VersionId is not null) w.WriteString("version", os.VersionId);
                if (os.PrettyName is not null) w.WriteString("description", os.PrettyName);
                w.WriteEndObject();
            }
            foreach (var package in inventory.Packages)
            {
                var purl = Purl.Of(package, inventory.Os);
                w.WriteStartObject();
                w.WriteString("bom-ref", purl);
                w.WriteString("type", "library");
                w.WriteString("name", package.Name);
                w.WriteString("version", package.Version);
                if (package.License is { } license)
                {
                    w.WriteStartArray("licenses");
                    w.WriteStartObject();
                    // An expression when it reads as one; otherwise the recorded text as a licence name.
                    if (LooksLikeExpression(license))
                        w.WriteString("expression", license);
                    else
                    {
                        w.WriteStartObject("license");
                        w.WriteString("name", license);
                        w.WriteEndObject();
                    }
                    w.WriteEndObject();
                    w.WriteEndArray();
                }
                w.WriteString("purl", purl);
                w.WriteStartArray("properties");
                Property(w, "moat:package:database", package.Database);
                if (package.SourceName is not null) Property(w, "moat:package:source", package.SourceName);
                if (package.SourceVersion is not null) Property(w, "moat:package:source-version", package.SourceVersion);
                if (package.Architecture is not null) Property(w, "moat:package:architecture", package.Architecture);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    static void Property(Utf8JsonWriter w, string name, string value)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("value", value);
        w.WriteEndObject();
    }

    /// <summary>"MIT", "GPL-2.0-only AND BSD-3-Clause": identifiers joined by AND/OR/WITH, no free text.</summary>
    static bool LooksLikeExpression(string license) =>
        license.Split(' ', StringSplitOptions.RemoveEmptyEntries).All(word =>
            word is "AND" or "OR" or "WITH" || word.Trim('(', ')').All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '+'));

    public static string Spdx(ImageInventory inventory, SbomSubject subject, string toolVersion, Guid serial, DateTimeOffset now)
    {
        return ScanReports.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("spdxVersion", "SPDX-2.3");
            w.WriteString("dataLicense", "CC0-1.0");
            w.WriteString("SPDXID", "SPDXRef-DOCUMENT");
            w.WriteString("name", subject.Name);
            w.WriteString("documentNamespace", $"https://moat.invalid/spdx/{SpdxIdPart(subject.Name)}-{serial:D}");
            w.WriteStartObject("creationInfo");
            w.WriteString("created", now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteStartArray("creators");
            w.WriteStringValue("Tool: moat-" + toolVersion);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("packages");
            w.WriteStartObject();
            w.WriteString("SPDXID", "SPDXRef-Image");
            w.WriteString("name", subject.Name);
            if (subject.Digest is not null) w.WriteString("versionInfo", subject.Digest);
            w.WriteString("downloadLocation", "NOASSERTION");
            w.WriteString("primaryPackagePurpose", "CONTAINER");
            w.WriteBoolean("filesAnalyzed", false);
            w.WriteEndObject();
            var index = 0;
            foreach (var package in inventory.Packages)
            {
                w.WriteStartObject();
                w.WriteString("SPDXID", PackageId(package, index++));
                w.WriteString("name", package.Name);
                w.WriteString("versionInfo", package.Version);
                w.WriteString("downloadLocation", "NOASSERTION");
                w.WriteBoolean("filesAnalyzed", false);
                w.WriteString("licenseConcluded", "NOASSERTION");
                w.WriteString("licenseDeclared", package.License is { } l && LooksLikeExpression(l) ? l : "NOASSERTION");
                if (package.SourceName is not null)
                    w.WriteString("sourceInfo", "built from source package " + package.SourceName + (package.SourceVersion is null ? "" : " " + package.SourceVersion));
                w.WriteString("primaryPackagePurpose", "LIBRARY");
                w.WriteStartArray("externalRefs");
                w.WriteStartObject();
                w.WriteString("referenceCategory", "PACKAGE-MANAGER");
                w.WriteString("referenceType", "purl");
                w.WriteString("referenceLocator", Purl.Of(package, inventory.Os));
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("relationships");
            Relationship(w, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image");
            index = 0;
            foreach (var package in inventory.Packages)
                Relationship(w, "SPDXRef-Image", "CONTAINS", PackageId(package, index++));
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    static void Relationship(Utf8JsonWriter w, string from, string type, string to)
    {
        w.WriteStartObject();
        w.WriteString("spdxElementId", from);
        w.WriteString("relationshipType", type);
        w.WriteString("relatedSpdxElement", to);
        w.WriteEndObject();
    }

    /// <summary>SPDX ids allow letters, digits, '.' and '-' only; the index keeps two architectures of one package apart.</summary>
    static string PackageId(InstalledPackage package, int index) => $"SPDXRef-Package-{SpdxIdPart(package.Name)}-{index}";

    static string SpdxIdPart(string text) => new([.. text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-')]);
}
