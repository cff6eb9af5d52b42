using System.Text.Json;
using System.Text.Json.Serialization;

namespace Moat.Oci.Json;

/// <summary>The <see cref="Process"/> codec as a converter (`exec --process` files).</summary>
public sealed class ProcessJsonConverter : JsonConverter<Process>
{
    public override Process Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        SpecJson.ReadEmbedded(ref reader, ProcessReader.ReadProcess);

    public override void Write(Utf8JsonWriter writer, Process value, JsonSerializerOptions options) =>
        ProcessWriter.WriteProcess(writer, value);
}
