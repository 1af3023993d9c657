using MiniRedis.Io;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Io;

/// <summary>The one durable replace every writer uses: its steps' order, and a target untouched by any failure.</summary>
[Trait("Category", "Unit")]
public sealed class ReplacementFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("replace-").FullName;
    readonly RecordingDisk _disk = new();

    string Target => Path.Combine(_dir, "target");
    string Temp => Path.Combine(_dir, "target.tmp");

    public void Dispose() => Directory.Delete(_dir, true);

    static void WriteNew(Stream file) => file.Write("new"u8);

    [Fact]
    public void Commit_FsyncsTheFile_ThenRenames_ThenFsyncsTheDirectory()
    {
        File.WriteAllText(Target, "old");
        Assert.Equal(0, ReplacementFile.Write(_disk, Temp, Target, WriteNew));
        Assert.Equal(["sync target.tmp", "rename target.tmp", "dirsync"], _disk.Events);
        Assert.Equal("new", File.ReadAllText(Target));
        Assert.False(File.Exists(Temp));
    }

    [Theory]
    [InlineData(ReplaceStep.Sync)]
    [InlineData(ReplaceStep.Rename)]
    public void AFailedStep_LeavesTheTargetAndNoTemporaryFile(ReplaceStep step)
    {
        File.WriteAllText(Target, "old");
        if (step == ReplaceStep.Sync) _disk.FailFileSync = true;
        else _disk.FailRename = true;
        var error = Assert.Throws<ReplaceFailedException>(() => ReplacementFile.Write(_disk, Temp, Target, WriteNew));
        Assert.Equal(step, error.Step);
        Assert.Equal("old", File.ReadAllText(Target));
        Assert.False(File.Exists(Temp));
        Assert.DoesNotContain("dirsync", _disk.Events);
    }

    [Fact]
    public void AFailingWriter_LeavesTheTargetAndNoTemporaryFile()
    {
        File.WriteAllText(Target, "old");
        Assert.Throws<IOException>(() => ReplacementFile.Write(_disk, Temp, Target, _ => throw new IOException("disk full")));
        Assert.Equal("old", File.ReadAllText(Target));
        Assert.False(File.Exists(Temp));
        Assert.Empty(_disk.Events);
    }
}

/// <summary>The Linux calls and the portable fallback behave alike (the fallback runs on Linux too, so it is tested here).</summary>
[Trait("Category", "Unit")]
public sealed class AppendFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("append-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    public static TheoryData<string> Disks => ["linux", "portable"];

    static IDisk DiskNamed(string name) => name == "linux" ? new LinuxDisk() : new PortableDisk();

    [Theory]
    [MemberData(nameof(Disks))]
    public void WritesAtOffsets_Syncs_AndTruncates(string disk)
    {
        string path = Path.Combine(_dir, "file");
        File.WriteAllText(path, "ab");
        using (var file = DiskNamed(disk).OpenAppend(path))
        {
            Assert.Equal(2, file.Length);
            Assert.Equal(3, file.Write("cde"u8, 2, out int errno));
            Assert.Equal(0, errno);
            Assert.Equal(0, file.DataSync());
            Assert.Equal(0, file.Truncate(4));
            Assert.Equal(4, file.Length);
            Assert.Equal(0, DiskNamed(disk).SyncDirectory(_dir));
        }
        Assert.Equal("abcd", File.ReadAllText(path));
    }

    [Theory]
    [MemberData(nameof(Disks))]
    public void AWriteToAFullDevice_GivesEnospc(string disk)
    {
        using var file = DiskNamed(disk).OpenAppend("/dev/full");
        Assert.Equal(-1, file.Write("x"u8, 0, out int errno));
        Assert.Equal(Platform.ENOSPC, errno);
        Assert.Equal("No space left on device", Platform.ErrorText(errno));
    }

    [Fact]
    public void ADirectorySyncOfAMissingDirectory_GivesItsErrno()
    {
        Assert.Equal(2, new LinuxDisk().SyncDirectory(Path.Combine(_dir, "missing")));
    }
}
