using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// The few POSIX calls the AOF needs with their exact results: a single write whose short count and
/// errno are visible (FileStream hides both), fdatasync, ftruncate. An open file is a file descriptor.
/// </summary>
public sealed unsafe partial class NativeFile : IDisposable
{
    readonly SafeFileHandle _handle;
    readonly int _fd;

    NativeFile(SafeFileHandle handle)
    {
        _handle = handle;
        _fd = (int)handle.DangerousGetHandle();
    }

    /// <summary>Opens (creating if needed) a file for appending; no lock, so tools can read it meanwhile.</summary>
    public static NativeFile OpenOrCreate(string path) =>
        new(File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete));

    public long Length => RandomAccess.GetLength(_handle);

    /// <summary>One pwrite(2): the bytes written (possibly fewer), or -1 with <paramref name="errno"/>.</summary>
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

    /// <summary>fdatasync(2); 0 or the errno.</summary>
    public int DataSync() => fdatasync(_fd) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>ftruncate(2); 0 or the errno.</summary>
    public int Truncate(long length) => ftruncate(_fd, length) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>strerror(3) text, as Redis prints it.</summary>
    public static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    public const int ENOSPC = 28;
    const int EINTR = 4;

    public void Dispose() => _handle.Dispose();

    /// <summary>_exit(2): ends the process immediately, no finalizers or shutdown handlers.</summary>
    public static void ExitProcess(int status) => _exit(status);

    [LibraryImport("libc")]
    private static partial void _exit(int status);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint pwrite(int fd, byte* buffer, nint count, long offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fdatasync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ftruncate(int fd, long length);
}
