using System.Text;
using MiniRedis.Data;
using Xunit;

namespace MiniRedis.Tests.Data;

/// <summary>
/// Appending to a stream writes into the tail node's room: counting the new entry in the master entry
/// used to copy the whole node (twice) on every XADD, garbage that piled up until a full collection.
/// </summary>
public class StreamAppendTests
{
    [Fact]
    public void Appends_copy_no_node_and_read_back_in_order()
    {
        var fields = new[] { Encoding.ASCII.GetBytes("sensor"), Encoding.ASCII.GetBytes("12"), Encoding.ASCII.GetBytes("value"), Encoding.ASCII.GetBytes("345") };
        var stream = new StreamValue();
        const int Entries = 10_000;
        // Warm up: the node list's growth and the first node's buffer are not what is measured.
        for (int i = 1; i <= 100; i++) stream.Append(new StreamId(1, (ulong)i), new StreamValue.ArrayFields(fields), 4096, 100);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 101; i <= Entries; i++) stream.Append(new StreamId(1, (ulong)i), new StreamValue.ArrayFields(fields), 4096, 100);
        long perEntry = (GC.GetAllocatedBytesForCurrentThread() - before) / (Entries - 100);

        // A node of 100 entries (about 1.2 KB) grows its buffer by doubling and is trimmed once when full:
        // a few KB per node, tens of bytes per entry. Copying the node per append cost kilobytes per entry.
        Assert.InRange(perEntry, 1, 100);
        Assert.Equal(Entries, stream.Length);
        Assert.Equal(Entries / 100, stream.Nodes.Count);
        Assert.Equal(new StreamId(1, Entries), stream.LastId);
        var node = stream.Nodes[^1];
        Assert.Equal(100, node.LiveCount);
        Assert.Equal(new StreamId(1, Entries - 99), node.IdAt(node.FirstEntryOffset));
    }
}
