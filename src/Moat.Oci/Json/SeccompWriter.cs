using System.Text.Json;
using static Moat.Oci.Json.JsonWrite;

namespace Moat.Oci.Json;

/// <summary>Writes linux.seccomp.</summary>
internal static class SeccompWriter
{
    public static void WriteSeccomp(Utf8JsonWriter w, LinuxSeccomp seccomp)
    {
        w.WriteStartObject();
        String(w, "defaultAction"u8, seccomp.DefaultAction);
        Number(w, "defaultErrnoRet"u8, seccomp.DefaultErrnoRet);
        Strings(w, "architectures"u8, seccomp.Architectures);
        Strings(w, "flags"u8, seccomp.Flags);
        String(w, "listenerPath"u8, seccomp.ListenerPath);
        String(w, "listenerMetadata"u8, seccomp.ListenerMetadata);
        List(w, "syscalls"u8, seccomp.Syscalls, WriteSyscall);
        w.WriteEndObject();
    }

    private static void WriteSyscall(Utf8JsonWriter w, LinuxSyscall syscall)
    {
        w.WriteStartObject();
        Strings(w, "names"u8, syscall.Names);
        String(w, "action"u8, syscall.Action);
        Number(w, "errnoRet"u8, syscall.ErrnoRet);
        List(w, "args"u8, syscall.Args, WriteArg);
        w.WriteEndObject();
    }

    private static void WriteArg(Utf8JsonWriter w, LinuxSeccompArg arg)
    {
        w.WriteStartObject();
        w.WriteNumber("index"u8, arg.Index);
        w.WriteNumber("value"u8, arg.Value);
        // WhenWritingDefault: only SCMP_CMP_MASKED_EQ needs it.
        if (arg.ValueTwo != 0)
        {
            w.WriteNumber("valueTwo"u8, arg.ValueTwo);
        }
        String(w, "op"u8, arg.Op);
        w.WriteEndObject();
    }
}
