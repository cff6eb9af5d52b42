using System.Diagnostics;
using Moat.Engine.Run.Flags;
using Xunit;

namespace Moat.Tests.Unit.RunFlags;

/// <summary>UserNamespaces.InUseOnHost: the host ranges that live processes' user namespaces map.</summary>
public sealed class UserNamespacesOnHostTests
{
    /// <summary>A process in a user namespace of its own (its map written from here) has its range reported, once.</summary>
    [Fact]
    public void AProcessInItsOwnUserNamespaceHoldsItsRange()
    {
        if (geteuid() != 0 || !File.Exists("/usr/bin/unshare"))
            return; // writing another namespace's uid_map needs root
        var start = new ProcessStartInfo("/usr/bin/unshare") { RedirectStandardInput = true };
        foreach (var arg in (string[])["--user", "/bin/sh", "-c", "read line"])
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        try
        {
            // unshare execs sh in the new namespace: once its ns/user differs from ours, the map can be written.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (ReadLink($"/proc/{process.Id}/ns/user") == ReadLink("/proc/self/ns/user"))
            {
                Assert.True(DateTime.UtcNow < deadline, "the process never entered a user namespace of its own");
                Thread.Sleep(5);
            }
            File.WriteAllText($"/proc/{process.Id}/uid_map", "0 3100000 777\n");
            var ranges = UserNamespaces.InUseOnHost();
            Assert.Single(ranges, r => r == new UserNamespaces.Range(3100000, 777));
            Assert.DoesNotContain(ranges, r => r.Length == uint.MaxValue);
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    static string? ReadLink(string path) => new FileInfo(path).LinkTarget;

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern uint geteuid();
}
