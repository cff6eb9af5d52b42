using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// The few libseccomp calls the seccomp compiler needs. libseccomp.so.2 is opened on first use
/// (it is not linked into the binary): only the runtime's <c>create</c> process compiles filters,
/// never the init stage, which runs after pivot_root where the host's libraries are gone.
/// Every function returns a negative errno on failure, as libseccomp does.
/// </summary>
public static unsafe partial class Libseccomp
{
    public const string LibraryName = "libseccomp.so.2";

    // Actions (seccomp.h). The low 16 bits of ERRNO and TRACE carry the data.
    public const uint SCMP_ACT_KILL_PROCESS = 0x80000000, SCMP_ACT_KILL_THREAD = 0x00000000, SCMP_ACT_TRAP = 0x00030000,
        SCMP_ACT_ERRNO = 0x00050000, SCMP_ACT_NOTIFY = 0x7fc00000, SCMP_ACT_TRACE = 0x7ff00000,
        SCMP_ACT_LOG = 0x7ffc0000, SCMP_ACT_ALLOW = 0x7fff0000;

    // enum scmp_filter_attr
    public const int SCMP_FLTATR_ACT_DEFAULT = 1, SCMP_FLTATR_ACT_BADARCH = 2, SCMP_FLTATR_CTL_NNP = 3,
        SCMP_FLTATR_CTL_TSYNC = 4, SCMP_FLTATR_API_TSKIP = 5, SCMP_FLTATR_CTL_LOG = 6, SCMP_FLTATR_CTL_SSB = 7,
        SCMP_FLTATR_CTL_OPTIMIZE = 8, SCMP_FLTATR_API_SYSRAWRC = 9;

    // enum scmp_compare
    public const int SCMP_CMP_NE = 1, SCMP_CMP_LT = 2, SCMP_CMP_LE = 3, SCMP_CMP_EQ = 4, SCMP_CMP_GE = 5,
        SCMP_CMP_GT = 6, SCMP_CMP_MASKED_EQ = 7;

    /// <summary>What seccomp_syscall_resolve_name* return for a name they do not know.</summary>
    public const int __NR_SCMP_ERROR = -1;

    /// <summary>struct scmp_arg_cmp (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ArgCmp
    {
        public uint Arg;
        public int Op;
        public ulong DatumA;
        public ulong DatumB;
    }

    /// <summary>struct scmp_version.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ScmpVersion
    {
        public uint Major, Minor, Micro;
    }

    static int availability; // 0 unknown, 1 loaded, -1 missing

    /// <summary>Whether libseccomp.so.2 can be loaded on this host (probed once).</summary>
    public static bool IsAvailable
    {
        get
        {
            if (availability == 0)
            {
                availability = NativeLibrary.TryLoad(LibraryName, typeof(Libseccomp).Assembly, null, out _) ? 1 : -1;
            }
            return availability > 0;
        }
    }

    [LibraryImport(LibraryName)]
    public static partial SeccompContext seccomp_init(uint defAction);

    [LibraryImport(LibraryName)]
    internal static partial void seccomp_release(nint ctx);

    [LibraryImport(LibraryName)]
    public static partial uint seccomp_api_get();

    [LibraryImport(LibraryName)]
    public static partial ScmpVersion* seccomp_version();

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint seccomp_arch_resolve_name(string name);

    [LibraryImport(LibraryName)]
    public static partial uint seccomp_arch_native();

    [LibraryImport(LibraryName)]
    public static partial int seccomp_arch_add(SeccompContext ctx, uint archToken);

    [LibraryImport(LibraryName)]
    public static partial int seccomp_attr_set(SeccompContext ctx, int attr, uint value);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int seccomp_syscall_resolve_name(string name);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int seccomp_syscall_resolve_name_arch(uint archToken, string name);

    [LibraryImport(LibraryName)]
    private static partial byte* seccomp_syscall_resolve_num_arch(uint archToken, int num);

    /// <summary>The name libseccomp gives system call <paramref name="number"/> of an architecture, or null if it has none.</summary>
    public static string? SyscallName(uint archToken, int number)
    {
        var name = seccomp_syscall_resolve_num_arch(archToken, number);
        if (name == null)
            return null;
        try
        {
            return Marshal.PtrToStringUTF8((nint)name);
        }
        finally
        {
            NativeMemory.Free(name); // libseccomp returns a strdup'd string
        }
    }

    [LibraryImport(LibraryName)]
    public static partial int seccomp_rule_add_array(SeccompContext ctx, uint action, int syscall, uint argCount, ArgCmp* args);

    [LibraryImport(LibraryName)]
    public static partial int seccomp_export_bpf(SeccompContext ctx, int fd);

    [LibraryImport(LibraryName)]
    public static partial int seccomp_export_pfc(SeccompContext ctx, int fd);

    /// <summary>"2.5.4": the version of the loaded library.</summary>
    public static string Version
    {
        get
        {
            var v = seccomp_version();
            return v == null ? "unknown" : $"{v->Major}.{v->Minor}.{v->Micro}";
        }
    }
}

/// <summary>A libseccomp filter context (scmp_filter_ctx), released exactly once.</summary>
public sealed class SeccompContext : SafeHandle
{
    public SeccompContext() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        Libseccomp.seccomp_release(handle);
        return true;
    }
}
