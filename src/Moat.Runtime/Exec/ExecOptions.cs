using Moat.Oci;

namespace Moat.Runtime.Exec;

public sealed record ExecOptions(
    string Id,
    Process Process,
    string? PidFile = null,
    int PreserveFds = 0,
    bool IgnorePaused = false,
    string? ConsoleSocket = null,
    bool Foreground = false);
