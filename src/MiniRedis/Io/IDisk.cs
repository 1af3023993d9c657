namespace MiniRedis.Io;

/// <summary>
/// Every disk operation persistence makes whose order or failure matters: the AOF's appends and
/// fsyncs, new files and their fsync, the rename that replaces a file, the directory fsync that
/// makes the rename durable. The one seam a test replaces to record their order or inject faults.
/// </summary>
public interface IDisk
{
    /// <summary>Opens (creating if needed) a file for appending; no lock, so tools can read it meanwhile.</summary>
    IAppendFile OpenAppend(string path);

    /// <summary>Creates (or empties) a file for writing, unbuffered, so a failed write surfaces where it happens.</summary>
    Stream Create(string path);

    /// <summary>fsync of a file made by <see cref="Create"/>; throws IOException on failure.</summary>
    void Sync(Stream file);

    /// <summary>rename(2) over <paramref name="target"/>; throws IOException on failure.</summary>
    void Rename(string source, string target);

    /// <summary>fsync of a directory, so a rename into it survives a crash: 0 or the errno.</summary>
    int SyncDirectory(string directory);
}

/// <summary>The disk the server uses unless told otherwise: the Linux calls on Linux, the portable ones elsewhere.</summary>
public static class Disk
{
    public static IDisk Default { get; } = OperatingSystem.IsLinux() ? new LinuxDisk() : new PortableDisk();
}
