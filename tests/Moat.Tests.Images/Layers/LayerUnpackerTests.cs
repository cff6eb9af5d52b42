using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Moat.Images.Layers;
using Moat.Images.Model;
using Moat.Interop;

namespace Moat.Tests.Images.Layers;

public class LayerUnpackerTests
{
    static readonly bool IsRoot = Libc.geteuid() == 0;

    internal static UnpackResult Unpack(byte[] tar, string target, UnpackOptions? options = null, LayerCompression compression = LayerCompression.None) =>
        LayerUnpacker.Unpack(new MemoryStream(tar), compression, target, options ?? new UnpackOptions());

    static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(data);
        return output.ToArray();
    }

    [Fact]
    public void PlainTarUnpacksFilesDirectoriesLinksModesOwnersAndTimes()
    {
        using var box = new Sandbox();
        var tar = new TarBuilder()
            .Directory("etc/", mode: 0b111_101_101, mtime: 1_600_000_000)
            .File("etc/hostname", "box\n", mode: 0b110_100_000, uid: 12, gid: 34)
            .Symlink("etc/localtime", "/usr/share/zoneinfo/UTC")
            .HardLink("etc/hostname2", "etc/hostname")
            .File("a/" + new string('n', 150), "long name\n", pax: [("mtime", "1700000000.123456789"u8.ToArray())])
            .Build();
        var result = Unpack(tar, box.Target);

        Assert.Equal(Digest.Sha256(tar), result.DiffId);
        Assert.Equal(tar.Length, result.UncompressedSize);
        Assert.Equal(5, result.Entries);
        Assert.Equal("box\n", File.ReadAllText(box.In("etc/hostname")));
        var (mode, uid, gid) = Libc.LStat(box.In("etc/hostname"));
        Assert.Equal(Libc.S_IFREG | 0b110_100_000u, mode);
        Assert.Equal((12u, 34u), (uid, gid));
        Assert.Equal("/usr/share/zoneinfo/UTC", new FileInfo(box.In("etc/localtime")).LinkTarget);
        using (var dir = Libc.Open(box.In("etc"), Libc.O_PATH))
        {
            var hostname = Libc.TryStatAt(dir.Fd, "hostname")!.Value;
            var linked = Libc.TryStatAt(dir.Fd, "hostname2")!.Value;
            Assert.Equal(hostname.Inode, linked.Inode);
            Assert.Equal(2u, hostname.LinkCount);
        }
        // Directory times are set after their members, nanoseconds come from pax.
        Assert.Equal(1_600_000_000, new DateTimeOffset(Directory.GetLastWriteTimeUtc(box.In("etc"))).ToUnixTimeSeconds());
        using (var a = Libc.Open(box.In("a"), Libc.O_PATH))
        {
            var status = Libc.TryStatAt(a.Fd, new string('n', 150))!.Value;
            Assert.Equal((1_700_000_000L, 123_456_789u), (status.ModifySeconds, status.ModifyNanoseconds));
        }
        box.AssertOutsideUntouched();
    }

    [Fact]
    public void GzipAndZstdGiveTheDiffIdOfTheUncompressedTar()
    {
        using var box = new Sandbox();
        var payload = RandomNumberGenerator.GetBytes(300_000);
        var tar = new TarBuilder().Directory("d/").FileBytes("d/random", payload).File("d/text", "hello\n").Build();
        var expected = Convert.ToHexStringLower(SHA256.HashData(tar));

        var gz = Unpack(Gzip(tar), Path.Combine(box.Target, "gz"), compression: LayerCompression.Gzip);
        Assert.Equal("sha256:" + expected, gz.DiffId.ToString());
        Assert.Equal(payload, File.ReadAllBytes(Path.Combine(box.Target, "gz/d/random")));

        var tarPath = Path.Combine(box.Root, "layer.tar");
        File.WriteAllBytes(tarPath, tar);
        Run("zstd", "-q", "-f", "-3", tarPath, "-o", tarPath + ".zst");
        var zst = LayerUnpacker.Unpack(tarPath + ".zst", LayerCompression.Zstd, Path.Combine(box.Target, "zst"), new UnpackOptions());
        Assert.Equal("sha256:" + expected, zst.DiffId.ToString());
        Assert.Equal(payload, File.ReadAllBytes(Path.Combine(box.Target, "zst/d/random")));

        // Several frames back to back (zstd's --long chunks, pigz-like writers) are one stream.
        var frames = Libzstd.Compress(tar.AsSpan(0, 10240)).Concat(Libzstd.Compress(tar.AsSpan(10240))).ToArray();
        var multi = Unpack(frames, Path.Combine(box.Target, "multi"), compression: LayerCompression.Zstd);
        Assert.Equal("sha256:" + expected, multi.DiffId.ToString());
    }

    [Fact]
    public void TruncatedGzipZstdAndTarFailClearlyAndLeaveTheTargetRemovable()
    {
        using var box = new Sandbox();
        var tar = new TarBuilder().Directory("d/", mode: 0b101_101_101).FileBytes("d/random", RandomNumberGenerator.GetBytes(200_000)).Build();
        var cases = new (string Name, byte[] Data, LayerCompression Compression)[]
        {
            ("gzip", Gzip(tar)[..60_000], LayerCompression.Gzip),
            ("zstd", Libzstd.Compress(tar)[..60_000], LayerCompression.Zstd),
            ("tar", tar[..100_000], LayerCompression.None),
        };
        foreach (var (name, data, compression) in cases)
        {
            var target = Path.Combine(box.Target, name);
            var error = Assert.Throws<LayerUnpackException>(() => Unpack(data, target, compression: compression));
            Assert.Contains("truncated", error.Message);
            TreeRemoval.Remove(target);
            Assert.False(Directory.Exists(target));
        }
        // Garbage is not a gzip stream.
        var garbage = Assert.Throws<LayerUnpackException>(() => Unpack(Encoding.ASCII.GetBytes(new string('x', 4096)), Path.Combine(box.Target, "garbage"), compression: LayerCompression.Gzip));
        Assert.Contains("corrupt", garbage.Message);
    }

    [Fact]
    public void AnArchiveLargerThanMaxBytesIsStopped()
    {
        using var box = new Sandbox();
        var tar = new TarBuilder().FileBytes("zeros", new byte[8 << 20]).Build();
        var bomb = Gzip(tar);
        Assert.True(bomb.Length < 100_000);
        var error = Assert.Throws<LayerUnpackException>(() => Unpack(bomb, box.Target, new UnpackOptions { MaxBytes = 1 << 20 }, LayerCompression.Gzip));
        Assert.Contains("limit of 1048576 bytes", error.Message);
        Assert.True(new FileInfo(box.In("zeros")).Length <= 1 << 20);
        TreeRemoval.Remove(box.Target);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("./../outside/passwd")]
    public void DotDotMembersAreRefused(string name)
    {
        using var box = new Sandbox();
        var tar = new TarBuilder().File(name, "pwned\n").Build();
        var error = Assert.Throws<LayerUnpackException>(() => Unpack(tar, box.Target));
        Assert.Contains("'..'", error.Message);
        Assert.Contains(name, error.Message);
        box.AssertOutsideUntouched();
    }

    [Fact]
    public void AbsoluteMembersLandInsideTheTarget()
    {
        using var box = new Sandbox();
        var tar = new TarBuilder().File(box.Outside + "/passwd", "pwned\n").File("/abs", "x").Build();
        Unpack(tar, box.Target);
        Assert.Equal("pwned\n", File.ReadAllText(box.In(box.Outside.TrimStart('/') + "/passwd")));
        Assert.True(File.Exists(box.In("abs")));
        box.AssertOutsideUntouched();
    }

    [Fact]
    public void WritingThroughASymlinkThatPointsOutIsRefused()
    {
        using var box = new Sandbox();
        var tar = new TarBuilder().Symlink("evil", box.Outside).File("evil/passwd", "pwned\n").Build();
        var error = Assert.Throws<LayerUnpackException>(() => Unpack(tar, box.Target));
        Assert.Contains("'evil/passwd' is written through 'evil'", error.Message);
        box.AssertOutsideUntouched();

        // A relative symlink full of '..' is read inside the target, as if the target were '/'.
        using var box2 = new Sandbox();
        var tar2 = new TarBuilder().Directory("outside/").Symlink("evil", "../../../../outside").File("evil/passwd", "contained\n").Build();
        Unpack(tar2, box2.Target);
        Assert.Equal("contained\n", File.ReadAllText(box2.In("outside/passwd")));
        box2.AssertOutsideUntouched();
    }

    [Fact]
    public void AMemberReplacingASymlinkReplacesTheLinkNotItsTarget()
    {
        using var box = new Sandbox();
        var tar = new TarBuilder().Symlink("passwd", box.Outside + "/passwd").File("passwd", "replaced\n").Build();
        Unpack(tar, box.Target);
        Assert.Equal("replaced\n", File.ReadAllText(box.In("passwd")));
        Assert.Null(new FileInfo(box.In("passwd")).LinkTarget);
        box.AssertOutsideUntouched();
    }

    [Fact]
    public void HardLinksOutOrThroughSymlinksAreRefused()
    {
        using var box = new Sandbox();
        var cases = new (TarBuilder Tar, string Message)[]
        {
            (new TarBuilder().HardLink("stolen", "../outside/passwd"), "'..'"),
            (new TarBuilder().HardLink("stolen", box.Outside + "/passwd"), "which is not in the layer"),
            (new TarBuilder().Symlink("evil", box.Outside).HardLink("stolen", "evil/passwd"), "points through a symlink ('evil')"),
            (new TarBuilder().Directory("d/").Symlink("d/up", "/").HardLink("stolen", "d/up/etc/passwd"), "points through a symlink"),
        };
        var i = 0;
        foreach (var (tar, message) in cases)
        {
            var target = Path.Combine(box.Target, (i++).ToString());
            var error = Assert.Throws<LayerUnpackException>(() => Unpack(tar.Build(), target));
            Assert.Contains(message, error.Message);
        }
        box.AssertOutsideUntouched();
        Assert.Equal(1u, Stat(Path.Combine(box.Outside, "passwd")).LinkCount);
    }

    internal static FileStatus Stat(string path)
    {
        using var dir = Libc.Open(Path.GetDirectoryName(path)!, Libc.O_PATH);
        return Libc.TryStatAt(dir.Fd, Path.GetFileName(path)) ?? throw new FileNotFoundException(path);
    }

    [Fact]
    public void DeviceNodesAreSkippedRootlessAndMadeAsRoot()
    {
        using var box = new Sandbox();
        var tar = new TarBuilder().CharDevice("dev/null", 1, 3).Fifo("dev/pipe").Build();
        var warnings = new List<string>();
        Unpack(tar, Path.Combine(box.Target, "rootless"), new UnpackOptions { Rootless = true, Warn = warnings.Add });
        Assert.False(File.Exists(Path.Combine(box.Target, "rootless/dev/null")));
        Assert.Contains(warnings, w => w.Contains("skipped device node 'dev/null'"));
        Assert.Equal(Libc.S_IFIFO, Stat(Path.Combine(box.Target, "rootless/dev/pipe")).Type);

        if (!IsRoot)
            return;
        Unpack(tar, Path.Combine(box.Target, "root"));
        var node = Stat(Path.Combine(box.Target, "root/dev/null"));
        Assert.Equal(Libc.S_IFCHR, node.Type);
        Assert.Equal((1u, 3u), (node.RdevMajor, node.RdevMinor));
        Assert.Equal(0b110_110_110u, node.Mode & 0xFFF);
    }

    [Fact]
    public void SetuidFilesKeepTheirModeAndOwner()
    {
        if (!IsRoot)
            return;
        using var box = new Sandbox();
        var tar = new TarBuilder()
            .File("bin/su", "#!/bin/true\n", mode: 0x9ED /* 04755 */, uid: 1000, gid: 1000)
            .File("bin/wall", "#!/bin/true\n", mode: 0x5ED /* 02755 */, uid: 0, gid: 5)
            .Build();
        Unpack(tar, box.Target);
        var su = Stat(box.In("bin/su"));
        Assert.Equal("104755", Convert.ToString(su.Mode, 8));
        Assert.Equal((1000u, 1000u), (su.Uid, su.Gid));
        var wall = Stat(box.In("bin/wall"));
        Assert.Equal("102755", Convert.ToString(wall.Mode, 8));
        Assert.Equal(5u, wall.Gid);
    }

    [Fact]
    public void XattrsRoundTripAndOverlayXattrsFromTheArchiveAreDropped()
    {
        if (!IsRoot)
            return;
        using var box = new Sandbox();
        // A v2 file capability: cap_net_bind_service permitted + effective, in binary.
        byte[] capability = [0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] binary = [0xff, 0x00, 0xfe, 0x80];
        var tar = new TarBuilder()
            .File("bin/ping", "x", mode: 0b111_101_101, pax: [("SCHILY.xattr.security.capability", capability), ("SCHILY.xattr.user.binary", binary)])
            .Directory("data/", pax: [("SCHILY.xattr.trusted.overlay.opaque", "y"u8.ToArray()), ("SCHILY.xattr.trusted.note", "kept"u8.ToArray())])
            .File("data/f", "x", pax: [("LIBARCHIVE.xattr.user.from%20libarchive", "aGVsbG8="u8.ToArray())])
            .Build();
        var warnings = new List<string>();
        Unpack(tar, box.Target, new UnpackOptions { Warn = warnings.Add });
        Assert.Equal(capability, Libc.GetXattr(box.In("bin/ping"), "security.capability"));
        Assert.Equal(binary, Libc.GetXattr(box.In("bin/ping"), "user.binary"));
        Assert.Null(Libc.GetXattr(box.In("data"), "trusted.overlay.opaque"));
        Assert.Equal("kept"u8.ToArray(), Libc.GetXattr(box.In("data"), "trusted.note"));
        Assert.Equal("hello"u8.ToArray(), Libc.GetXattr(box.In("data/f"), "user.from libarchive"));
        Assert.Contains(warnings, w => w.Contains("trusted.overlay.opaque") && w.Contains("not honoured"));
    }

    [Fact]
    public void AufsMetadataIsIgnoredAndUnknownMemberTypesAreSkipped()
    {
        using var box = new Sandbox();
        var tar = new TarBuilder()
            .Directory(".wh..wh.plnk/").File(".wh..wh.plnk/123.456", "x").File(".wh..wh.aufs", "")
            .Add("weird", 'Z', [1, 2, 3], 0b110_100_100)
            .File("kept", "x")
            .Build();
        var warnings = new List<string>();
        Unpack(tar, box.Target, new UnpackOptions { Warn = warnings.Add });
        Assert.Equal(["kept"], Directory.EnumerateFileSystemEntries(box.Target).Select(p => Path.GetFileName(p)).ToArray());
        Assert.Contains(warnings, w => w.Contains("'weird'"));
    }

    [Fact]
    public void ACorruptHeaderIsNamedAsSuch()
    {
        using var box = new Sandbox();
        var tar = new TarBuilder().File("a", "x").Build();
        tar[10] ^= 0x55;
        var error = Assert.Throws<LayerUnpackException>(() => Unpack(tar, box.Target));
        Assert.Contains("checksum", error.Message);
    }

    internal static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} failed: {stderr}{stdout.Result}");
    }
}
