using System.Buffers.Binary;
using MiniRedis.Data;

namespace MiniRedis.Persistence.Rdb;

/// <summary>Streams in Redis 7.0's RDB_TYPE_STREAM_LISTPACKS_2 layout (rdbSaveObject).</summary>
public sealed partial class RdbWriter
{
    /// <summary>
    /// The nodes (master ID as 16 raw bytes, then the listpack as it is), the length, last, first and
    /// max-deleted IDs, entries-added; then each group: name, last ID, entries-read, its pending list
    /// (raw ID, delivery time, count) and its consumers (name, seen time, their pending IDs).
    /// </summary>
    void WriteStream(StreamValue stream)
    {
        Span<byte> id = stackalloc byte[16];
        WriteLength((ulong)stream.Nodes.Count);
        foreach (var node in stream.Nodes)
        {
            node.Master.WriteBigEndian(id);
            WriteString(id);
            WriteString(node.Bytes);
        }
        WriteLength((ulong)stream.Length);
        WriteStreamId(stream.LastId);
        WriteStreamId(stream.FirstId);
        WriteStreamId(stream.MaxDeletedId);
        WriteLength((ulong)stream.EntriesAdded);
        WriteLength((ulong)stream.GroupCount);
        if (stream.Groups is null) return;
        foreach (var group in stream.Groups)
        {
            WriteString(group.Name);
            WriteStreamId(group.LastId);
            WriteLength(unchecked((ulong)group.EntriesRead));
            WriteLength((ulong)group.Pending.Count);
            foreach (var pending in group.Pending.Values)
            {
                WriteRawId(pending.Id, id);
                WriteMilliseconds(pending.DeliveryTime);
                WriteLength((ulong)pending.DeliveryCount);
            }
            WriteLength((ulong)group.Consumers.Count);
            foreach (var consumer in group.Consumers.Values)
            {
                WriteString(consumer.Name);
                WriteMilliseconds(consumer.SeenTime);
                WriteLength((ulong)consumer.Pending.Count);
                foreach (var pendingId in consumer.Pending.Keys) WriteRawId(pendingId, id);
            }
        }
    }

    void WriteStreamId(StreamId id)
    {
        WriteLength(id.Ms);
        WriteLength(id.Seq);
    }

    void WriteRawId(StreamId id, Span<byte> scratch)
    {
        id.WriteBigEndian(scratch);
        WriteRaw(scratch);
    }

    void WriteMilliseconds(long ms)
    {
        BinaryPrimitives.WriteInt64LittleEndian(Reserve(8), ms);
        _length += 8;
    }
}
