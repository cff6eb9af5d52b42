using System.Text;
using Moat.Oci.Json;

namespace Moat.Oci;

/// <summary>
/// Compact and indented serialization of the OCI documents, all through the hand-written writers
/// (<see cref="SpecJson"/>, <see cref="ContainerStateJson"/>, <see cref="FeaturesJson"/>): nothing
/// here touches a serializer context, so moat-runtime carries none of the serializer.
/// </summary>
public static class OciJson
{
    public static string Serialize(Spec spec) => Encoding.UTF8.GetString(SpecJson.ToUtf8Bytes(spec));
    public static string Serialize(ContainerState state) => Encoding.UTF8.GetString(ContainerStateJson.ToUtf8Bytes(state));
    public static string Serialize(List<ContainerState> states) => Encoding.UTF8.GetString(ContainerStateJson.ToUtf8Bytes(states));
    public static string Serialize(Features features) => Encoding.UTF8.GetString(FeaturesJson.ToUtf8Bytes(features));

    public static string SerializeIndented(Spec spec) => Encoding.UTF8.GetString(SpecJson.ToUtf8Bytes(spec, indented: true));
    public static string SerializeIndented(ContainerState state) => Encoding.UTF8.GetString(ContainerStateJson.ToUtf8Bytes(state, indented: true));
    public static string SerializeIndented(List<ContainerState> states) => Encoding.UTF8.GetString(ContainerStateJson.ToUtf8Bytes(states, indented: true));
    public static string SerializeIndented(Features features) => Encoding.UTF8.GetString(FeaturesJson.ToUtf8Bytes(features, indented: true));

    public static byte[] SerializeToUtf8Bytes(Spec spec, bool indented = false) => SpecJson.ToUtf8Bytes(spec, indented);

    public static byte[] SerializeToUtf8Bytes(ContainerState state, bool indented = false) => ContainerStateJson.ToUtf8Bytes(state, indented);

    public static byte[] SerializeToUtf8Bytes(Features features, bool indented = false) => FeaturesJson.ToUtf8Bytes(features, indented);
}
