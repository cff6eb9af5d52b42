using Moat.Runtime;
using Moat.Runtime.Rootfs;
using Xunit;
using static Moat.Interop.Libc;

namespace Moat.Tests.Unit.Runtime;

public class MountOptionsTests
{
    // MOUNT_ATTR_* values (linux/mount.h).
    const ulong AttrRdonly = 1, AttrNosuid = 2, AttrNodev = 4, AttrNoexec = 8, AttrNoatime = 0x10, AttrStrictatime = 0x20,
        AttrNodiratime = 0x80, AttrNosymfollow = 0x00200000;

    // MOUNT_ATTR__ATIME: the access-time attributes are an enumeration (relatime = 0) inside this mask.
    const ulong AttrAtimeMask = 0x70;

    [Fact]
    public void NoOptionsGiveAnEmptyResult()
    {
        var o = MountOptions.Parse("tmpfs", null);

        Assert.Equal(0UL, o.Flags);
        Assert.Equal(0UL, o.ClearedFlags);
        Assert.Empty(o.Propagation);
        Assert.Equal(0UL, o.RecursiveSet);
        Assert.Equal(0UL, o.RecursiveClear);
        Assert.Equal("", o.Data);
        Assert.False(o.Bind);
        Assert.False(o.RecursiveBind);
        Assert.False(o.Idmap);
    }

    [Fact]
    public void FlagsAreCollected()
    {
        var o = MountOptions.Parse("sysfs", ["nosuid", "noexec", "nodev", "ro", "relatime"]);

        Assert.Equal(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY | MS_RELATIME, o.Flags);
        Assert.Equal(0UL, o.ClearedFlags);
        Assert.Equal("", o.Data);
    }

    [Theory]
    [InlineData("ro", MS_RDONLY)]
    [InlineData("nosuid", MS_NOSUID)]
    [InlineData("nodev", MS_NODEV)]
    [InlineData("noexec", MS_NOEXEC)]
    [InlineData("sync", MS_SYNCHRONOUS)]
    [InlineData("dirsync", MS_DIRSYNC)]
    [InlineData("remount", MS_REMOUNT)]
    [InlineData("mand", MS_MANDLOCK)]
    [InlineData("noatime", MS_NOATIME)]
    [InlineData("nodiratime", MS_NODIRATIME)]
    [InlineData("relatime", MS_RELATIME)]
    [InlineData("strictatime", MS_STRICTATIME)]
    [InlineData("lazytime", MS_LAZYTIME)]
    [InlineData("nosymfollow", MS_NOSYMFOLLOW)]
    [InlineData("silent", MS_SILENT)]
    public void EachSettingOptionSetsItsFlag(string option, ulong flag)
    {
        var o = MountOptions.Parse("none", [option]);

        Assert.Equal(flag, o.Flags);
        Assert.Equal(0UL, o.ClearedFlags);
    }

    [Theory]
    [InlineData("rw", MS_RDONLY)]
    [InlineData("suid", MS_NOSUID)]
    [InlineData("dev", MS_NODEV)]
    [InlineData("exec", MS_NOEXEC)]
    [InlineData("async", MS_SYNCHRONOUS)]
    [InlineData("nomand", MS_MANDLOCK)]
    [InlineData("atime", MS_NOATIME)]
    [InlineData("diratime", MS_NODIRATIME)]
    [InlineData("norelatime", MS_RELATIME)]
    [InlineData("nostrictatime", MS_STRICTATIME)]
    [InlineData("nolazytime", MS_LAZYTIME)]
    [InlineData("symfollow", MS_NOSYMFOLLOW)]
    [InlineData("loud", MS_SILENT)]
    public void EachClearingOptionClearsItsFlag(string option, ulong flag)
    {
        var o = MountOptions.Parse("none", [option]);

        Assert.Equal(0UL, o.Flags);
        Assert.Equal(flag, o.ClearedFlags);
    }

    [Fact]
    public void LaterOptionsOverrideEarlierOnes()
    {
        var roThenRw = MountOptions.Parse("none", ["ro", "nosuid", "rw"]);
        Assert.Equal(MS_NOSUID, roThenRw.Flags);
        Assert.Equal(MS_RDONLY, roThenRw.ClearedFlags);

        var rwThenRo = MountOptions.Parse("none", ["rw", "suid", "ro", "nosuid"]);
        Assert.Equal(MS_RDONLY | MS_NOSUID, rwThenRo.Flags);
        Assert.Equal(0UL, rwThenRo.ClearedFlags);
    }

    [Fact]
    public void DefaultsIsIgnored()
    {
        var o = MountOptions.Parse("none", ["defaults", "ro"]);

        Assert.Equal(MS_RDONLY, o.Flags);
        Assert.Equal("", o.Data);
    }

    [Fact]
    public void PropagationOptionsAreCollectedInOrder()
    {
        var o = MountOptions.Parse("bind", ["rprivate", "shared", "rslave", "unbindable", "private", "rshared", "slave", "runbindable"]);

        Assert.Equal(
            [MS_PRIVATE | MS_REC, MS_SHARED, MS_SLAVE | MS_REC, MS_UNBINDABLE, MS_PRIVATE, MS_SHARED | MS_REC, MS_SLAVE, MS_UNBINDABLE | MS_REC],
            o.Propagation);
        Assert.Equal(0UL, o.Flags);
        Assert.Equal("", o.Data);
    }

    [Fact]
    public void RecursiveOptionsGoToRecursiveSetAndClear()
    {
        var o = MountOptions.Parse("bind", ["rbind", "rro", "rnosuid", "rnodev", "rexec", "rnoatime", "rnosymfollow"]);

        Assert.Equal(AttrRdonly | AttrNosuid | AttrNodev | AttrNoatime | AttrNosymfollow, o.RecursiveSet);
        Assert.Equal(AttrNoexec | AttrAtimeMask, o.RecursiveClear);
        Assert.Equal(0UL, o.Flags);
    }

    [Fact]
    public void LaterRecursiveOptionsOverrideEarlierOnes()
    {
        var o = MountOptions.Parse("bind", ["rro", "rrw", "rnoexec", "rexec", "rnoexec"]);

        Assert.Equal(AttrNoexec, o.RecursiveSet);
        Assert.Equal(AttrRdonly, o.RecursiveClear);
    }

    [Theory]
    [InlineData("rnoatime", AttrNoatime)]
    [InlineData("rstrictatime", AttrStrictatime)]
    [InlineData("ratime", 0UL)]
    [InlineData("rnostrictatime", 0UL)]
    public void RecursiveAtimeOptionsClearTheWholeAtimeField(string option, ulong atime)
    {
        // mount_setattr(2): to change the access-time setting, attr_clr must hold all of
        // MOUNT_ATTR__ATIME and attr_set at most one value of it; anything else is EINVAL.
        var o = MountOptions.Parse("bind", ["rbind", option]);

        Assert.Equal(atime, o.RecursiveSet);
        Assert.Equal(AttrAtimeMask, o.RecursiveClear);
    }

    [Fact]
    public void LaterRecursiveAtimeOptionReplacesTheEarlierOne()
    {
        var o = MountOptions.Parse("bind", ["rro", "rnoatime", "rnodiratime", "rstrictatime"]);

        Assert.Equal(AttrRdonly | AttrNodiratime | AttrStrictatime, o.RecursiveSet);
        Assert.Equal(AttrAtimeMask, o.RecursiveClear);

        var back = MountOptions.Parse("bind", ["rnoatime", "ratime"]);
        Assert.Equal(0UL, back.RecursiveSet);
        Assert.Equal(AttrAtimeMask, back.RecursiveClear);
    }

    public static TheoryData<string[]> RecursiveOptionLists => new()
    {
        new[] { "rnoatime" }, new[] { "ratime" }, new[] { "rstrictatime" }, new[] { "rnostrictatime" },
        new[] { "rro", "rnoatime", "rrw" }, new[] { "rnoatime", "rstrictatime", "ratime" },
        new[] { "rnodiratime", "rnoatime" }, new[] { "rdiratime", "rnostrictatime", "rnosuid" },
    };

    [Theory]
    [MemberData(nameof(RecursiveOptionLists))]
    public void RecursiveAttributesAreAcceptableToMountSetattr(string[] options)
    {
        var o = MountOptions.Parse("bind", options);

        var clearedAtime = o.RecursiveClear & AttrAtimeMask;
        Assert.True(clearedAtime is 0 or AttrAtimeMask, $"attr_clr 0x{o.RecursiveClear:x} holds part of MOUNT_ATTR__ATIME");
        if ((o.RecursiveSet & AttrAtimeMask) != 0)
            Assert.Equal(AttrAtimeMask, clearedAtime);
        Assert.Equal(0UL, o.RecursiveSet & o.RecursiveClear & ~AttrAtimeMask);
    }

    [Fact]
    public void BindTypeMeansBind()
    {
        var o = MountOptions.Parse("bind", ["ro"]);

        Assert.True(o.Bind);
        Assert.False(o.RecursiveBind);
    }

    [Fact]
    public void BindOptionMeansBind()
    {
        var o = MountOptions.Parse("none", ["bind"]);

        Assert.True(o.Bind);
        Assert.False(o.RecursiveBind);
        Assert.Equal("", o.Data);
    }

    [Fact]
    public void RbindOptionMeansRecursiveBind()
    {
        var o = MountOptions.Parse("none", ["rbind", "rprivate"]);

        Assert.True(o.Bind);
        Assert.True(o.RecursiveBind);
        Assert.Equal([MS_PRIVATE | MS_REC], o.Propagation);
    }

    [Theory]
    [InlineData("idmap")]
    [InlineData("ridmap")]
    public void IdmapOptionsAreRecognized(string option)
    {
        var o = MountOptions.Parse("bind", [option]);

        Assert.True(o.Idmap);
        Assert.Equal("", o.Data);
    }

    [Fact]
    public void UnknownOptionsBecomeDataJoinedByCommas()
    {
        var o = MountOptions.Parse("tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]);

        Assert.Equal(MS_NOSUID | MS_STRICTATIME, o.Flags);
        Assert.Equal("mode=755,size=65536k", o.Data);
    }

    [Fact]
    public void DataKeepsTheOrderOfOptions()
    {
        var o = MountOptions.Parse("devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]);

        Assert.Equal("newinstance,ptmxmode=0666,mode=0620,gid=5", o.Data);
    }

    [Fact]
    public void TmpcopyupMarksATmpfsForCopyingAndIsNotFilesystemData()
    {
        var o = MountOptions.Parse("tmpfs", ["nosuid", "tmpcopyup", "mode=1777"]);

        Assert.True(o.CopyUp);
        Assert.Equal("mode=1777", o.Data);
        Assert.False(MountOptions.Parse("tmpfs", ["nosuid"]).CopyUp);
    }

    [Fact]
    public void TmpcopyupOnAnythingButTmpfsIsRejected()
    {
        var e = Assert.Throws<RuntimeException>(() => MountOptions.Parse("bind", ["rbind", "tmpcopyup"]));

        Assert.Contains("tmpcopyup", e.Message);
        Assert.Contains("tmpfs", e.Message);
    }

    [Theory]
    [InlineData("private", MS_PRIVATE)]
    [InlineData("rprivate", MS_PRIVATE | MS_REC)]
    [InlineData("shared", MS_SHARED)]
    [InlineData("rshared", MS_SHARED | MS_REC)]
    [InlineData("slave", MS_SLAVE)]
    [InlineData("rslave", MS_SLAVE | MS_REC)]
    [InlineData("unbindable", MS_UNBINDABLE)]
    [InlineData("runbindable", MS_UNBINDABLE | MS_REC)]
    [InlineData("", 0UL)]
    [InlineData(null, 0UL)]
    public void ParsePropagationAcceptsTheModes(string? value, ulong expected)
    {
        Assert.Equal(expected, MountOptions.ParsePropagation(value));
    }

    [Theory]
    [InlineData("ro")]
    [InlineData("RPRIVATE")]
    [InlineData("rprivate,")]
    [InlineData("bogus")]
    public void ParsePropagationRejectsOtherValues(string value)
    {
        var e = Assert.Throws<RuntimeException>(() => MountOptions.ParsePropagation(value));

        Assert.Contains("rootfsPropagation", e.Message);
        Assert.Contains($"\"{value}\"", e.Message);
    }

    [Fact]
    public void RemountFlagsDropRemountBindAndRec()
    {
        var o = new MountOptions(MS_RDONLY | MS_NOSUID | MS_REMOUNT | MS_BIND | MS_REC, 0, [], 0, 0, "", true, true, false);

        Assert.Equal(MS_RDONLY | MS_NOSUID, o.RemountFlags);
    }

    [Fact]
    public void RemountFlagsOfParsedBindMount()
    {
        var o = MountOptions.Parse("bind", ["rbind", "ro", "nodev", "remount"]);

        Assert.Equal(MS_RDONLY | MS_NODEV | MS_REMOUNT, o.Flags);
        Assert.Equal(MS_RDONLY | MS_NODEV, o.RemountFlags);
    }

    [Fact]
    public void KnownOptionsListsEveryParsedName()
    {
        foreach (var name in new[] { "ro", "rw", "rprivate", "rro", "bind", "rbind", "defaults", "nosymfollow", "tmpcopyup" })
            Assert.Contains(name, MountOptions.KnownOptions);
    }
}
