using Moat.Audit.Seccomp;

namespace Moat.Cli.Checks;

/// <summary>`run --seccomp-record FILE`'s end: the recording made beside the container becomes the profile (as `seccomp generate` writes it).</summary>
public static class SeccompRecordOutput
{
    /// <summary>How long the recorder may still be busy after the container's init exited (processes it left behind, the hang-up).</summary>
    static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    public static void Write(RecordingSession session, string path, int exitCode, Action<string> say, Action<string> warn)
    {
        var recording = session.Finish(Settle);
        if (recording.Unnamed.Count > 0)
            warn($"calls libseccomp has no name for (not in the profile): {string.Join(", ", recording.Unnamed)}");
        var profile = ProfileGenerator.Generate(recording, session.Architectures);
        ProfileFile.Write(path, profile);
        var families = recording.SocketFamilies.Count == 0 ? "none" : string.Join(", ", recording.SocketFamilies.Select(Commands.SeccompGenerateCommand.SocketFamilyName));
        var clone = !recording.Names.Contains("clone") ? "never called"
            : recording.CloneFlags.Any(f => (f & ProfileGenerator.NamespaceFlags) != 0) ? "allowed (the program made namespaces)" : "allowed without namespace flags";
        say($"recorded {recording.Count} calls, {recording.Names.Count} distinct; the container exited {exitCode}");
        say($"wrote {path}: {profile.Syscalls![0].Names.Count} calls allowed, clone {clone}, socket families: {families}; everything else fails with EPERM");
        if (exitCode != 0)
            warn("the container did not exit 0: the profile holds only what this run reached");
    }
}
