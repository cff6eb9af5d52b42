using System.CommandLine;
using System.Text.Json;
using Moat.Images.Model;
using Moat.Images.Service;
using Moat.Images.Storage;

namespace Moat.Cli.Commands;

/// <summary>image inspect: an image's config, layers and history as a JSON array (podman's field names).</summary>
public static class ImageInspectCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("IMAGE") { Description = "names or ids", Arity = ArgumentArity.OneOrMore };
        var command = new Command("inspect", "show the configuration, layers and history of images");
        command.Arguments.Add(images);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var records = parse.GetValue(images)!.Select(context.Images.Names.Get).ToList();
            context.Out(Write(context.Images, records) + "\n");
            return 0;
        }));
        return command;
    }

    static string Write(ImageService service, IReadOnlyList<ImageRecord> images)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var image in images)
            {
                var config = service.ConfigOf(image);
                var manifest = service.ManifestOf(image);
                w.WriteStartObject();
                w.WriteString("Id", image.Id.Hex);
                w.WriteString("Digest", image.ManifestDigest.ToString());
                WriteStrings(w, "RepoTags", image.Names);
                WriteStrings(w, "RepoDigests", image.RepoDigests);
                if (config.Created is { } created) w.WriteString("Created", created.ToString("O"));
                w.WritePropertyName("Config");
                JsonSerializer.Serialize(w, config.Config ?? new ContainerConfig(), ImageJsonContext.Default.ContainerConfig);
                w.WriteString("Author", config.Author ?? "");
                w.WriteString("Architecture", config.Architecture);
                w.WriteString("Os", config.Os);
                if (config.Variant is { } variant) w.WriteString("Variant", variant);
                w.WriteNumber("Size", image.Size);
                w.WritePropertyName("Labels");
                WriteMap(w, config.Config?.Labels);
                w.WritePropertyName("Annotations");
                WriteMap(w, manifest.Annotations);
                w.WriteString("ManifestType", image.ManifestMediaType);
                w.WriteString("User", config.Config?.User ?? "");
                w.WriteStartObject("RootFS");
                w.WriteString("Type", config.RootFs.Type);
                WriteStrings(w, "Layers", config.RootFs.DiffIds);
                w.WriteEndObject();
                w.WriteStartArray("LayerBlobs");
                foreach (var layer in manifest.Layers)
                {
                    w.WriteStartObject();
                    w.WriteString("Digest", layer.Digest);
                    w.WriteString("MediaType", layer.MediaType);
                    w.WriteNumber("Size", layer.Size);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WritePropertyName("History");
                JsonSerializer.Serialize(w, config.History ?? [], ImageJsonContext.Default.ListHistoryEntry);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values) w.WriteStringValue(value);
        w.WriteEndArray();
    }

    static void WriteMap(Utf8JsonWriter w, IReadOnlyDictionary<string, string>? map)
    {
        w.WriteStartObject();
        if (map is not null)
            foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
                w.WriteString(key, value);
        w.WriteEndObject();
    }
}
