using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// Writes the whole dataset as a new AOF (blocking), for <c>CONFIG SET appendonly yes</c> and for
/// the AOF created at start: its base (see <see cref="AofBaseWriter"/>) into a temporary file,
/// fsynced, then renamed over the AOF, so a failure leaves the old file alone.
/// </summary>
public static class AofDatasetDump
{
    public static void WriteFile(Keyspace keyspace, ServerConfig config, string path)
    {
        string temporary = $"{path}.temp-{Environment.ProcessId}";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                var hints = new (long Keys, long Expires)[keyspace.Count];
                for (int i = 0; i < hints.Length; i++) hints[i] = (keyspace[i].Count, keyspace[i].ExpiresCount);
                var writer = AofBaseWriter.Create(file, config, hints);
                for (int i = 0; i < keyspace.Count; i++)
                {
                    foreach (var entry in keyspace[i]) writer.WriteKey(i, entry);
                }
                writer.End();
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}

/// <summary>
/// The base of a rewritten AOF, in the form <c>aof-use-rdb-preamble</c> chose when the rewrite
/// began: an RDB image with <c>aof-base 1</c> (yes, Redis 7.0's default) or the command program of
/// <see cref="AofRewriteEmitter"/> (no). Keys may come database by database or interleaved (keys a
/// command captured early): a database switch is written whenever the database changes.
/// </summary>
public abstract class AofBaseWriter
{
    int _db = -1;

    /// <param name="hints">Per database, keys and keys with a TTL at the instant (RDB's RESIZEDB hints).</param>
    public static AofBaseWriter Create(Stream sink, ServerConfig config, IReadOnlyList<(long Keys, long Expires)> hints) =>
        config.AofUseRdbPreamble ? new RdbBase(sink, config, hints) : new CommandBase(sink);

    /// <summary>Bytes of the base produced so far.</summary>
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

    /// <summary>The base is complete: its end is written and everything handed to the sink.</summary>
    public abstract void End();

    protected abstract void SelectDb(int db);
    protected abstract void Write(KeyEntry entry);

    sealed class RdbBase : AofBaseWriter
    {
        readonly RdbWriter _writer;
        readonly IReadOnlyList<(long Keys, long Expires)> _hints;

        public RdbBase(Stream sink, ServerConfig config, IReadOnlyList<(long Keys, long Expires)> hints)
        {
            _writer = new RdbWriter(sink, config.RdbCompression, config.RdbChecksum);
            _hints = hints;
            _writer.WriteHeader(GC.GetTotalMemory(false), aofBase: true);
        }

        public override long Position => _writer.Position;
        public override void End() => _writer.WriteEnd();
        protected override void SelectDb(int db) => _writer.WriteSelectDb(db, _hints[db].Keys, _hints[db].Expires);
        protected override void Write(KeyEntry entry) => _writer.WriteKey(entry);
    }

    sealed class CommandBase(Stream sink) : AofBaseWriter
    {
        readonly AofRewriteEmitter _emitter = new(sink);

        /// <summary>The sink's position once the buffered commands reached it (a seekable sink).</summary>
        public override long Position
        {
            get
            {
                _emitter.Flush();
                return sink.Position;
            }
        }

        public override void End() => _emitter.Flush();
        protected override void SelectDb(int db) => _emitter.WriteSelect(db);
        protected override void Write(KeyEntry entry) => _emitter.WriteKey(entry);
    }
}
