using Microsoft.Win32.SafeHandles;

namespace MiniRedis.Io;

/// <summary>
/// The disk through .NET's own file APIs (RandomAccess, FileStream.Flush(true)), for platforms
/// without the Linux calls; runs on Linux too, so it is tested there. Errors are mapped back to
/// errnos (.NET keeps the errno as the exception's HResult on Unix). A directory cannot be opened
/// here, so its fsync is left to the platform.
/// </summary>
public class PortableDisk : IDisk
{
#pragma warning disable CA2000 // the handle belongs to the append file returned, which closes it
    public virtual IAppendFile OpenAppend(string path) =>
        new PortableAppendFile(File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete));
#pragma warning restore CA2000

    public Stream Create(string path) => new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);

    public void Sync(Stream file) => ((FileStream)file).Flush(flushToDisk: true);

    public void Rename(string source, string target) => File.Move(source, target, overwrite: true);

    public virtual int SyncDirectory(string directory) => 0;

    /// <summary>The errno behind an I/O exception (EIO when it carries none).</summary>
    public static int ErrnoOf(Exception error) =>
        error is IOException { HResult: > 0 and < 4096 } io ? io.HResult : Platform.EIO;

    sealed class PortableAppendFile(SafeFileHandle handle) : IAppendFile
    {
        // Only for fsync and truncate: writes go through RandomAccess at explicit offsets.
        readonly FileStream _stream = new(handle, FileAccess.ReadWrite, bufferSize: 0);

        public long Length => RandomAccess.GetLength(handle);

        public long Write(ReadOnlySpan<byte> data, long offset, out int errno)
        {
            try
            {
                RandomAccess.Write(handle, data, offset);
                errno = 0;
                return data.Length;
            }
            catch (IOException e)
            {
                errno = ErrnoOf(e);
                return -1;
            }
        }

        public int DataSync() => Try(() => _stream.Flush(flushToDisk: true));

        public int Truncate(long length) => Try(() => _stream.SetLength(length));

        static int Try(Action action)
        {
            try
            {
                action();
                return 0;
            }
            catch (IOException e)
            {
                return ErrnoOf(e);
            }
        }

        public void Dispose() => _stream.Dispose();
    }
}
