using System.Text.Json.Serialization;

namespace Moat.Network.Store;

[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<PortMapping>))]
[JsonSerializable(typeof(List<EgressRule>))]
internal sealed partial class NetworkJson : JsonSerializerContext;
