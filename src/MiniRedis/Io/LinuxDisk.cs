using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MiniRedis.Io;

/// <summary>
/// The disk through libc where .NET hides what Redis needs: pwrite with its short count and errno,
/// fdatasync (the data, not the inode times, as Redis's redis_fsync on Linux), ftruncate, and the
/// fsync of a directory (.NET cannot open one).
/// </summary>
public sealed unsafe partial class LinuxDisk : PortableDisk
{
    const int EINTR = 4;
    const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY on Linux

#pragma warning disable CA2000 // the handle belongs to the append file returned, which closes it
    public override IAppendFile OpenAppend(string path) =>
        new LinuxAppendFile(File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete));
#pragma warning restore CA2000

    public override int SyncDirectory(string directory)
    {
        int fd = open(directory, ReadOnlyDirectory);
        if (fd < 0) return Marshal.GetLastPInvokeError();
        int errno = fsync(fd) == 0 ? 0 : Marshal.GetLastPInvokeError();
        if (close(fd) != 0 && errno == 0) errno = Marshal.GetLastPInvokeError();
        return errno;
    }

    sealed class LinuxAppendFile(SafeFileHandle handle) : IAppendFile
    {
        readonly int _fd = (int)handle.DangerousGetHandle();

        public long Length => RandomAccess.GetLength(handle);

        public long Write(ReadOnlySpan<byte> data, long offset, out int errno)
        {
            fixed (byte* p = data)
            {
                long written;
                do written = pwrite(_fd, p, data.Length, offset);
                while (written < 0 && Marshal.GetLastPInvokeError() == EINTR);
                errno = written < 0 ? Marshal.GetLastPInvokeError() : 0;
                return written;
            }
        }

        public int DataSync() => fdatasync(_fd) == 0 ? 0 : Marshal.GetLastPInvokeError();

        public int Truncate(long length) => ftruncate(_fd, length) == 0 ? 0 : Marshal.GetLastPInvokeError();

        public void Dispose() => handle.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint pwrite(int fd, byte* buffer, nint count, long offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fdatasync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ftruncate(int fd, long length);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
