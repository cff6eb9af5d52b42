namespace Moat.Tests.Images.Bundles;

/// <summary>A bundle directory with a tiny rootfs holding the account files a test writes; removed on dispose.</summary>
internal sealed class TestRootfs : IDisposable
{
    public string Bundle { get; } = Directory.CreateTempSubdirectory("moat-bundle-test-").FullName;
    public string Rootfs => Path.Combine(Bundle, "rootfs");

    public TestRootfs()
    {
        Directory.CreateDirectory(Path.Combine(Rootfs, "etc"));
        Directory.CreateDirectory(Path.Combine(Rootfs, "usr", "lib"));
    }

    public const string Passwd =
        "root:x:0:0:root:/root:/bin/sh\n" +
        "# a comment, and a malformed line next\n" +
        "broken:x:notanumber:0::/:/bin/false\n" +
        "app:x:1000:1000:App:/home/app:/bin/sh\n" +
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

    public const string Group =
        "root:x:0:\n" +
        "wheel:x:10:root,app\n" +
        "audio:x:29:other, app\n" +
        "app:x:1000:\n" +
        "staff:x:50:other\n";

    public TestRootfs WithAccounts(string passwd = Passwd, string group = Group)
    {
        File.WriteAllText(Path.Combine(Rootfs, "etc", "passwd"), passwd);
        File.WriteAllText(Path.Combine(Rootfs, "etc", "group"), group);
        return this;
    }

    public string PathOf(string inImage) => Path.Combine(Rootfs, inImage.TrimStart('/'));

    public void Dispose() => Directory.Delete(Bundle, recursive: true);
}
