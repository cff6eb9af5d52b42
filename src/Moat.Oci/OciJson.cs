using System.Text;
using System.Text.Json;
using Moat.Oci.Json;

namespace Moat.Oci;

/// <summary>
/// Compact and indented serialization of the OCI documents: Spec through the hand-written codec
/// (<see cref="SpecJson"/>), the small documents through <see cref="OciJsonContext"/>.
/// </summary>
public static class OciJson
{
    /// <summary>Same settings as the default context, but indented with tabs like `runc spec` writes.</summary>
    public static OciJsonContext Indented { get; } = new(new JsonSerializerOptions(OciJsonContext.Default.Options)
    {
        WriteIndented = true,
        IndentCharacter = '\t',
        IndentSize = 1,
    });

    // Spec goes straight to the hand-written writer: no serializer context is touched at all.
    public static string Serialize(Spec spec) => Encoding.UTF8.GetString(SpecJson.ToUtf8Bytes(spec));
    public static string Serialize(ContainerState state) => Encoding.UTF8.GetString(ContainerStateJson.ToUtf8Bytes(state));
    public static string Serialize(List<ContainerState> states) => JsonSerializer.Serialize(states, OciJsonContext.Default.ListContainerState);
    public static string Serialize(Features features) => JsonSerializer.Serialize(features, OciJsonContext.Default.Features);

    public static string SerializeIndented(Spec spec) => Encoding.UTF8.GetString(SpecJson.ToUtf8Bytes(spec, indented: true));
    public static string SerializeIndented(ContainerState state) => Encoding.UTF8.GetString(ContainerStateJson.ToUtf8Bytes(state, indented: true));
    public static string SerializeIndented(List<ContainerState> states) => JsonSerializer.Serialize(states, Indented.ListContainerState);
    public static string SerializeIndented(Features features) => JsonSerializer.Serialize(features, Indented.Features);

    public static byte[] SerializeToUtf8Bytes(Spec spec, bool indented = false) => SpecJson.ToUtf8Bytes(spec, indented);

    public static byte[] SerializeToUtf8Bytes(ContainerState state, bool indented = false) => ContainerStateJson.ToUtf8Bytes(state, indented);

    public static byte[] SerializeToUtf8Bytes(Features features, bool indented = false) =>
        JsonSerializer.SerializeToUtf8Bytes(features, indented ? Indented.Features : OciJsonContext.Default.Features);
}
