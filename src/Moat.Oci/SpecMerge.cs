using System.Text.Json;
using Moat.Oci.Json;

namespace Moat.Oci;

/// <summary>
/// Merges and copies model objects through the OCI codec (<see cref="SpecJson"/>) instead of field by
/// field: both objects are written to JSON, the trees merged, and the result read back. A field the
/// codec knows is carried whatever its name, so a field added to the model later cannot be dropped by
/// a list kept by hand (the codec is held to the whole model by its own tests).
/// </summary>
/// <remarks>
/// Merge rules: objects are merged key by key, recursively (dictionaries such as
/// <c>rdma</c> or <c>unified</c> too: a key the changes name is replaced, the others kept); arrays and
/// scalars are replaced whole. A null in the changes means "not set", as it does in the model, so it
/// keeps the old value: a merge cannot remove a field. A field the model cannot leave unset (a
/// non-nullable value such as <c>ociVersion</c> or <c>pids.limit</c>) is always part of the changes
/// that contain it. A deep copy is a merge with no changes.
/// </remarks>
public static class SpecMerge
{
    /// <summary>update's rule: the old resources with every field that <paramref name="changes"/> sets replaced.</summary>
    public static LinuxResources Merge(LinuxResources? old, LinuxResources changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return old is null
            ? Copy(changes)
            : Merge(old, changes, ResourcesWriter.WriteResources, ResourcesReader.ReadResources);
    }

    /// <summary>The old spec with every field that <paramref name="changes"/> sets replaced.</summary>
    public static Spec Merge(Spec old, Spec changes)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(changes);
        return Merge(old, changes, SpecWriter.WriteSpec, SpecReader.ReadSpec);
    }

    public static LinuxResources Copy(LinuxResources resources) => Copy(resources, ResourcesWriter.WriteResources, ResourcesReader.ReadResources);

    public static Process Copy(Process process) => Copy(process, ProcessWriter.WriteProcess, ProcessReader.ReadProcess);

    public static Spec Copy(Spec spec) => Copy(spec, SpecWriter.WriteSpec, SpecReader.ReadSpec);

    /// <summary>
    /// The merge of two JSON documents by the rules above, as compact UTF-8 JSON. Property order: the
    /// old document's, then the properties only the changes have, in their order.
    /// </summary>
    public static byte[] MergeJson(ReadOnlyMemory<byte> old, ReadOnlyMemory<byte> changes)
    {
        using var oldDocument = JsonDocument.Parse(old);
        using var changesDocument = JsonDocument.Parse(changes);
        var oldRoot = oldDocument.RootElement;
        var changesRoot = changesDocument.RootElement;
        return SpecJson.ToUtf8Bytes(w => WriteMerged(w, oldRoot, changesRoot));
    }

    private static T Merge<T>(T old, T changes, JsonValueWriter<T> write, JsonValueReader<T> read)
    {
        var merged = MergeJson(SpecJson.ToUtf8Bytes(w => write(w, old)), SpecJson.ToUtf8Bytes(w => write(w, changes)));
        return SpecJson.ReadDocument(merged, read);
    }

    private static T Copy<T>(T value, JsonValueWriter<T> write, JsonValueReader<T> read)
    {
        ArgumentNullException.ThrowIfNull(value);
        // With no changes there is nothing to merge: the codec's own round trip is the copy.
        return SpecJson.ReadDocument(SpecJson.ToUtf8Bytes(w => write(w, value)), read);
    }

    private static void WriteMerged(Utf8JsonWriter w, JsonElement old, JsonElement changes)
    {
        if (changes.ValueKind == JsonValueKind.Null)
        {
            old.WriteTo(w);
            return;
        }
        if (old.ValueKind != JsonValueKind.Object || changes.ValueKind != JsonValueKind.Object)
        {
            changes.WriteTo(w);
            return;
        }
        w.WriteStartObject();
        foreach (var property in old.EnumerateObject())
        {
            if (changes.TryGetProperty(property.Name, out var change))
            {
                w.WritePropertyName(property.Name);
                WriteMerged(w, property.Value, change);
            }
            else
            {
                property.WriteTo(w);
            }
        }
        foreach (var property in changes.EnumerateObject())
        {
            // A null for a key the old document lacks sets nothing.
            if (property.Value.ValueKind != JsonValueKind.Null && !old.TryGetProperty(property.Name, out _))
            {
                property.WriteTo(w);
            }
        }
        w.WriteEndObject();
    }
}
