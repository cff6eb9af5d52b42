using System.CommandLine;
using System.Text.Json;
using Moat.Cli.Output;
using Moat.Images.References;
using Moat.Images.Storage;

namespace Moat.Cli.Commands;

/// <summary>images (image ls): the stored images, as `docker images` and `podman images` print them.</summary>
public static class ImagesCommand
{
    public static Command Create(string name = "images")
    {
        var repository = new Argument<string?>("REPOSITORY") { Description = "only images of this repository (NAME or NAME:TAG)", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all", "-a") { Description = "also images without a name (dangling)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only image ids" };
        var digests = new Option<bool>("--digests") { Description = "show the manifest digests" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "full image ids" };
        var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command(name, "list stored images");
        if (name == "images") { } else command.Aliases.Add("list");
        command.Arguments.Add(repository);
        foreach (var option in new Option[] { all, quiet, digests, noTrunc, format })
            command.Options.Add(option);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var images = context.Images.List();
            var filter = parse.GetValue(repository);
            // docker hides dangling images unless -a; podman shows them: follow docker, as its users expect.
            var rows = new List<(ImageRecord Image, string Repository, string Tag)>();
            foreach (var image in images.OrderByDescending(i => i.Created))
            {
                if (image.Names.Count == 0)
                {
                    if (parse.GetValue(all) && filter is null)
                        rows.Add((image, "<none>", "<none>"));
                    continue;
                }
                foreach (var full in image.Names)
                {
                    var reference = ImageReference.Parse(full);
                    if (filter is not null && !Matches(reference, filter))
                        continue;
                    rows.Add((image, reference.Name, reference.Tag ?? "<none>"));
                }
            }
            if (parse.GetValue(quiet))
            {
                foreach (var id in rows.Select(r => r.Image.Id).Distinct())
                    context.Out((parse.GetValue(noTrunc) ? id.ToString() : id.Short) + "\n");
                return 0;
            }
            if (parse.GetValue(format) == "json")
            {
                context.Out(Json(rows.Select(r => r.Image).Distinct().ToList()) + "\n");
                return 0;
            }
            var now = DateTimeOffset.UtcNow;
            var showDigests = parse.GetValue(digests);
            var table = showDigests ? new Table("REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE") : new Table("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
            foreach (var (image, repo, tag) in rows)
            {
                var id = parse.GetValue(noTrunc) ? image.Id.ToString() : image.Id.Short;
                if (showDigests)
                    table.Add(repo, tag, image.ManifestDigest.ToString(), id, Units.Ago(image.Created, now), Units.HumanSize(image.Size));
                else
                    table.Add(repo, tag, id, Units.Ago(image.Created, now), Units.HumanSize(image.Size));
            }
            context.Out(table.ToString());
            return 0;
        }));
        return command;
    }

    /// <summary>`moat images busybox` matches any registry's busybox; with a tag, only that tag.</summary>
    static bool Matches(ImageReference stored, string filter)
    {
        if (!ImageReference.TryParse(filter, out var wanted) || wanted is null)
            return false;
        var repositoryMatches = wanted.IsShortName ? stored.Name.EndsWith("/" + wanted.ShortPath, StringComparison.Ordinal) || stored.Name == wanted.ShortPath : stored.Name == wanted.Name;
        var tagGiven = filter.Contains(':') && !filter[(filter.LastIndexOf('/') + 1)..].StartsWith(':') && filter.LastIndexOf(':') > filter.LastIndexOf('/');
        return repositoryMatches && (!tagGiven || stored.Tag == wanted.Tag);
    }

    /// <summary>podman's `images --format json` fields, written by hand (one writer, no reflection).</summary>
    static string Json(IReadOnlyList<ImageRecord> images)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var image in images)
            {
                w.WriteStartObject();
                w.WriteString("Id", image.Id.Hex);
                w.WriteString("Digest", image.ManifestDigest.ToString());
                w.WriteStartArray("RepoTags");
                foreach (var n in image.Names) w.WriteStringValue(n);
                w.WriteEndArray();
                w.WriteStartArray("RepoDigests");
                foreach (var n in image.RepoDigests) w.WriteStringValue(n);
                w.WriteEndArray();
                w.WriteNumber("Size", image.Size);
                w.WriteNumber("Created", image.Created.ToUnixTimeSeconds());
                w.WriteString("CreatedAt", image.Created.ToString("O"));
                w.WriteString("Platform", image.Platform);
                w.WriteBoolean("Dangling", image.Names.Count == 0);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
