using MiniRedis.Io;

namespace MiniRedis.Tests.Support;

/// <summary>
/// A real disk that records, in one ordered list shared with <see cref="RecordingConnection"/>, every
/// AOF write, fdatasync and truncate, every file sync, rename and directory sync, and fails them on
/// demand with the errno the test sets (0: no fault). Faults may be set and cleared from any thread.
/// </summary>
public sealed class RecordingDisk(IDisk inner) : IDisk
{
    readonly List<string> _events = [];

    public RecordingDisk() : this(Disk.Default) { }

    /// <summary>The errno the next AOF writes fail with.</summary>
    public volatile int WriteErrno;

    /// <summary>When positive, the next AOF write writes only this many bytes (and the fault clears: one short write).</summary>
    public volatile int ShortWriteBytes;

    /// <summary>The errno the AOF's fdatasyncs fail with.</summary>
    public volatile int DataSyncErrno;

    /// <summary>The fsyncs of new files fail with an IOException.</summary>
    public volatile bool FailFileSync;

    /// <summary>Renames fail with an IOException.</summary>
    public volatile bool FailRename;

    /// <summary>The events so far, in order: "aof-write N", "aof-fsync", "aof-truncate N", "sync NAME", "rename NAME", "dirsync", "reply", and what the test adds.</summary>
    public string[] Events
    {
        get { lock (_events) return [.. _events]; }
    }

    public void Record(string name)
    {
        lock (_events) _events.Add(name);
    }

    public int Count(string name) => Events.Count(e => e == name);

    public IAppendFile OpenAppend(string path) => new RecordingFile(this, inner.OpenAppend(path));

    public Stream Create(string path) => inner.Create(path);

    public void Sync(Stream file)
    {
        Record("sync " + Path.GetFileName(((FileStream)file).Name));
        if (FailFileSync) throw new IOException("Input/output error (injected)", Platform.EIO);
        inner.Sync(file);
    }

    public void Rename(string source, string target)
    {
        Record("rename " + Path.GetFileName(source));
        if (FailRename) throw new IOException("Input/output error (injected)", Platform.EIO);
        inner.Rename(source, target);
    }

    public int SyncDirectory(string directory)
    {
        Record("dirsync");
        return inner.SyncDirectory(directory);
    }

    sealed class RecordingFile(RecordingDisk disk, IAppendFile file) : IAppendFile
    {
        public long Length => file.Length;

        public long Write(ReadOnlySpan<byte> data, long offset, out int errno)
        {
            if (disk.WriteErrno is not 0 and var failure)
            {
                disk.Record("aof-write-failed");
                errno = failure;
                return -1;
            }
            int shortBy = disk.ShortWriteBytes;
            if (shortBy > 0)
            {
                disk.ShortWriteBytes = 0;
                data = data[..Math.Min(shortBy, data.Length)];
            }
            long written = file.Write(data, offset, out errno);
            disk.Record($"aof-write {written}");
            return written;
        }

        public int DataSync()
        {
            if (disk.DataSyncErrno is not 0 and var failure)
            {
                disk.Record("aof-fsync-failed");
                return failure;
            }
            int errno = file.DataSync();
            disk.Record("aof-fsync");
            return errno;
        }

        public int Truncate(long length)
        {
            disk.Record($"aof-truncate {length}");
            return file.Truncate(length);
        }

        public void Dispose() => file.Dispose();
    }
}
