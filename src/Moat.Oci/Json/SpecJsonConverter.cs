using System.Text.Json;
using System.Text.Json.Serialization;

namespace Moat.Oci.Json;

/// <summary>Lets a serializer context read and write a <see cref="Spec"/> without building metadata for its type graph.</summary>
public sealed class SpecJsonConverter : JsonConverter<Spec>
{
    public override Spec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        SpecJson.ReadEmbedded(ref reader, SpecReader.ReadSpec);

    public override void Write(Utf8JsonWriter writer, Spec value, JsonSerializerOptions options) =>
        SpecWriter.WriteSpec(writer, value);
}
