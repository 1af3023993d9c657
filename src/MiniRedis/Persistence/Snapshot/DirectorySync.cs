using System.Runtime.InteropServices;

namespace MiniRedis.Persistence.Snapshot;

/// <summary>fsync of a directory, so a rename into it survives a crash (.NET cannot open a directory).</summary>
public static partial class DirectorySync
{
    const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY on Linux

    /// <summary>0, or the errno of the failed open or fsync.</summary>
    public static int Sync(string directory)
    {
        int fd = open(directory, ReadOnlyDirectory);
        if (fd < 0) return Marshal.GetLastPInvokeError();
        int errno = fsync(fd) == 0 ? 0 : Marshal.GetLastPInvokeError();
        if (close(fd) != 0 && errno == 0) errno = Marshal.GetLastPInvokeError();
        return errno;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
