namespace MiniRedis.Io;

/// <summary>
/// A file written under a temporary name that replaces its target only once it is complete and on
/// disk: fsync, close, rename over the target, fsync the directory. The target is always either the
/// old complete file or the new one, whatever fails or crashes. Every writer that replaces a file
/// (RDB saves, the AOF rewrite, the AOF created from the dataset, CONFIG REWRITE) goes through here;
/// a replacement not committed removes its temporary file.
/// </summary>
public sealed class ReplacementFile : IDisposable
{
    readonly IDisk _disk;
    bool _committed;

    ReplacementFile(IDisk disk, Stream stream, string tempPath)
    {
        _disk = disk;
        Stream = stream;
        TempPath = tempPath;
    }

    /// <summary>Creates the temporary file; throws IOException or UnauthorizedAccessException when it cannot be.</summary>
    public static ReplacementFile Create(IDisk disk, string tempPath) => new(disk, disk.Create(tempPath), tempPath);

    /// <summary>
    /// Writes a whole file at once with <paramref name="write"/> and commits it over <paramref name="targetPath"/>;
    /// as <see cref="Commit"/> (and throws what <paramref name="write"/> throws, the temporary file removed).
    /// </summary>
    public static int Write(IDisk disk, string tempPath, string targetPath, Action<Stream> write)
    {
        using var file = Create(disk, tempPath);
        write(file.Stream);
        return file.Commit(targetPath);
    }

    public Stream Stream { get; }
    public string TempPath { get; }

    /// <summary>An fsync along the way (the incremental-fsync directives), so the final one has little left.</summary>
    public void Sync() => _disk.Sync(Stream);

    /// <summary>
    /// fsync, close, rename over <paramref name="targetPath"/>, fsync its directory. Throws
    /// <see cref="ReplaceFailedException"/> (the temporary file removed, the target untouched) when the
    /// fsync or the rename failed; otherwise the new file is in place and the result is the directory
    /// fsync's errno (0: the rename is durable).
    /// </summary>
    public int Commit(string targetPath)
    {
        try
        {
            _disk.Sync(Stream);
            Stream.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Abandon();
            throw new ReplaceFailedException(ReplaceStep.Sync, e);
        }
        try
        {
            _disk.Rename(TempPath, targetPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Abandon();
            throw new ReplaceFailedException(ReplaceStep.Rename, e);
        }
        _committed = true;
        return _disk.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(targetPath))!);
    }

    /// <summary>Closes and removes the temporary file (a failed or cancelled writer); the target stays as it was.</summary>
    public void Abandon()
    {
        try
        {
            Stream.Dispose();
        }
        catch (IOException)
        {
            // Unwritten bytes of an abandoned file: nothing to keep.
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

    public void Dispose()
    {
        if (!_committed) Abandon();
    }
}

/// <summary>The step of <see cref="ReplacementFile.Commit"/> that failed.</summary>
public enum ReplaceStep { Sync, Rename }

/// <summary>A replacement that did not happen: the target is unchanged. The message is the cause's.</summary>
public sealed class ReplaceFailedException(ReplaceStep step, Exception cause) : IOException(cause.Message, cause)
{
    public ReplaceStep Step { get; } = step;
}
