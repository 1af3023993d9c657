using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Persistence.Aof;
using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Persistence.Snapshot;

/// <summary>
/// Writes a dataset's keys as they come, database by database or interleaved (a snapshot hands over
/// keys a command captured early): a database switch is written whenever the database changes.
/// The image is an RDB (a BGSAVE dump, or an AOF base with <c>aof-use-rdb-preamble yes</c>, Redis
/// 7.0's default) or the <see cref="AofRewriteEmitter"/> command program (an AOF base with
/// <c>no</c>). Either starts with the function libraries given (their code, taken with the snapshot).
/// The RDB's RESIZEDB hints are the databases' sizes when the writer is made (the snapshot's
/// instant), so it is made on the executor.
/// </summary>
public abstract class DatasetImageWriter
{
    int _db = -1;

    /// <summary>The base of a rewritten AOF, in the form <c>aof-use-rdb-preamble</c> gives now.</summary>
    public static DatasetImageWriter ForAofBase(Stream sink, ServerConfig config, Keyspace keyspace, IReadOnlyList<byte[]> libraries) =>
        config.AofUseRdbPreamble ? new RdbImage(sink, config, keyspace, libraries, aofBase: true) : new CommandImage(sink, libraries);

    /// <summary>An RDB dump (BGSAVE).</summary>
    public static DatasetImageWriter ForDump(Stream sink, ServerConfig config, Keyspace keyspace, IReadOnlyList<byte[]> libraries) =>
        new RdbImage(sink, config, keyspace, libraries, aofBase: false);

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

    sealed class RdbImage : DatasetImageWriter
    {
        readonly RdbWriter _writer;
        readonly (long Keys, long Expires)[] _sizes;

        public RdbImage(Stream sink, ServerConfig config, Keyspace keyspace, IReadOnlyList<byte[]> libraries, bool aofBase)
        {
            _sizes = new (long, long)[keyspace.Count];
            for (int i = 0; i < _sizes.Length; i++) _sizes[i] = (keyspace[i].Count, keyspace[i].ExpiresCount);
            _writer = new RdbWriter(sink, config.RdbCompression, config.RdbChecksum);
            _writer.WriteHeader(GC.GetTotalMemory(false), aofBase);
            _writer.WriteFunctions(libraries);
        }

        public override long Position => _writer.Position;
        public override void End() => _writer.WriteEnd();
        protected override void SelectDb(int db) => _writer.WriteSelectDb(db, _sizes[db].Keys, _sizes[db].Expires);
        protected override void Write(KeyEntry entry) => _writer.WriteKey(entry);
    }

    sealed class CommandImage : DatasetImageWriter
    {
        readonly Stream _sink;
        readonly AofRewriteEmitter _emitter;

        public CommandImage(Stream sink, IReadOnlyList<byte[]> libraries)
        {
            _sink = sink;
            _emitter = new AofRewriteEmitter(sink);
            _emitter.WriteFunctions(libraries);
        }

        /// <summary>The sink's position once the buffered commands reached it (a seekable sink).</summary>
        public override long Position
        {
            get
            {
                _emitter.Flush();
                return _sink.Position;
            }
        }

        public override void End() => _emitter.Flush();
        protected override void SelectDb(int db) => _emitter.WriteSelect(db);
        protected override void Write(KeyEntry entry) => _emitter.WriteKey(entry);
    }
}
