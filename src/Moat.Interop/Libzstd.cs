using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// Streaming decompression (and one-shot compression, for tests and tools) through the system's libzstd.so.1
/// (Debian's libzstd1): no NuGet package fits NativeAOT without bundling a second copy of the library.
/// </summary>
public static unsafe partial class Libzstd
{
    const string Library = "libzstd.so.1";

    [StructLayout(LayoutKind.Sequential)]
    public struct InBuffer
    {
        public byte* Source;
        public nuint Size, Position;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct OutBuffer
    {
        public byte* Destination;
        public nuint Size, Position;
    }

    [LibraryImport(Library)]
    public static partial nint ZSTD_createDStream();

    [LibraryImport(Library)]
    public static partial nuint ZSTD_freeDStream(nint stream);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_initDStream(nint stream);

    /// <summary>Returns 0 when a frame is complete and flushed, a hint (&gt; 0) while more input is expected, or an error code.</summary>
    [LibraryImport(Library)]
    public static partial nuint ZSTD_decompressStream(nint stream, OutBuffer* output, InBuffer* input);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_DStreamInSize();

    [LibraryImport(Library)]
    public static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Library)]
    private static partial byte* ZSTD_getErrorName(nuint code);

    [LibraryImport(Library)]
    private static partial nuint ZSTD_compressBound(nuint size);

    [LibraryImport(Library)]
    private static partial nuint ZSTD_compress(byte* destination, nuint capacity, byte* source, nuint size, int level);

    public static bool IsError(nuint code) => ZSTD_isError(code) != 0;

    public static string ErrorName(nuint code) => Marshal.PtrToStringUTF8((nint)ZSTD_getErrorName(code)) ?? "unknown zstd error";

    /// <summary>One zstd frame holding all of data.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> data, int level = 3)
    {
        var output = new byte[ZSTD_compressBound((nuint)data.Length)];
        nuint written;
        fixed (byte* pi = data, po = output)
            written = ZSTD_compress(po, (nuint)output.Length, pi, (nuint)data.Length, level);
        if (IsError(written))
            throw new InvalidOperationException($"zstd compression failed: {ErrorName(written)}");
        return output.AsSpan(0, (int)written).ToArray();
    }
}

/// <summary>A ZSTD_DStream, freed exactly once.</summary>
public sealed class ZstdDecompressionContext : SafeHandle
{
    public ZstdDecompressionContext() : base(0, true)
    {
        SetHandle(Libzstd.ZSTD_createDStream());
        if (handle == 0)
            throw new OutOfMemoryException("libzstd could not allocate a decompression stream");
        var code = Libzstd.ZSTD_initDStream(handle);
        if (Libzstd.IsError(code))
            throw new InvalidOperationException($"zstd: {Libzstd.ErrorName(code)}");
    }

    public nint Stream => handle;
    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle()
    {
        Libzstd.ZSTD_freeDStream(handle);
        return true;
    }
}
