namespace Moat.Engine.Names;

/// <summary>
/// Random bytes from the kernel's generator (/dev/urandom, the source getrandom(2) draws on). Not
/// RandomNumberGenerator: on Linux it loads and initialises OpenSSL (libssl, libcrypto, openssl.cnf and its
/// providers), which cost every `moat run` and `create` several milliseconds of CPU for 32 bytes of an id.
/// </summary>
public static class KernelRandom
{
    const string Device = "/dev/urandom";

    public static void Fill(Span<byte> buffer)
    {
        try
        {
            using var handle = File.OpenHandle(Device, FileMode.Open, FileAccess.Read);
            while (!buffer.IsEmpty)
            {
                var n = RandomAccess.Read(handle, buffer, 0);
                if (n <= 0)
                    throw new IOException($"{Device} returned no bytes");
                buffer = buffer[n..];
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EngineException($"cannot read random bytes from {Device} (needed for container ids and names): {Moat.Oci.ErrorText.Of(e)}", e);
        }
    }

    public static byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        Fill(bytes);
        return bytes;
    }

    /// <summary>A number in [0, <paramref name="bound"/>): 64 random bits reduced modulo the bound (a bias below 2^-50 for the small bounds names use).</summary>
    public static int Below(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        Span<byte> bytes = stackalloc byte[8];
        Fill(bytes);
        return (int)(BitConverter.ToUInt64(bytes) % (ulong)bound);
    }
}
