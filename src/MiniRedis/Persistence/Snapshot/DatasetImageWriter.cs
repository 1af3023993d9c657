using MiniRedis.Data;

namespace MiniRedis.Persistence.Snapshot;

/// <summary>
/// Writes a dataset's keys as they come, database by database or interleaved (a snapshot hands over
/// keys a command captured early): a database switch is written whenever the database changes.
/// The formats are their folders' own (Rdb.RdbImageWriter, Aof.AofBase), so this folder knows none of them.
/// </summary>
public abstract class DatasetImageWriter
{
    int _db = -1;

    /// <summary>Bytes of the image produced so far.</summary>
    public abstract long Position { get; }

    public void WriteKey(int db, KeyEntry entry)
    {
        if (db != _db)
        {
            SelectDb(db);
            _db = db;
        }
        Write(entry);
    }

    /// <summary>Writes a snapshot's key; returns its bytes when a command captured it before the walk (copy-on-write), else 0.</summary>
    public long Write(in SnapshotRecord record)
    {
        if (!record.Captured)
        {
            WriteKey(record.Db, record.Entry);
            return 0;
        }
        long before = Position;
        WriteKey(record.Db, record.Entry);
        return Position - before;
    }

    /// <summary>The image is complete: its end is written and everything handed to the sink.</summary>
    public abstract void End();

    protected abstract void SelectDb(int db);
    protected abstract void Write(KeyEntry entry);
}
