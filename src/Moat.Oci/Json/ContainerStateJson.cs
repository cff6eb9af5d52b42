using System.Text.Json;

namespace Moat.Oci.Json;

/// <summary>
/// The runtime-spec state document, written by hand: every hook gets one on stdin, and a
/// serializer context would cost its run-time metadata set-up in each process that runs hooks.
/// Same output as the source-generated form (null annotations left out, pid 0 left out).
/// </summary>
public static class ContainerStateJson
{
    public static void Write(Utf8JsonWriter w, ContainerState state)
    {
        w.WriteStartObject();
        w.WriteString("ociVersion"u8, state.OciVersion);
        w.WriteString("id"u8, state.Id);
        w.WriteString("status"u8, state.Status);
        if (state.Pid != 0)
            w.WriteNumber("pid"u8, state.Pid);
        w.WriteString("bundle"u8, state.Bundle);
        JsonWrite.Dictionary(w, "annotations"u8, state.Annotations);
        w.WriteEndObject();
    }

    public static byte[] ToUtf8Bytes(ContainerState state, bool indented = false) =>
        SpecJson.ToUtf8Bytes(w => Write(w, state), SpecJson.WriterOptions(indented));

    /// <summary>A list of states as a JSON array (null elements as null, as the serializer writes them).</summary>
    public static byte[] ToUtf8Bytes(List<ContainerState> states, bool indented = false) =>
        SpecJson.ToUtf8Bytes(w =>
        {
            w.WriteStartArray();
            foreach (var state in states)
            {
                if (state is null)
                    w.WriteNullValue();
                else
                    Write(w, state);
            }
            w.WriteEndArray();
        }, SpecJson.WriterOptions(indented));
}
