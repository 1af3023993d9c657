using System.Text;
using MiniRedis.Data;
using Xunit;

namespace MiniRedis.Tests.Data;

/// <summary>
/// Appending to a stream writes into the tail node's room: counting the new entry in the master entry
/// used to copy the whole node (twice) on every XADD, garbage that piled up until a full collection.
/// A node's buffer starts at the size the previous node reached, so like entries fill it in place.
/// </summary>
[Trait("Category", "Unit")]
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

        // An entry is 13 bytes of listpack (a node of 100 about 1.3 KB). Sized from the node before, each
        // node's buffer is allocated once: little more than those bytes per entry. Doubling from empty and
        // trimming when full cost about 49 bytes per entry; copying the node per append, kilobytes.
        Assert.InRange(perEntry, 1, 20);
        Assert.Equal(Entries, stream.Length);
        Assert.Equal(Entries / 100, stream.Nodes.Count);
        Assert.Equal(new StreamId(1, Entries), stream.LastId);
        var node = stream.Nodes[^1];
        Assert.Equal(100, node.LiveCount);
        Assert.Equal(new StreamId(1, Entries - 99), node.IdAt(node.FirstEntryOffset));
    }

    /// <summary>
    /// Nodes filled in buffers sized ahead hold exactly the listpacks a plain listpack built entry by entry
    /// holds, split where Redis splits them: random entries (integers, short and multi-KB strings, three
    /// field sets) under random node limits, including counts past 127 (a wider master count) and entries
    /// above the byte limit.
    /// </summary>
    [Theory]
    [InlineData(1, 4096, 100)]
    [InlineData(2, 4096, 0)]
    [InlineData(3, 0, 300)]
    [InlineData(4, 200, 5)]
    [InlineData(5, 1 << 16, 1000)]
    [InlineData(6, 1, 0)]
    public void Sized_node_buffers_hold_the_listpacks_built_entry_by_entry(int seed, long maxBytes, long maxEntries)
    {
        var random = new Random(seed);
        byte[][][] schemas = [[B("sensor"), B("value")], [B("a"), B("b"), B("c")], [B("payload")]];
        var stream = new StreamValue();
        var expected = new List<byte[]>();
        byte[]? model = null;
        byte[][] modelFields = [];
        StreamId modelMaster = default;
        ulong ms = 1000, seq = 0;
        for (int n = 0; n < 3000; n++)
        {
            if (random.Next(3) == 0)
            {
                ms += (ulong)random.Next(1, 300);
                seq = (ulong)random.Next(3);
            }
            else seq++;
            var id = new StreamId(ms, seq);
            var schema = schemas[random.Next(10) < 8 ? 0 : random.Next(1, 3)];
            var fieldsAndValues = new List<byte[]>();
            foreach (var field in schema)
            {
                fieldsAndValues.Add(field);
                fieldsAndValues.Add(RandomValue(random));
            }
            var items = fieldsAndValues.ToArray();
            stream.Append(id, new StreamValue.ArrayFields(items), maxBytes, maxEntries);

            // The model: Redis's streamAppendItem over a listpack reallocated per element.
            long rawBytes = items.Sum(item => (long)item.Length);
            long byteLimit = maxBytes == 0 ? StreamValue.MaxListpackSize : maxBytes;
            if (model is not null && (model.Length + rawBytes >= byteLimit || (maxEntries != 0 && Listpack.GetInteger(model, Listpack.HeaderSize) >= maxEntries)))
            {
                expected.Add(model);
                model = null;
            }
            bool sameFields;
            if (model is null)
            {
                modelMaster = id;
                modelFields = schema;
                model = Listpack.Create();
                model = Listpack.Append(model, 1);
                model = Listpack.Append(model, 0);
                model = Listpack.Append(model, schema.Length);
                foreach (var field in schema) model = Listpack.Append(model, field);
                model = Listpack.Append(model, 0);
                sameFields = true;
            }
            else
            {
                model = Listpack.Replace(model, Listpack.HeaderSize, new ListpackValue(Listpack.GetInteger(model, Listpack.HeaderSize) + 1));
                sameFields = schema == modelFields;
            }
            model = Listpack.Append(model, sameFields ? StreamValue.FlagSameFields : 0);
            model = Listpack.Append(model, (long)(id.Ms - modelMaster.Ms));
            model = Listpack.Append(model, (long)(id.Seq - modelMaster.Seq));
            if (!sameFields) model = Listpack.Append(model, schema.Length);
            for (int i = 0; i < items.Length; i++)
            {
                if (!sameFields || i % 2 == 1) model = Listpack.Append(model, items[i]);
            }
            model = Listpack.Append(model, sameFields ? schema.Length + 3 : schema.Length * 2 + 4);
        }
        expected.Add(model!);

        Assert.Equal(expected.Count, stream.Nodes.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], stream.Nodes[i].Bytes.ToArray());
        Assert.Equal(expected.Sum(lp => (long)lp.Length), stream.NodeBytes);
    }

    static byte[] B(string text) => Encoding.ASCII.GetBytes(text);

    static byte[] RandomValue(Random random) => random.Next(20) switch
    {
        < 8 => B(random.Next(-5000, 5000).ToString(System.Globalization.CultureInfo.InvariantCulture)),
        < 10 => B(random.NextInt64().ToString(System.Globalization.CultureInfo.InvariantCulture)),
        < 19 => B(new string('v', random.Next(0, 70))),
        _ => B(new string('w', random.Next(4000, 9000))),
    };
}
