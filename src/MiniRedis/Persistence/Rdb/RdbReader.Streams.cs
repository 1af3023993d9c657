using System.Buffers.Binary;
using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// Streams (types 15 and 19), as Redis's rdbLoadObject reads them, with its error texts. Every node's
/// listpack is walked in full before it is adopted, so a damaged one fails the load instead of a later command.
/// </summary>
public sealed partial class RdbReader
{
    StreamValue ReadStream(RdbType rdbType)
    {
        var stream = new StreamValue();
        long nodes = ReadCount();
        var previous = StreamId.Zero;
        for (long i = 0; i < nodes; i++)
        {
            var key = ReadStringArray();
            if (key.Length != 16) throw Corrupt("Stream node key entry is not the size of a stream ID");
            var master = StreamId.ReadBigEndian(key);
            var listpack = ReadStringArray();
            if (Listpack.IsValid(listpack) && Listpack.First(listpack) < 0) throw Corrupt("Empty listpack inside stream");
            if (!StreamNode.IsValidListpack(listpack, master)) throw Corrupt("Stream listpack integrity check failed.");
            if (i > 0 && master <= previous)
                throw Corrupt(master == previous ? "Listpack re-added with existing key" : "Stream listpack integrity check failed.");
            previous = master;
            stream.AddNode(StreamNode.FromListpack(master, listpack));
        }
        stream.Length = (long)ReadLength(out _);
        stream.LastId = ReadStreamId();
        if (rdbType == RdbType.StreamListpacks2)
        {
            stream.FirstId = ReadStreamId();
            stream.MaxDeletedId = ReadStreamId();
            stream.EntriesAdded = (long)ReadLength(out _);
        }
        else
        {
            // Before 7.0 these were not kept: Redis derives them as it loads an older dump.
            stream.EntriesAdded = stream.Length;
            stream.TryGetEdge(first: true, out stream.FirstId);
        }
        long live = 0;
        foreach (var node in stream.Nodes) live += node.LiveCount;
        if (stream.Length != 0 && stream.Nodes.Count == 0) throw Corrupt("Stream length inconsistent with rax entries");
        if (live != stream.Length) throw Corrupt("Stream listpack integrity check failed.");

        long groups = ReadCount();
        Span<byte> rawId = stackalloc byte[16];
        for (long g = 0; g < groups; g++)
        {
            var name = ReadStringArray();
            var lastId = ReadStreamId();
            long entriesRead = rdbType == RdbType.StreamListpacks2
                ? unchecked((long)ReadLength(out _))
                : stream.EstimateEntriesRead(lastId);
            var group = stream.CreateGroup(name, lastId, entriesRead)
                ?? throw Corrupt($"Duplicated consumer group name {Encoding.Latin1.GetString(name)}");
            long pendingCount = ReadCount();
            for (long p = 0; p < pendingCount; p++)
            {
                var id = ReadRawStreamId(rawId);
                long deliveryTime = ReadMilliseconds();
                long deliveryCount = (long)ReadLength(out _);
                if (!group.Pending.TryAdd(id, new PendingEntry(id, deliveryTime, deliveryCount)))
                    throw Corrupt("Duplicated global PEL entry loading stream consumer group");
            }
            long consumers = ReadCount();
            for (long c = 0; c < consumers; c++)
            {
                var consumerName = ReadStringArray();
                var consumer = group.CreateConsumer(consumerName, 0) ?? throw Corrupt("Duplicate stream consumer detected.");
                consumer.SeenTime = ReadMilliseconds();
                long owned = ReadCount();
                for (long p = 0; p < owned; p++)
                {
                    var id = ReadRawStreamId(rawId);
                    if (!group.Pending.TryGetValue(id, out var pending)) throw Corrupt("Consumer entry not found in group global PEL");
                    if (pending.Consumer is not null) throw Corrupt("Duplicated consumer PEL entry  loading a stream consumer group");
                    pending.Consumer = consumer;
                    consumer.Pending.Add(id, pending);
                }
            }
            foreach (var pending in group.Pending.Values)
            {
                if (pending.Consumer is null) throw Corrupt("Stream CG PEL entry without consumer");
            }
        }
        return stream;
    }

    StreamId ReadStreamId()
    {
        ulong ms = ReadLength(out _);
        return new StreamId(ms, ReadLength(out _));
    }

    StreamId ReadRawStreamId(Span<byte> scratch)
    {
        Need(16);
        Take(16).CopyTo(scratch);
        return StreamId.ReadBigEndian(scratch);
    }

    long ReadMilliseconds()
    {
        Need(8);
        return BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    }
}
