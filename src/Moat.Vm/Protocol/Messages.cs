namespace Moat.Vm.Protocol;

/// <summary>The typed payloads of the frames that carry more than raw bytes (one record per frame type).</summary>
public sealed record Hello(uint Version, string Software)
{
    public byte[] Encode() => new PayloadWriter().U32(Version).String(Software).ToArray();

    public static Hello Decode(byte[] payload)
    {
        var r = new PayloadReader(payload);
        return new Hello(r.U32(), r.String());
    }
}

/// <summary>Create (config.json) and Exec (a process JSON) share one shape: the document, and the terminal wanted.</summary>
public sealed record ProcessRequest(byte[] Json, bool Terminal, ushort Rows, ushort Columns)
{
    public byte[] Encode() => new PayloadWriter().Bytes(Json).U8(Terminal ? (byte)1 : (byte)0).U16(Rows).U16(Columns).ToArray();

    public static ProcessRequest Decode(byte[] payload)
    {
        var r = new PayloadReader(payload);
        return new ProcessRequest(r.Bytes(), r.U8() != 0, r.U16(), r.U16());
    }
}

public sealed record WindowSize(ushort Rows, ushort Columns)
{
    public byte[] Encode() => new PayloadWriter().U16(Rows).U16(Columns).ToArray();

    public static WindowSize Decode(byte[] payload)
    {
        var r = new PayloadReader(payload);
        return new WindowSize(r.U16(), r.U16());
    }
}

public sealed record SignalRequest(uint Target, int Signal, bool All)
{
    public byte[] Encode() => new PayloadWriter().U32(Target).I32(Signal).U8(All ? (byte)1 : (byte)0).ToArray();

    public static SignalRequest Decode(byte[] payload)
    {
        var r = new PayloadReader(payload);
        return new SignalRequest(r.U32(), r.I32(), r.U8() != 0);
    }
}

public sealed record ExitStatus(int Status)
{
    public byte[] Encode() => new PayloadWriter().I32(Status).ToArray();

    public static ExitStatus Decode(byte[] payload) => new(new PayloadReader(payload).I32());
}

public sealed record Reply(bool Ok, string Message, int Value = 0)
{
    public byte[] Encode() => new PayloadWriter().U8(Ok ? (byte)1 : (byte)0).String(Message).I32(Value).ToArray();

    public static Reply Decode(byte[] payload)
    {
        var r = new PayloadReader(payload);
        return new Reply(r.U8() != 0, r.String(), r.I32());
    }

    public static Reply Success(int value = 0) => new(true, "", value);

    public static Reply Failure(string message) => new(false, message);
}

/// <summary>A route of a guest interface: "default" or a prefix, through a gateway or directly on the link ("").</summary>
public sealed record GuestRoute(string Destination, string Gateway);

/// <summary>One network interface of the container, as its veth has it on the host side: the guest's NIC gets the same.</summary>
public sealed record GuestInterface(string Name, string Mac, uint Mtu, IReadOnlyList<string> Addresses, IReadOnlyList<GuestRoute> Routes);

public sealed record NetworkRequest(IReadOnlyList<GuestInterface> Interfaces)
{
    public byte[] Encode()
    {
        var w = new PayloadWriter().U16((ushort)Interfaces.Count);
        foreach (var i in Interfaces)
        {
            w.String(i.Name).String(i.Mac).U32(i.Mtu).U16((ushort)i.Addresses.Count);
            foreach (var a in i.Addresses)
                w.String(a);
            w.U16((ushort)i.Routes.Count);
            foreach (var r in i.Routes)
                w.String(r.Destination).String(r.Gateway);
        }
        return w.ToArray();
    }

    public static NetworkRequest Decode(byte[] payload)
    {
        var r = new PayloadReader(payload);
        var interfaces = new List<GuestInterface>();
        for (int i = 0, count = r.U16(); i < count; i++)
        {
            var (name, mac, mtu) = (r.String(), r.String(), r.U32());
            var addresses = new List<string>();
            for (int a = 0, n = r.U16(); a < n; a++)
                addresses.Add(r.String());
            var routes = new List<GuestRoute>();
            for (int a = 0, n = r.U16(); a < n; a++)
                routes.Add(new GuestRoute(r.String(), r.String()));
            interfaces.Add(new GuestInterface(name, mac, mtu, addresses, routes));
        }
        return new NetworkRequest(interfaces);
    }
}
