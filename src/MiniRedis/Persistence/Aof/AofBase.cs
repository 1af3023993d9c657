using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Persistence.Snapshot;

namespace MiniRedis.Persistence.Aof;

/// <summary>The base of a rewritten AOF: an RDB image, or the <see cref="AofRewriteEmitter"/> command program.</summary>
public static class AofBase
{
    /// <summary>A writer of the base in the form <c>aof-use-rdb-preamble</c> gives now (read when the rewrite starts).</summary>
    public static DatasetImageWriter NewWriter(Stream sink, ServerConfig config, Keyspace keyspace, IReadOnlyList<byte[]> libraries) =>
        config.AofUseRdbPreamble ? new RdbImageWriter(sink, config, keyspace, libraries, aofBase: true) : new CommandImage(sink, libraries);
}

/// <summary>The base as commands (<c>aof-use-rdb-preamble no</c>), starting with FUNCTION LOADs.</summary>
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
    protected override void WriteString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAt) => _emitter.WriteStringKey(key, value, expireAt);
}
