using Moat.Runtime;
using Moat.Runtime.Seccomp;
using Xunit;
using static Moat.Tests.Unit.Seccomp.SeccompKit;

namespace Moat.Tests.Unit.Seccomp;

public sealed class SeccompCacheTests : IDisposable
{
    readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("moat-seccomp-cache-");
    string CacheDir => Path.Combine(dir.FullName, "cache");

    public void Dispose() => dir.Delete(recursive: true);

    [Fact]
    public void MissCompilesAndStores()
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read", "moat_no_such_syscall"));

        var first = SeccompCache.GetOrCompile(profile, CacheDir);

        var entry = Assert.Single(Directory.GetFiles(CacheDir));
        Assert.Equal(SeccompCache.EntryName(profile), Path.GetFileName(entry));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(CacheDir));
        var second = SeccompCache.GetOrCompile(profile, CacheDir);
        Assert.Equal(first.Program, second.Program);
        Assert.Equal(first.Flags, second.Flags);
        Assert.Equal(first.EnosysStubLength, second.EnosysStubLength);
        Assert.Equal(first.ArchitectureTokens, second.ArchitectureTokens);
        Assert.Equal(new[] { "moat_no_such_syscall" }, second.SkippedSyscalls);
        Assert.Equal(SeccompCompiler.Compile(profile).Program, second.Program);
    }

    [Fact]
    public void HitDoesNotCompileAgain()
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"));
        SeccompCache.GetOrCompile(profile, CacheDir);
        var entry = Assert.Single(Directory.GetFiles(CacheDir));
        // Doctor the entry: a hit returns what is stored.
        File.WriteAllText(entry, File.ReadAllText(entry).Replace("\"flags\":0", "\"flags\":2"));

        Assert.Equal(2u, SeccompCache.GetOrCompile(profile, CacheDir).Flags);
    }

    [Fact]
    public void EntryOfAnotherLibraryFileIsAMiss()
    {
        // A hit does not load libseccomp: it checks that the library file the entry names is
        // unchanged. A replaced library (same path, other size or time) is compiled for again.
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"));
        SeccompCache.GetOrCompile(profile, CacheDir);
        var entry = Assert.Single(Directory.GetFiles(CacheDir));
        var document = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(entry))!;
        var library = document["library"]!.GetValue<string>().Split(' ', 4);
        Assert.True(File.Exists(library[3]), $"the entry names the library file: {string.Join(' ', library)}");
        document["library"] = $"{long.Parse(library[0]) + 1} {library[1]} {library[2]} {library[3]}";
        document["filter"]!["flags"] = 2;
        File.WriteAllText(entry, document.ToJsonString());

        Assert.Equal(0u, SeccompCache.GetOrCompile(profile, CacheDir).Flags);
    }

    [Fact]
    public void WhatDecidesWhichLibraryLoadsIsPartOfTheKey()
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"));
        var before = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
        var name = SeccompCache.EntryName(profile);
        try
        {
            Environment.SetEnvironmentVariable("LD_LIBRARY_PATH", "/moat-test-no-such-directory");
            Assert.NotEqual(name, SeccompCache.EntryName(profile));
        }
        finally
        {
            Environment.SetEnvironmentVariable("LD_LIBRARY_PATH", before);
        }
        Assert.Equal(name, SeccompCache.EntryName(profile));
    }

    [Fact]
    public void DamagedEntryIsCompiledAgain()
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"));
        var good = SeccompCache.GetOrCompile(profile, CacheDir);
        var entry = Assert.Single(Directory.GetFiles(CacheDir));
        File.WriteAllText(entry, "{\"key\":\"x\",\"filter\":{\"program\":\"AAAA\"");

        Assert.Equal(good.Program, SeccompCache.GetOrCompile(profile, CacheDir).Program);
        Assert.Equal(good.Program, SeccompCache.GetOrCompile(profile, CacheDir).Program);
    }

    [Fact]
    public void DifferentProfilesHaveDifferentEntries()
    {
        var a = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"));
        var b = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "write"));
        var c = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"));
        c.DefaultErrnoRet = 1;

        Assert.NotEqual(SeccompCache.EntryName(a), SeccompCache.EntryName(b));
        Assert.NotEqual(SeccompCache.EntryName(a), SeccompCache.EntryName(c));
        Assert.Equal(SeccompCache.EntryName(a), SeccompCache.EntryName(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"))));
    }

    [Fact]
    public void EntryForAnotherKeyIsAMiss()
    {
        // Two profiles sharing a file name (a hash collision) must not get each other's filter.
        var read = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"));
        var write = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "write"));
        SeccompCache.GetOrCompile(write, CacheDir);
        File.Move(Path.Combine(CacheDir, SeccompCache.EntryName(write)), Path.Combine(CacheDir, SeccompCache.EntryName(read)));

        var filter = SeccompCache.GetOrCompile(read, CacheDir);

        Assert.Equal(SeccompCompiler.Compile(read).Program, filter.Program);
    }

    [Fact]
    public void ErrorsAreNotCached()
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_FOO", "read"));

        Assert.Throws<RuntimeException>(() => SeccompCache.GetOrCompile(profile, CacheDir));
        Assert.False(Directory.Exists(CacheDir) && Directory.GetFiles(CacheDir).Length > 0);
    }

    [Fact]
    public void UnwritableDirectoryStillCompiles()
    {
        var file = Path.Combine(dir.FullName, "not-a-directory");
        File.WriteAllText(file, "");
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"));

        Assert.NotEmpty(SeccompCache.GetOrCompile(profile, file).Program);
    }
}
