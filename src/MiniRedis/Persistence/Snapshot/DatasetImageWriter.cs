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
        Select(db);
        Write(entry);
    }

    void Select(int db)
    {
        if (db == _db) return;
        SelectDb(db);
        _db = db;
    }

    /// <summary>Writes key <paramref name="index"/> of a snapshot's chunk; returns its bytes when a command captured it before the walk (copy-on-write), else 0.</summary>
    public long Write(SnapshotChunk chunk, int index)
    {
        var key = chunk[index];
        long before = key.Captured ? Position : 0;
        Select(key.Db);
        if (key.Entry is { } entry) Write(entry);
        else WriteString(key.Key, key.String, key.ExpireAt);
        return key.Captured ? Position - before : 0;
    }

    /// <summary>The image is complete: its end is written and everything handed to the sink.</summary>
    public abstract void End();

    protected abstract void SelectDb(int db);
    protected abstract void Write(KeyEntry entry);

    /// <summary>A string key given by its bytes (as a <see cref="SnapshotChunk"/> holds it), with its expiry (unix ms) or 0.</summary>
    protected abstract void WriteString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAt);
}
