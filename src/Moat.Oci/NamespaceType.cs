namespace Moat.Oci;

/// <summary>Namespace type names used in linux.namespaces, with their CLONE_* flags and /proc/[pid]/ns file names.</summary>
public static class NamespaceType
{
    public const string Pid = "pid";
    public const string Network = "network";
    public const string Mount = "mount";
    public const string Ipc = "ipc";
    public const string Uts = "uts";
    public const string User = "user";
    public const string Cgroup = "cgroup";
    public const string Time = "time";

    /// <summary>All known types, in the order a runtime usually lists them.</summary>
    public static IReadOnlyList<string> All { get; } = [Pid, Network, Mount, Ipc, Uts, User, Cgroup, Time];

    public static bool IsKnown(string type) => TryGetCloneFlag(type, out _);

    /// <summary>The CLONE_NEW* flag that creates (or, for setns, selects) the namespace.</summary>
    public static bool TryGetCloneFlag(string type, out int cloneFlag)
    {
        cloneFlag = type switch
        {
            Pid => 0x20000000,     // CLONE_NEWPID
            Network => 0x40000000, // CLONE_NEWNET
            Mount => 0x00020000,   // CLONE_NEWNS
            Ipc => 0x08000000,     // CLONE_NEWIPC
            Uts => 0x04000000,     // CLONE_NEWUTS
            User => 0x10000000,    // CLONE_NEWUSER
            Cgroup => 0x02000000,  // CLONE_NEWCGROUP
            Time => 0x00000080,    // CLONE_NEWTIME
            _ => 0,
        };
        return cloneFlag != 0;
    }

    public static int GetCloneFlag(string type) =>
        TryGetCloneFlag(type, out var flag)
            ? flag
            : throw new ArgumentException($"unknown namespace type \"{type}\"", nameof(type));

    /// <summary>The file name under /proc/[pid]/ns/ (which differs from the spec name for network and mount).</summary>
    public static bool TryGetProcFileName(string type, out string fileName)
    {
        fileName = type switch
        {
            Pid => "pid",
            Network => "net",
            Mount => "mnt",
            Ipc => "ipc",
            Uts => "uts",
            User => "user",
            Cgroup => "cgroup",
            Time => "time",
            _ => "",
        };
        return fileName.Length != 0;
    }

    public static string GetProcFileName(string type) =>
        TryGetProcFileName(type, out var fileName)
            ? fileName
            : throw new ArgumentException($"unknown namespace type \"{type}\"", nameof(type));
}
