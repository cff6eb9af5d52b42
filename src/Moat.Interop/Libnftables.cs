using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// Debian's libnftables (the library under the `nft` command): a ruleset script in nft's own syntax goes
/// to the kernel as one netlink batch, all or nothing. Opened on first use, as libseccomp is, so a host
/// without it fails with a sentence when a network is made, not when `moat` starts.
/// </summary>
public static unsafe partial class Libnftables
{
    public const string LibraryName = "libnftables.so.1";

    [LibraryImport(LibraryName)]
    private static partial nint nft_ctx_new(uint flags);

    [LibraryImport(LibraryName)]
    private static partial void nft_ctx_free(nint ctx);

    [LibraryImport(LibraryName)]
    private static partial int nft_ctx_buffer_output(nint ctx);

    [LibraryImport(LibraryName)]
    private static partial int nft_ctx_buffer_error(nint ctx);

    [LibraryImport(LibraryName)]
    private static partial nint nft_ctx_get_output_buffer(nint ctx);

    [LibraryImport(LibraryName)]
    private static partial nint nft_ctx_get_error_buffer(nint ctx);

    [LibraryImport(LibraryName)]
    private static partial void nft_ctx_output_set_flags(nint ctx, uint flags);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int nft_run_cmd_from_buffer(nint ctx, string buffer);

    /// <summary>NFT_CTX_OUTPUT_JSON: listings come back as nft's JSON.</summary>
    public const uint OutputJson = 1 << 4;

    static int availability; // 0 unknown, 1 loaded, -1 missing

    public static bool IsAvailable
    {
        get
        {
            if (availability == 0)
                availability = NativeLibrary.TryLoad(LibraryName, typeof(Libnftables).Assembly, null, out _) ? 1 : -1;
            return availability > 0;
        }
    }

    /// <summary>
    /// Runs <paramref name="script"/> (nft syntax; every command in it is one transaction) in the calling
    /// thread's network namespace. Returns what nft printed; throws <see cref="InvalidOperationException"/>
    /// with nft's own error text when the kernel or the parser refused it.
    /// </summary>
    public static string Run(string script, uint outputFlags = 0)
    {
        var ctx = nft_ctx_new(0);
        if (ctx == 0)
            throw new InvalidOperationException("nft_ctx_new failed");
        try
        {
            nft_ctx_buffer_output(ctx);
            nft_ctx_buffer_error(ctx);
            if (outputFlags != 0)
                nft_ctx_output_set_flags(ctx, outputFlags);
            var status = nft_run_cmd_from_buffer(ctx, script);
            var output = Marshal.PtrToStringUTF8(nft_ctx_get_output_buffer(ctx)) ?? "";
            if (status != 0)
            {
                var error = Marshal.PtrToStringUTF8(nft_ctx_get_error_buffer(ctx)) ?? "";
                throw new InvalidOperationException(error.Trim().Length > 0 ? error.Trim() : $"nft failed with status {status}");
            }
            return output;
        }
        finally
        {
            nft_ctx_free(ctx);
        }
    }
}
