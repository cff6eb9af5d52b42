using System.Text.Json;
using Moat.Interop;
using Moat.Runtime;
using Moat.Vm.Protocol;
using Moat.Vm.Provisioning;

namespace Moat.Vm.Host;

/// <summary>
/// The container's network namespace on the host, carried into the guest the way Kata does it: each
/// ethernet interface there (the engine's veth, or any engine's) gets a tap beside it, and two tc
/// filters redirect every frame from one to the other (ingress of the veth to egress of the tap and
/// back), so the guest's NIC, which takes the veth's MAC, is on the veth's wire: the bridge, its
/// nftables rules (segmentation, ports, egress) and the addresses in the engine's database hold as
/// for a container of the container tier. The veth keeps its address, routes and MTU, which the
/// guest's agent gives the NIC. QEMU gets the taps as descriptors; they vanish with QEMU.
/// </summary>
public static class GuestNetworking
{
    const int CLONE_NEWNET = 0x40000000;

    /// <summary>The tap beside the container's i-th interface (in its namespace; at most 15 characters).</summary>
    public static string TapName(int index) => $"tap{index}_moat";

    /// <summary>The ethernet interfaces of the namespace at <paramref name="namespacePath"/>, with their addresses and the routes through them.</summary>
    public static IReadOnlyList<GuestInterface> Read(string namespacePath)
    {
        using var links = JsonDocument.Parse(Ip(namespacePath, "-json", "addr", "show"));
        using var routes4 = JsonDocument.Parse(Ip(namespacePath, "-json", "-4", "route", "show"));
        using var routes6 = JsonDocument.Parse(Ip(namespacePath, "-json", "-6", "route", "show"));
        var interfaces = new List<GuestInterface>();
        foreach (var link in links.RootElement.EnumerateArray())
        {
            if (Text(link, "link_type") != "ether" || Text(link, "ifname") is not { } name || Text(link, "address") is not { } mac)
                continue;
            if (name.StartsWith("tap", StringComparison.Ordinal) && name.EndsWith("_moat", StringComparison.Ordinal))
                continue; // ours, from an earlier boot
            var addresses = new List<string>();
            if (link.TryGetProperty("addr_info", out var infos))
                foreach (var info in infos.EnumerateArray())
                    if (Text(info, "family") is "inet" or "inet6" && Text(info, "scope") == "global"
                        && Text(info, "local") is { } local && info.TryGetProperty("prefixlen", out var prefix))
                        addresses.Add($"{local}/{prefix.GetInt32()}");
            var routes = new List<GuestRoute>();
            foreach (var (list, any) in new[] { (routes4, "0.0.0.0/0"), (routes6, "::/0") })
                foreach (var route in list.RootElement.EnumerateArray())
                    // The prefix routes of the addresses ("proto kernel") the guest's kernel makes itself;
                    // "default" is written as a prefix, so the guest knows its family without a gateway.
                    if (Text(route, "dev") == name && Text(route, "protocol") != "kernel" && Text(route, "dst") is { } destination
                        && (Text(route, "type") ?? "unicast") == "unicast")
                        routes.Add(new GuestRoute(destination == "default" ? any : destination.Contains('/') ? destination : destination + (any == "::/0" ? "/128" : "/32"), Text(route, "gateway") ?? ""));
            var mtu = link.TryGetProperty("mtu", out var m) ? m.GetUInt32() : 1500;
            interfaces.Add(new GuestInterface(name, mac, mtu, addresses, routes));
        }
        return interfaces;
    }

    static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    static string Ip(string namespacePath, params string[] args)
    {
        var (status, output) = HostCommand.Run("nsenter", ["--net=" + namespacePath, Tool("ip"), .. args]);
        if (status != 0)
            throw new RuntimeException($"cannot read the container's network namespace {namespacePath}: ip {string.Join(' ', args)}: {output.Trim()}");
        return output;
    }

    /// <summary>
    /// Makes a tap per interface in the namespace (from a thread that enters it, so the taps are the
    /// namespace's while this process stays in the host's), brings it up with the veth's MTU, and
    /// wires the redirects. Returns the taps' descriptors, in interface order, for QEMU.
    /// </summary>
    public static IReadOnlyList<FileDescriptor> Connect(string namespacePath, IReadOnlyList<GuestInterface> interfaces)
    {
        var taps = new List<FileDescriptor>();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var ns = Libc.Open(namespacePath, Libc.O_RDONLY);
                Errors.Check(Libc.setns(ns.Fd, CLONE_NEWNET), "setns", namespacePath);
                for (var i = 0; i < interfaces.Count; i++)
                    taps.Add(Libc.OpenTap(TapName(i)));
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { Name = "tap" };
        thread.Start();
        thread.Join();
        try
        {
            if (failure is not null)
                throw new RuntimeException($"cannot make a tap device in the container's network namespace {namespacePath}: {failure.Message}");
            var links = new List<string>();
            var filters = new List<string>();
            for (var i = 0; i < interfaces.Count; i++)
            {
                var (veth, tap) = (interfaces[i].Name, TapName(i));
                links.Add($"link set {tap} mtu {interfaces[i].Mtu} up");
                // An earlier boot's filters point at a tap that is gone: start from none (errors ignored: there may be none).
                Tc(namespacePath, ["qdisc", "del", "dev", veth, "ingress"], ignoreErrors: true);
                filters.Add($"qdisc add dev {veth} ingress");
                filters.Add($"filter add dev {veth} parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev {tap}");
                filters.Add($"qdisc add dev {tap} ingress");
                filters.Add($"filter add dev {tap} parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev {veth}");
            }
            Batch(namespacePath, "ip", links);
            Batch(namespacePath, "tc", filters);
            return taps;
        }
        catch
        {
            taps.ForEach(t => t.Dispose());
            throw;
        }
    }

    /// <summary>iproute2's programs live in sbin, which a caller's PATH may lack.</summary>
    static string Tool(string name) =>
        HostCommand.Which(name) ?? new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
        ?? throw new RuntimeException($"{name} (iproute2) is not installed: the vm tier needs it to connect a guest to a network");

    static void Tc(string namespacePath, string[] args, bool ignoreErrors)
    {
        var (status, output) = HostCommand.Run("nsenter", ["--net=" + namespacePath, Tool("tc"), .. args]);
        if (status != 0 && !ignoreErrors)
            throw new RuntimeException($"tc {string.Join(' ', args)} failed in the container's network namespace: {output.Trim()}");
    }

    /// <summary>ip or tc -batch from a file (HostCommand gives the child /dev/null for stdin).</summary>
    static void Batch(string namespacePath, string program, IReadOnlyList<string> lines)
    {
        if (lines.Count == 0)
            return;
        var file = Path.Combine(Path.GetTempPath(), $"moat-{program}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        File.WriteAllText(file, string.Join('\n', lines) + "\n");
        try
        {
            var (status, output) = HostCommand.Run("nsenter", "--net=" + namespacePath, Tool(program), "-batch", file);
            if (status != 0)
                throw new RuntimeException($"{program} could not connect the guest to the container's network namespace: {output.Trim().Split('\n')[0]}");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
