using System.Text;
using System.Text.Json;
using Moat.Network.Store;

namespace Moat.Cli.Output;

/// <summary>`network inspect`: docker's document per network (IPAM config, options, containers with their addresses), written by hand.</summary>
public static class NetworkJson
{
    public static string Inspect(IReadOnlyList<(NetworkRecord Network, IReadOnlyList<EndpointRecord> Endpoints)> networks)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = Moat.Oci.Json.JsonEscaping.Instance }))
        {
            w.WriteStartArray();
            foreach (var (n, endpoints) in networks)
            {
                w.WriteStartObject();
                w.WriteString("Name", n.Name);
                w.WriteString("Id", n.Id);
                w.WriteString("Created", n.Created.ToString("O"));
                w.WriteString("Driver", "bridge");
                w.WriteBoolean("EnableIPv6", n.Subnet6 is not null);
                w.WriteBoolean("Internal", n.Internal);
                w.WriteStartObject("IPAM");
                w.WriteString("Driver", "default");
                w.WriteStartArray("Config");
                w.WriteStartObject();
                w.WriteString("Subnet", n.Subnet);
                w.WriteString("Gateway", n.Gateway);
                w.WriteEndObject();
                if (n.Subnet6 is { } s6)
                {
                    w.WriteStartObject();
                    w.WriteString("Subnet", s6);
                    w.WriteString("Gateway", n.Gateway6);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteStartObject("Options");
                w.WriteString("com.docker.network.bridge.name", n.Bridge);
                w.WriteEndObject();
                w.WriteStartObject("Labels");
                foreach (var (k, v) in n.Labels) w.WriteString(k, v);
                w.WriteEndObject();
                w.WriteStartObject("Containers");
                foreach (var e in endpoints)
                {
                    w.WriteStartObject(e.Container);
                    w.WriteString("Name", e.ContainerName);
                    w.WriteString("MacAddress", e.Mac);
                    w.WriteString("IPv4Address", e.Address + "/" + n.Subnet.Split('/')[1]);
                    w.WriteString("IPv6Address", e.Address6 is null ? "" : e.Address6 + "/" + n.Subnet6!.Split('/')[1]);
                    w.WriteString("Interface", e.Interface);
                    w.WriteString("HostInterface", e.HostInterface);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
