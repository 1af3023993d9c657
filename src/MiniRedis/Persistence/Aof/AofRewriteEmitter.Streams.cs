using MiniRedis.Data;

namespace MiniRedis.Persistence.Aof;

/// <summary>Streams as Redis 7.0's rewriteStreamObject writes them.</summary>
public sealed partial class AofRewriteEmitter
{
    /// <summary>
    /// An XADD per entry (an empty stream: XADD key MAXLEN 0 0-1 x y), XSETID with ENTRIESADDED and
    /// MAXDELETEDID, then per group XGROUP CREATE ... ENTRIESREAD, an XCLAIM ... JUSTID FORCE per pending
    /// entry of each consumer, and XGROUP CREATECONSUMER for a consumer with none.
    /// </summary>
    void WriteStream(ReadOnlySpan<byte> key, StreamValue stream)
    {
        if (stream.Length > 0)
        {
            var writer = new FieldWriter(_encoder);
            for (var it = new StreamIterator(stream, StreamId.Zero, StreamId.Max, reverse: false); it.MoveNext();)
            {
                _encoder.BeginCommand(3 + it.FieldCount * 2);
                _encoder.Bulk("XADD"u8);
                _encoder.Bulk(key);
                WriteId(it.Id);
                it.ReadFields(ref writer);
            }
        }
        else
        {
            _encoder.BeginCommand(7);
            _encoder.Bulk("XADD"u8);
            _encoder.Bulk(key);
            _encoder.Bulk("MAXLEN"u8);
            _encoder.Bulk("0"u8);
            WriteId(new StreamId(0, 1));
            _encoder.Bulk("x"u8);
            _encoder.Bulk("y"u8);
        }
        _encoder.BeginCommand(7);
        _encoder.Bulk("XSETID"u8);
        _encoder.Bulk(key);
        WriteId(stream.LastId);
        _encoder.Bulk("ENTRIESADDED"u8);
        _encoder.Bulk(stream.EntriesAdded);
        _encoder.Bulk("MAXDELETEDID"u8);
        WriteId(stream.MaxDeletedId);
        if (stream.Groups is null) return;
        foreach (var group in stream.Groups)
        {
            _encoder.BeginCommand(7);
            _encoder.Bulk("XGROUP"u8);
            _encoder.Bulk("CREATE"u8);
            _encoder.Bulk(key);
            _encoder.Bulk(group.Name);
            WriteId(group.LastId);
            _encoder.Bulk("ENTRIESREAD"u8);
            _encoder.Bulk(group.EntriesRead);
            foreach (var consumer in group.Consumers.Values)
            {
                if (consumer.Pending.Count == 0)
                {
                    _encoder.BeginCommand(5);
                    _encoder.Bulk("XGROUP"u8);
                    _encoder.Bulk("CREATECONSUMER"u8);
                    _encoder.Bulk(key);
                    _encoder.Bulk(group.Name);
                    _encoder.Bulk(consumer.Name);
                    continue;
                }
                foreach (var pending in consumer.Pending.Values)
                {
                    _encoder.BeginCommand(12);
                    _encoder.Bulk("XCLAIM"u8);
                    _encoder.Bulk(key);
                    _encoder.Bulk(group.Name);
                    _encoder.Bulk(consumer.Name);
                    _encoder.Bulk("0"u8);
                    WriteId(pending.Id);
                    _encoder.Bulk("TIME"u8);
                    _encoder.Bulk(pending.DeliveryTime);
                    _encoder.Bulk("RETRYCOUNT"u8);
                    _encoder.Bulk(pending.DeliveryCount);
                    _encoder.Bulk("JUSTID"u8);
                    _encoder.Bulk("FORCE"u8);
                }
            }
        }
    }

    void WriteId(StreamId id)
    {
        Span<byte> buffer = stackalloc byte[StreamId.MaxFormattedLength];
        _encoder.Bulk(buffer[..id.Format(buffer)]);
    }

    readonly struct FieldWriter(AofEncoder encoder) : IStreamFieldVisitor
    {
        public void Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            encoder.Bulk(field);
            encoder.Bulk(value);
        }
    }
}
