using System.Text.Json;
using static Moat.Oci.Json.JsonRead;

namespace Moat.Oci.Json;

/// <summary>Reads process (config.json's, or a whole `exec --process` file) and what it contains.</summary>
internal static class ProcessReader
{
    public static Process ReadProcess(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var process = new Process();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "terminal"u8, "terminal")) process.Terminal = Bool(ref r, c);
            else if (c.Is(ref r, "consoleSize"u8, "consoleSize")) process.ConsoleSize = NullableObject(ref r, c, ReadConsoleSize);
            else if (c.Is(ref r, "user"u8, "user")) process.User = Object(ref r, c, ReadUser);
            else if (c.Is(ref r, "args"u8, "args")) process.Args = NullableList(ref r, c, String);
            else if (c.Is(ref r, "commandLine"u8, "commandLine")) process.CommandLine = NullableString(ref r, c);
            else if (c.Is(ref r, "env"u8, "env")) process.Env = NullableList(ref r, c, String);
            else if (c.Is(ref r, "cwd"u8, "cwd")) process.Cwd = String(ref r, c);
            else if (c.Is(ref r, "capabilities"u8, "capabilities")) process.Capabilities = NullableObject(ref r, c, ReadCapabilities);
            else if (c.Is(ref r, "rlimits"u8, "rlimits")) process.Rlimits = NullableList(ref r, c, ReadRlimit);
            else if (c.Is(ref r, "noNewPrivileges"u8, "noNewPrivileges")) process.NoNewPrivileges = Bool(ref r, c);
            else if (c.Is(ref r, "apparmorProfile"u8, "apparmorProfile")) process.ApparmorProfile = NullableString(ref r, c);
            else if (c.Is(ref r, "oomScoreAdj"u8, "oomScoreAdj")) process.OomScoreAdj = NullableInt32(ref r, c);
            else if (c.Is(ref r, "scheduler"u8, "scheduler")) process.Scheduler = NullableObject(ref r, c, ReadScheduler);
            else if (c.Is(ref r, "selinuxLabel"u8, "selinuxLabel")) process.SelinuxLabel = NullableString(ref r, c);
            else if (c.Is(ref r, "ioPriority"u8, "ioPriority")) process.IoPriority = NullableObject(ref r, c, ReadIoPriority);
            else if (c.Is(ref r, "execCPUAffinity"u8, "execCPUAffinity")) process.ExecCpuAffinity = NullableObject(ref r, c, ReadCpuAffinity);
            else c.SkipUnknown(ref r);
        }
        return process;
    }

    private static ConsoleSize ReadConsoleSize(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var size = new ConsoleSize();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "height"u8, "height")) size.Height = UInt64(ref r, c);
            else if (c.Is(ref r, "width"u8, "width")) size.Width = UInt64(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return size;
    }

    private static User ReadUser(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var user = new User();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "uid"u8, "uid")) user.Uid = UInt32(ref r, c);
            else if (c.Is(ref r, "gid"u8, "gid")) user.Gid = UInt32(ref r, c);
            else if (c.Is(ref r, "umask"u8, "umask")) user.Umask = NullableUInt32(ref r, c);
            else if (c.Is(ref r, "additionalGids"u8, "additionalGids")) user.AdditionalGids = NullableList(ref r, c, UInt32);
            else if (c.Is(ref r, "username"u8, "username")) user.Username = NullableString(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return user;
    }

    private static LinuxCapabilities ReadCapabilities(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var capabilities = new LinuxCapabilities();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "bounding"u8, "bounding")) capabilities.Bounding = NullableList(ref r, c, String);
            else if (c.Is(ref r, "effective"u8, "effective")) capabilities.Effective = NullableList(ref r, c, String);
            else if (c.Is(ref r, "inheritable"u8, "inheritable")) capabilities.Inheritable = NullableList(ref r, c, String);
            else if (c.Is(ref r, "permitted"u8, "permitted")) capabilities.Permitted = NullableList(ref r, c, String);
            else if (c.Is(ref r, "ambient"u8, "ambient")) capabilities.Ambient = NullableList(ref r, c, String);
            else c.SkipUnknown(ref r);
        }
        return capabilities;
    }

    private static PosixRlimit ReadRlimit(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var rlimit = new PosixRlimit();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "type"u8, "type")) rlimit.Type = String(ref r, c);
            else if (c.Is(ref r, "hard"u8, "hard")) rlimit.Hard = UInt64(ref r, c);
            else if (c.Is(ref r, "soft"u8, "soft")) rlimit.Soft = UInt64(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return rlimit;
    }

    private static Scheduler ReadScheduler(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var scheduler = new Scheduler();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "policy"u8, "policy")) scheduler.Policy = String(ref r, c);
            else if (c.Is(ref r, "nice"u8, "nice")) scheduler.Nice = NullableInt32(ref r, c);
            else if (c.Is(ref r, "priority"u8, "priority")) scheduler.Priority = NullableInt32(ref r, c);
            else if (c.Is(ref r, "flags"u8, "flags")) scheduler.Flags = NullableList(ref r, c, String);
            else if (c.Is(ref r, "runtime"u8, "runtime")) scheduler.Runtime = NullableUInt64(ref r, c);
            else if (c.Is(ref r, "deadline"u8, "deadline")) scheduler.Deadline = NullableUInt64(ref r, c);
            else if (c.Is(ref r, "period"u8, "period")) scheduler.Period = NullableUInt64(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return scheduler;
    }

    private static IoPriority ReadIoPriority(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var priority = new IoPriority();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "class"u8, "class")) priority.Class = String(ref r, c);
            else if (c.Is(ref r, "priority"u8, "priority")) priority.Priority = Int32(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return priority;
    }

    private static CpuAffinity ReadCpuAffinity(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var affinity = new CpuAffinity();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "initial"u8, "initial")) affinity.Initial = NullableString(ref r, c);
            else if (c.Is(ref r, "final"u8, "final")) affinity.Final = NullableString(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return affinity;
    }
}
