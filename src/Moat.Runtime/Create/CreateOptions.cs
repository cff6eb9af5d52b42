namespace Moat.Runtime.Create;

public sealed record CreateOptions(
    string Id,
    string Bundle,
    string? PidFile = null,
    bool NoPivot = false,
    bool NoNewKeyring = false,
    int PreserveFds = 0,
    bool StartImmediately = false,
    int ListenFds = 0,
    string? ConsoleSocket = null,
    bool Foreground = false);
