using MiniRedis.Data;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// Writes the dataset as the minimal command program that rebuilds it, the text Redis 7.0's
/// rewriteAppendOnlyFileRio writes with <c>aof-use-rdb-preamble no</c>: per non-empty database a
/// SELECT; per key SET for a string, RPUSH / SADD / ZADD / HMSET with at most 64 items each
/// (AOF_REWRITE_ITEMS_PER_CMD) for collections, then PEXPIREAT for a TTL. Type-aware here and only
/// here: values expose their elements through their types' enumeration APIs. Output goes through a
/// reused buffer to any stream; the caller flushes, syncs and renames.
/// </summary>
public sealed partial class AofRewriteEmitter(Stream sink)
{
    /// <summary>Redis's AOF_REWRITE_ITEMS_PER_CMD.</summary>
    public const int ItemsPerCommand = 64;
    const int DrainThreshold = 1 << 20;

    readonly AofEncoder _encoder = new();

    /// <summary>Redis's rewriteFunctions: a FUNCTION LOAD per library, before the databases.</summary>
    public void WriteFunctions(IReadOnlyList<byte[]> libraries)
    {
        foreach (var code in libraries)
        {
            _encoder.BeginCommand(3);
            _encoder.Bulk("FUNCTION"u8);
            _encoder.Bulk("LOAD"u8);
            _encoder.Bulk(code);
        }
    }

    public void WriteSelect(int db)
    {
        _encoder.BeginCommand(2);
        _encoder.Bulk("SELECT"u8);
        _encoder.Bulk(db);
    }

    /// <summary>The commands that recreate <paramref name="entry"/> (value and TTL) in the selected database.</summary>
    public void WriteKey(KeyEntry entry)
    {
        switch (entry.Type)
        {
            case RedisType.String:
                WriteStringKey(entry.Key, entry.StringValue, entry.ExpireAt);
                return;
            case RedisType.List:
                WriteList(entry);
                break;
            case RedisType.Set:
                WriteSet(entry);
                break;
            case RedisType.ZSet:
                WriteSortedSet(entry);
                break;
            case RedisType.Hash:
                WriteHash(entry);
                break;
            case RedisType.Stream:
                WriteStream(entry.Key, (StreamValue)entry.Value);
                break;
            default:
                throw new NotSupportedException($"a {entry.Type} value cannot be written to the AOF yet");
        }
        EndKey(entry.Key, entry.ExpireAt);
    }

    /// <summary>A string key given by its bytes, as <see cref="WriteKey"/> writes one (expiry: unix ms, or 0).</summary>
    public void WriteStringKey(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAt)
    {
        _encoder.BeginCommand(3);
        _encoder.Bulk("SET"u8);
        _encoder.Bulk(key);
        _encoder.Bulk(value);
        EndKey(key, expireAt);
    }

    /// <summary>The key's TTL, if any, after its value.</summary>
    void EndKey(ReadOnlySpan<byte> key, long expireAt)
    {
        if (expireAt != 0)
        {
            _encoder.BeginCommand(3);
            _encoder.Bulk("PEXPIREAT"u8);
            _encoder.Bulk(key);
            _encoder.Bulk(expireAt);
        }
        if (_encoder.Length >= DrainThreshold) Flush();
    }

    /// <summary>Hands the buffered bytes to the stream.</summary>
    public void Flush()
    {
        sink.Write(_encoder.Written);
        _encoder.Consume(_encoder.Length);
    }

    void WriteList(KeyEntry entry)
    {
        var list = (ListValue)entry.Value;
        var batch = new Batch(_encoder, "RPUSH"u8, entry.Key, list.Count, 1);
        var elements = list.At(0);
        for (int i = 0; i < list.Count; i++, elements.Advance())
        {
            batch.NextItem();
            _encoder.Bulk(elements.Current);
        }
    }

    void WriteSet(KeyEntry entry)
    {
        var batch = new Batch(_encoder, "SADD"u8, entry.Key, SetValue.Count(entry), 1);
        Span<byte> scratch = stackalloc byte[RedisNumbers.MaxInt64Length];
        for (var members = new SetValue.Enumerator(entry); members.MoveNext();)
        {
            batch.NextItem();
            _encoder.Bulk(members.Current.AsBytes(scratch));
        }
    }

    /// <summary>ZADD score member..., scores as %.17g like Redis's rioWriteBulkDouble.</summary>
    void WriteSortedSet(KeyEntry entry)
    {
        var zset = (SortedSetValue)entry.Value;
        var batch = new Batch(_encoder, "ZADD"u8, entry.Key, zset.Count, 2);
        Span<byte> score = stackalloc byte[RedisNumbers.MaxDoubleLength];
        var cursor = zset.At(0);
        for (long i = 0; i < zset.Count; i++, cursor.Advance())
        {
            batch.NextItem();
            _encoder.Bulk(score[..RedisNumbers.FormatDouble(cursor.Score, score)]);
            _encoder.Bulk(cursor.Member);
        }
    }

    void WriteHash(KeyEntry entry)
    {
        var batch = new Batch(_encoder, "HMSET"u8, entry.Key, HashValue.Length(entry), 2);
        Span<byte> scratch = stackalloc byte[RedisNumbers.MaxInt64Length];
        for (var fields = new HashValue.Enumerator(entry); fields.MoveNext();)
        {
            batch.NextItem();
            _encoder.Bulk(fields.Field.AsBytes(scratch));
            _encoder.Bulk(fields.Value.AsBytes(scratch));
        }
    }

    /// <summary>
    /// Splits a collection's items into commands of <see cref="ItemsPerCommand"/> items (an item is
    /// <paramref name="argsPerItem"/> arguments: a member, or a field and its value), each starting
    /// with the command name and the key.
    /// </summary>
    ref struct Batch(AofEncoder encoder, ReadOnlySpan<byte> command, ReadOnlySpan<byte> key, long items, int argsPerItem)
    {
        readonly ReadOnlySpan<byte> _command = command;
        readonly ReadOnlySpan<byte> _key = key;
        long _remaining = items;
        int _inCommand;

        /// <summary>Call before writing each item's arguments: starts a new command when the last one is full.</summary>
        public void NextItem()
        {
            if (_inCommand == 0)
            {
                long count = Math.Min(_remaining, ItemsPerCommand);
                encoder.BeginCommand(2 + (int)count * argsPerItem);
                encoder.Bulk(_command);
                encoder.Bulk(_key);
            }
            if (++_inCommand == ItemsPerCommand) _inCommand = 0;
            _remaining--;
        }
    }
}
