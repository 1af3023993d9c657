using Microsoft.Extensions.Logging;
using MiniRedis.Persistence.Aof;
using MiniRedis.Persistence.Snapshot;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// The file a save writes (Redis's rdbSave): <c>temp-&lt;pid&gt;.rdb</c> in <c>dir</c>, fsynced every
/// 4 MB with <c>rdb-save-incremental-fsync</c>, then fsynced, renamed over the dump and the directory
/// fsynced, so the dump is always either the old complete image or the new one. Failures are
/// logged with Redis's texts; the temporary file never outlives a failure.
/// </summary>
public sealed class RdbFileStream : Stream
{
    /// <summary>Redis's REDIS_AUTOSYNC_BYTES.</summary>
    const long IncrementalSyncBytes = 4L << 20;

    /// <summary>Every temporary file starts with this; left over after a crash, they are removed at start.</summary>
    public const string TempFilePrefix = "temp-";

    readonly FileStream _file;
    readonly bool _incrementalSync;
    readonly ILogger _logger;
    long _unsynced;

    RdbFileStream(FileStream file, string tempPath, bool incrementalSync, ILogger logger)
    {
        _file = file;
        TempPath = tempPath;
        _incrementalSync = incrementalSync;
        _logger = logger;
    }

    public string TempPath { get; }

    /// <summary>
    /// Creates <c>temp-&lt;pid&gt;.rdb</c> (a background save: <c>temp-bgsave-&lt;pid&gt;.rdb</c>, as a forked
    /// child's own pid keeps Redis's apart) in <paramref name="dir"/>; null (logged) when it cannot be.
    /// </summary>
    public static RdbFileStream? Create(string dir, bool background, bool incrementalSync, ILogger logger)
    {
        string name = $"{TempFilePrefix}{(background ? "bgsave-" : "")}{Environment.ProcessId}.rdb";
        string path = Path.Combine(dir, name);
        try
        {
            // Unbuffered: the writer already hands over large chunks, and a failed write surfaces where it happens.
            return new RdbFileStream(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0), path, incrementalSync, logger);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Failed opening the temp RDB file {Name} (in server root dir {Dir}) for saving: {Error}", name, dir, e.Message);
            return null;
        }
    }

    /// <summary>
    /// Writes the image with <paramref name="write"/> and puts it in place of <paramref name="targetPath"/>;
    /// false (logged, temporary file removed) when any step failed.
    /// </summary>
    public bool WriteAndCommit(Action<Stream> write, string targetPath)
    {
        try
        {
            write(this);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteFailed(e);
            return false;
        }
        return Commit(targetPath);
    }

    /// <summary>A write of the image failed: logged like Redis, and the temporary file removed.</summary>
    public void WriteFailed(Exception error)
    {
        _logger.LogWarning("Write error saving DB on disk: {Error}", error.Message);
        Abandon();
    }

    /// <summary>
    /// The image is complete: fsync, close, rename over <paramref name="targetPath"/>, fsync the
    /// directory. False (logged, temporary file removed) when a step failed.
    /// </summary>
    public bool Commit(string targetPath)
    {
        try
        {
            _file.Flush(flushToDisk: true);
            _file.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteFailed(e);
            return false;
        }
        string dir = Path.GetDirectoryName(Path.GetFullPath(targetPath))!;
        try
        {
            File.Move(TempPath, targetPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Error moving temp DB file {Temp} on the final destination {Target} (in server root dir {Dir}): {Error}",
                Path.GetFileName(TempPath), Path.GetFileName(targetPath), dir, e.Message);
            Abandon();
            return false;
        }
        int errno = DirectorySync.Sync(dir);
        if (errno != 0)
        {
            _logger.LogWarning("Failed to fsync directory while saving DB: {Error}", NativeFile.ErrorText(errno));
            return false;
        }
        return true;
    }

    /// <summary>Closes and removes the temporary file (a failed or cancelled save); the dump stays as it was.</summary>
    public void Abandon()
    {
        try
        {
            _file.Dispose();
        }
        catch (IOException)
        {
            // Unwritten bytes of a failed save: nothing to keep.
        }
        try
        {
            File.Delete(TempPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The directory itself is gone or unwritable: nothing is left to clean.
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _file.Write(buffer);
        _unsynced += buffer.Length;
        if (!_incrementalSync || _unsynced < IncrementalSyncBytes) return;
        _file.Flush(flushToDisk: true);
        _unsynced = 0;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush() => _file.Flush();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _file.Length;

    public override long Position
    {
        get => _file.Position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
        base.Dispose(disposing);
    }
}
