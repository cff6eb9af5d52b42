using System.Text.Json;
using System.Text.Json.Serialization;

namespace Moat.Oci.Json;

/// <summary>The <see cref="LinuxResources"/> codec as a converter (`update --resources` files).</summary>
public sealed class LinuxResourcesJsonConverter : JsonConverter<LinuxResources>
{
    public override LinuxResources Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        SpecJson.ReadEmbedded(ref reader, ResourcesReader.ReadResources);

    public override void Write(Utf8JsonWriter writer, LinuxResources value, JsonSerializerOptions options) =>
        ResourcesWriter.WriteResources(writer, value);
}
