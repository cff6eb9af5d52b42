using System.Text.Json;
using System.Text.Json.Serialization;
using Moat.Oci;
using Moat.Runtime.Lifecycle;
using Moat.Runtime.State;

namespace Moat.Runtime.Cli;

/// <summary>What `state` and `list --format json` print: the runtime-spec state plus runc's extra fields.</summary>
public sealed class StateReport
{
    [JsonPropertyName("ociVersion")] public string OciVersion { get; set; } = SpecVersion.Current;
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("pid")] public int Pid { get; set; }
    [JsonPropertyName("status")] public string Status { get; set; } = "";
    [JsonPropertyName("bundle")] public string Bundle { get; set; } = "";
    [JsonPropertyName("rootfs")] public string Rootfs { get; set; } = "";
    [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }
    [JsonPropertyName("owner")] public string Owner { get; set; } = "";
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }

    public static StateReport From(ContainerView view) => new()
    {
        Id = view.Id,
        Pid = view.Pid,
        Status = view.Status.ToSpecString(),
        Bundle = view.State?.Bundle ?? "",
        Rootfs = view.State?.Rootfs ?? "",
        Created = view.State?.Created ?? default,
        Owner = view.State?.Owner ?? "",
        Annotations = view.State?.Annotations,
    };

    /// <summary>
    /// Indented JSON as runc prints it, written by hand: engines call `state` after nearly every
    /// step, and a serializer context would add its run-time metadata set-up to each call.
    /// </summary>
    public static string ToJson(IEnumerable<StateReport> reports) => Write(w =>
    {
        w.WriteStartArray();
        foreach (var report in reports)
            report.Write(w);
        w.WriteEndArray();
    });

    public string ToJson() => Write(Write);

    void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("ociVersion"u8, OciVersion);
        w.WriteString("id"u8, Id);
        w.WriteNumber("pid"u8, Pid);
        w.WriteString("status"u8, Status);
        w.WriteString("bundle"u8, Bundle);
        w.WriteString("rootfs"u8, Rootfs);
        w.WriteString("created"u8, Created);
        w.WriteString("owner"u8, Owner);
        if (Annotations is { } annotations)
        {
            w.WriteStartObject("annotations"u8);
            foreach (var (key, value) in annotations)
                w.WriteString(key, value);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    static string Write(Action<Utf8JsonWriter> write) =>
        System.Text.Encoding.UTF8.GetString(Moat.Oci.Json.SpecJson.ToUtf8Bytes(write, new JsonWriterOptions { Indented = true }));
}
