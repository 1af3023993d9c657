using Microsoft.Extensions.Logging;
using MiniRedis.Io;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// The file a save writes (Redis's rdbSave): <see cref="TempFiles.RdbSave"/> in <c>dir</c>, fsynced every
/// 4 MB with <c>rdb-save-incremental-fsync</c>, then committed over the dump as a
/// <see cref="ReplacementFile"/>, so the dump is always either the old complete image or the new one.
/// Failures are logged with Redis's texts; the temporary file never outlives a failure.
/// </summary>
public sealed class RdbFileStream : Stream
{
    /// <summary>Redis's REDIS_AUTOSYNC_BYTES.</summary>
    const long IncrementalSyncBytes = 4L << 20;

    readonly ReplacementFile _file;
    readonly bool _incrementalSync;
    readonly ILogger _logger;
    long _unsynced;

    RdbFileStream(ReplacementFile file, bool incrementalSync, ILogger logger)
    {
        _file = file;
        _incrementalSync = incrementalSync;
        _logger = logger;
    }

    public string TempPath => _file.TempPath;

    /// <summary>Creates the temporary file in <paramref name="dir"/> on <paramref name="disk"/>; null (logged) when it cannot be.</summary>
    public static RdbFileStream? Create(IDisk disk, string dir, bool background, bool incrementalSync, ILogger logger)
    {
        string name = TempFiles.RdbSave(background);
        try
        {
            return new RdbFileStream(ReplacementFile.Create(disk, Path.Combine(dir, name)), incrementalSync, logger);
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

    /// <summary>The image is complete: the replacement's commit. False (logged, temporary file removed) when a step failed.</summary>
    public bool Commit(string targetPath)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(targetPath))!;
        int errno;
        try
        {
            errno = _file.Commit(targetPath);
        }
        catch (ReplaceFailedException e) when (e.Step == ReplaceStep.Sync)
        {
            _logger.LogWarning("Write error saving DB on disk: {Error}", e.Message);
            return false;
        }
        catch (ReplaceFailedException e)
        {
            _logger.LogWarning("Error moving temp DB file {Temp} on the final destination {Target} (in server root dir {Dir}): {Error}",
                Path.GetFileName(TempPath), Path.GetFileName(targetPath), dir, e.Message);
            return false;
        }
        if (errno != 0)
        {
            _logger.LogWarning("Failed to fsync directory while saving DB: {Error}", Platform.ErrorText(errno));
            return false;
        }
        return true;
    }

    /// <summary>Closes and removes the temporary file (a failed or cancelled save); the dump stays as it was.</summary>
    public void Abandon() => _file.Abandon();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _file.Stream.Write(buffer);
        _unsynced += buffer.Length;
        if (!_incrementalSync || _unsynced < IncrementalSyncBytes) return;
        _file.Sync();
        _unsynced = 0;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush() => _file.Stream.Flush();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _file.Stream.Length;

    public override long Position
    {
        get => _file.Stream.Position;
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
