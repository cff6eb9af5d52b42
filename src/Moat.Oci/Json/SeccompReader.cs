using System.Text.Json;
using static Moat.Oci.Json.JsonRead;

namespace Moat.Oci.Json;

/// <summary>Reads linux.seccomp, the largest part of most real configs.</summary>
internal static class SeccompReader
{
    public static LinuxSeccomp ReadSeccomp(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var seccomp = new LinuxSeccomp();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "defaultAction"u8, "defaultAction")) seccomp.DefaultAction = String(ref r, c);
            else if (c.Is(ref r, "defaultErrnoRet"u8, "defaultErrnoRet")) seccomp.DefaultErrnoRet = NullableUInt32(ref r, c);
            else if (c.Is(ref r, "architectures"u8, "architectures")) seccomp.Architectures = NullableList(ref r, c, String);
            else if (c.Is(ref r, "flags"u8, "flags")) seccomp.Flags = NullableList(ref r, c, String);
            else if (c.Is(ref r, "listenerPath"u8, "listenerPath")) seccomp.ListenerPath = NullableString(ref r, c);
            else if (c.Is(ref r, "listenerMetadata"u8, "listenerMetadata")) seccomp.ListenerMetadata = NullableString(ref r, c);
            else if (c.Is(ref r, "syscalls"u8, "syscalls")) seccomp.Syscalls = NullableList(ref r, c, ReadSyscall);
            else c.SkipUnknown(ref r);
        }
        return seccomp;
    }

    private static LinuxSyscall ReadSyscall(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var syscall = new LinuxSyscall();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "names"u8, "names")) syscall.Names = List(ref r, c, String);
            else if (c.Is(ref r, "action"u8, "action")) syscall.Action = String(ref r, c);
            else if (c.Is(ref r, "errnoRet"u8, "errnoRet")) syscall.ErrnoRet = NullableUInt32(ref r, c);
            else if (c.Is(ref r, "args"u8, "args")) syscall.Args = NullableList(ref r, c, ReadArg);
            else c.SkipUnknown(ref r);
        }
        return syscall;
    }

    private static LinuxSeccompArg ReadArg(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var arg = new LinuxSeccompArg();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "index"u8, "index")) arg.Index = UInt32(ref r, c);
            else if (c.Is(ref r, "value"u8, "value")) arg.Value = UInt64(ref r, c);
            else if (c.Is(ref r, "valueTwo"u8, "valueTwo")) arg.ValueTwo = UInt64(ref r, c);
            else if (c.Is(ref r, "op"u8, "op")) arg.Op = String(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return arg;
    }
}
