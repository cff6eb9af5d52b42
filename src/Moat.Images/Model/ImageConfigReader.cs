using System.Text.Json;
using static Moat.Oci.Json.JsonTokens;

namespace Moat.Images.Model;

/// <summary>
/// Reads a stored image config by hand (Utf8JsonReader), as the source-generated serializer reads it: names
/// as written (case-sensitive), unknown properties skipped, absent ones left at their defaults, null setting
/// null, numbers exact. Every `moat run` and `create` reads its image's config; the serializer's run-time
/// metadata for these five types (each type's properties configured, its attributes searched by reflection)
/// cost ~0.6 ms of each (perf, 2026-12-03), the reading itself a few µs. Pulls, imports and writes keep the
/// serializer; ImageConfigReaderTests hold the two to the same result.
/// </summary>
public static class ImageConfigReader
{
    public static ImageConfig? Read(ReadOnlySpan<byte> json)
    {
        var r = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        if (!r.Read())
            throw new JsonException("the image config is empty");
        var config = r.TokenType == JsonTokenType.Null ? null : ReadConfig(ref r);
        ExpectEnd(ref r, "the image config");
        return config;
    }

    static ImageConfig ReadConfig(ref Utf8JsonReader r)
    {
        Expect(ref r, JsonTokenType.StartObject, "the image config");
        var config = new ImageConfig();
        while (NextProperty(ref r, out var name))
        {
            switch (name)
            {
                case "created": config.Created = NullableTime(ref r); break;
                case "author": config.Author = String(ref r); break;
                case "architecture": config.Architecture = String(ref r)!; break;
                case "os": config.Os = String(ref r)!; break;
                case "os.version": config.OsVersion = String(ref r); break;
                case "variant": config.Variant = String(ref r); break;
                case "config": config.Config = r.TokenType == JsonTokenType.Null ? null : ReadContainerConfig(ref r); break;
                case "rootfs": config.RootFs = r.TokenType == JsonTokenType.Null ? null! : ReadRootFs(ref r); break;
                case "history": config.History = List(ref r, ReadHistoryEntry); break;
                default: r.Skip(); break;
            }
        }
        return config;
    }

    static ContainerConfig ReadContainerConfig(ref Utf8JsonReader r)
    {
        Expect(ref r, JsonTokenType.StartObject, "config");
        var config = new ContainerConfig();
        while (NextProperty(ref r, out var name))
        {
            switch (name)
            {
                case "User": config.User = String(ref r); break;
                case "ExposedPorts": config.ExposedPorts = EmptyObjects(ref r); break;
                case "Env": config.Env = Strings(ref r); break;
                case "Entrypoint": config.Entrypoint = Strings(ref r); break;
                case "Cmd": config.Cmd = Strings(ref r); break;
                case "Volumes": config.Volumes = EmptyObjects(ref r); break;
                case "WorkingDir": config.WorkingDir = String(ref r); break;
                case "Labels": config.Labels = StringMap(ref r); break;
                case "StopSignal": config.StopSignal = String(ref r); break;
                case "ArgsEscaped": config.ArgsEscaped = r.TokenType == JsonTokenType.Null ? null : Boolean(ref r); break;
                case "Healthcheck": config.Healthcheck = r.TokenType == JsonTokenType.Null ? null : ReadHealthcheck(ref r); break;
                default: r.Skip(); break;
            }
        }
        return config;
    }

    static HealthcheckConfig ReadHealthcheck(ref Utf8JsonReader r)
    {
        Expect(ref r, JsonTokenType.StartObject, "Healthcheck");
        var check = new HealthcheckConfig();
        while (NextProperty(ref r, out var name))
        {
            switch (name)
            {
                case "Test": check.Test = Strings(ref r); break;
                case "Interval": check.Interval = Int64(ref r); break;
                case "Timeout": check.Timeout = Int64(ref r); break;
                case "StartPeriod": check.StartPeriod = Int64(ref r); break;
                case "Retries": check.Retries = Int32(ref r); break;
                default: r.Skip(); break;
            }
        }
        return check;
    }

    static RootFs ReadRootFs(ref Utf8JsonReader r)
    {
        Expect(ref r, JsonTokenType.StartObject, "rootfs");
        var rootFs = new RootFs();
        while (NextProperty(ref r, out var name))
        {
            switch (name)
            {
                case "type": rootFs.Type = String(ref r)!; break;
                case "diff_ids": rootFs.DiffIds = Strings(ref r)!; break;
                default: r.Skip(); break;
            }
        }
        return rootFs;
    }

    static HistoryEntry ReadHistoryEntry(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Null)
            return null!; // as the serializer reads it: a null element stays
        Expect(ref r, JsonTokenType.StartObject, "a history entry");
        var entry = new HistoryEntry();
        while (NextProperty(ref r, out var name))
        {
            switch (name)
            {
                case "created": entry.Created = NullableTime(ref r); break;
                case "created_by": entry.CreatedBy = String(ref r); break;
                case "author": entry.Author = String(ref r); break;
                case "comment": entry.Comment = String(ref r); break;
                case "empty_layer": entry.EmptyLayer = Boolean(ref r); break;
                default: r.Skip(); break;
            }
        }
        return entry;
    }

    // ---- values ----

    /// <summary>ExposedPorts and Volumes: `{"80/tcp": {}}`; what a value object holds is skipped, as the serializer skips it.</summary>
    static Dictionary<string, EmptyObject>? EmptyObjects(ref Utf8JsonReader r) => Map(ref r, EmptyObjectValue);

    static EmptyObject EmptyObjectValue(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Null)
            return null!; // as the serializer reads it
        Expect(ref r, JsonTokenType.StartObject, "an empty object");
        r.Skip();
        return new EmptyObject();
    }
}
