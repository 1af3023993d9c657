using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Persistence.Snapshot;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// A dataset as an RDB image (a dump, or an AOF base with <c>aof-use-rdb-preamble yes</c>, Redis 7.0's
/// default), starting with the function libraries given (their code, taken with the snapshot). The
/// RESIZEDB hints are the databases' sizes when the writer is made (the snapshot's instant), so it
/// is made on the executor.
/// </summary>
public sealed class RdbImageWriter : DatasetImageWriter
{
    readonly RdbWriter _writer;
    readonly (long Keys, long Expires)[] _sizes;

    public RdbImageWriter(Stream sink, ServerConfig config, Keyspace keyspace, IReadOnlyList<byte[]> libraries, bool aofBase,
        RdbReplicationInfo? replication = null)
    {
        _sizes = new (long, long)[keyspace.Count];
        for (int i = 0; i < _sizes.Length; i++) _sizes[i] = (keyspace[i].Count, keyspace[i].ExpiresCount);
        _writer = new RdbWriter(sink, config.RdbCompression, config.RdbChecksum);
        _writer.WriteHeader(GC.GetTotalMemory(false), aofBase, replication);
        _writer.WriteFunctions(libraries);
    }

    public override long Position => _writer.Position;
    public override void End() => _writer.WriteEnd();
    protected override void SelectDb(int db) => _writer.WriteSelectDb(db, _sizes[db].Keys, _sizes[db].Expires);
    protected override void Write(KeyEntry entry) => _writer.WriteKey(entry);
    protected override void WriteString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAt) => _writer.WriteStringKey(key, value, expireAt);
}
