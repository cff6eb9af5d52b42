using System.Text.Json;
using static Moat.Oci.Json.JsonWrite;

namespace Moat.Oci.Json;

/// <summary>Writes process and what it contains.</summary>
internal static class ProcessWriter
{
    public static void WriteProcess(Utf8JsonWriter w, Process process)
    {
        w.WriteStartObject();
        // terminal and noNewPrivileges are WhenWritingDefault: false is left out.
        if (process.Terminal)
        {
            w.WriteBoolean("terminal"u8, true);
        }
        Object(w, "consoleSize"u8, process.ConsoleSize, WriteConsoleSize);
        Object(w, "user"u8, process.User, WriteUser);
        Strings(w, "args"u8, process.Args);
        String(w, "commandLine"u8, process.CommandLine);
        Strings(w, "env"u8, process.Env);
        String(w, "cwd"u8, process.Cwd);
        Object(w, "capabilities"u8, process.Capabilities, WriteCapabilities);
        List(w, "rlimits"u8, process.Rlimits, WriteRlimit);
        if (process.NoNewPrivileges)
        {
            w.WriteBoolean("noNewPrivileges"u8, true);
        }
        String(w, "apparmorProfile"u8, process.ApparmorProfile);
        Number(w, "oomScoreAdj"u8, process.OomScoreAdj);
        Object(w, "scheduler"u8, process.Scheduler, WriteScheduler);
        String(w, "selinuxLabel"u8, process.SelinuxLabel);
        Object(w, "ioPriority"u8, process.IoPriority, WriteIoPriority);
        Object(w, "execCPUAffinity"u8, process.ExecCpuAffinity, WriteCpuAffinity);
        w.WriteEndObject();
    }

    private static void WriteConsoleSize(Utf8JsonWriter w, ConsoleSize size)
    {
        w.WriteStartObject();
        w.WriteNumber("height"u8, size.Height);
        w.WriteNumber("width"u8, size.Width);
        w.WriteEndObject();
    }

    private static void WriteUser(Utf8JsonWriter w, User user)
    {
        w.WriteStartObject();
        w.WriteNumber("uid"u8, user.Uid);
        w.WriteNumber("gid"u8, user.Gid);
        Number(w, "umask"u8, user.Umask);
        Numbers(w, "additionalGids"u8, user.AdditionalGids);
        String(w, "username"u8, user.Username);
        w.WriteEndObject();
    }

    private static void WriteCapabilities(Utf8JsonWriter w, LinuxCapabilities capabilities)
    {
        w.WriteStartObject();
        Strings(w, "bounding"u8, capabilities.Bounding);
        Strings(w, "effective"u8, capabilities.Effective);
        Strings(w, "inheritable"u8, capabilities.Inheritable);
        Strings(w, "permitted"u8, capabilities.Permitted);
        Strings(w, "ambient"u8, capabilities.Ambient);
        w.WriteEndObject();
    }

    private static void WriteRlimit(Utf8JsonWriter w, PosixRlimit rlimit)
    {
        w.WriteStartObject();
        String(w, "type"u8, rlimit.Type);
        w.WriteNumber("hard"u8, rlimit.Hard);
        w.WriteNumber("soft"u8, rlimit.Soft);
        w.WriteEndObject();
    }

    private static void WriteScheduler(Utf8JsonWriter w, Scheduler scheduler)
    {
        w.WriteStartObject();
        String(w, "policy"u8, scheduler.Policy);
        Number(w, "nice"u8, scheduler.Nice);
        Number(w, "priority"u8, scheduler.Priority);
        Strings(w, "flags"u8, scheduler.Flags);
        Number(w, "runtime"u8, scheduler.Runtime);
        Number(w, "deadline"u8, scheduler.Deadline);
        Number(w, "period"u8, scheduler.Period);
        w.WriteEndObject();
    }

    private static void WriteIoPriority(Utf8JsonWriter w, IoPriority priority)
    {
        w.WriteStartObject();
        String(w, "class"u8, priority.Class);
        w.WriteNumber("priority"u8, priority.Priority);
        w.WriteEndObject();
    }

    private static void WriteCpuAffinity(Utf8JsonWriter w, CpuAffinity affinity)
    {
        w.WriteStartObject();
        String(w, "initial"u8, affinity.Initial);
        String(w, "final"u8, affinity.Final);
        w.WriteEndObject();
    }
}
