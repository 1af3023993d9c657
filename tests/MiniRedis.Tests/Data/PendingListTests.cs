using MiniRedis.Data;

namespace MiniRedis.Tests.Data;

/// <summary>
/// The chunked pending entries list against a SortedDictionary doing the same random additions,
/// replacements and removals: the same lookups, count, edges and order after every step, through chunk
/// splits (insertions in the middle of full chunks), appends past a full last chunk and emptied chunks.
/// </summary>
[Trait("Category", "Unit")]
public sealed class PendingListTests
{
    [Theory]
    [InlineData(1, 300)]
    [InlineData(2, 5000)]
    [InlineData(3, 40000)]
    public void Matches_a_sorted_dictionary(int seed, int idSpace)
    {
        var random = new Random(seed);
        var list = new PendingList();
        var model = new SortedDictionary<StreamId, PendingEntry>();
        for (int step = 0; step < 20000; step++)
        {
            // Mostly increasing IDs, as deliveries are, with some anywhere.
            var id = random.Next(4) == 0 ? new StreamId((ulong)random.Next(idSpace), (ulong)random.Next(3)) : new StreamId((ulong)(step * idSpace / 20000), (ulong)random.Next(3));
            switch (random.Next(5))
            {
                case 0:
                case 1:
                    var entry = new PendingEntry(id, step, 1);
                    Assert.Equal(model.TryAdd(id, entry), list.TryAdd(id, entry));
                    break;
                case 2:
                    var replacement = new PendingEntry(id, step, 2);
                    model[id] = replacement;
                    list[id] = replacement;
                    break;
                default:
                    var victim = random.Next(2) == 0 && model.Count > 0 ? model.Keys.ElementAt(random.Next(model.Count)) : id;
                    Assert.Equal(model.Remove(victim), list.Remove(victim));
                    break;
            }
            AssertAgrees(model, list, id);
            if (step % 1000 == 0) Assert.Equal(model.ToList(), list.ToList());
        }
        Assert.Equal(model.ToList(), list.ToList());
    }

    /// <summary>After each step: the count, the entry of the step's ID and both ends as the model has them.</summary>
    static void AssertAgrees(SortedDictionary<StreamId, PendingEntry> model, PendingList list, StreamId id)
    {
        Assert.Equal(model.Count, list.Count);
        Assert.Equal(model.TryGetValue(id, out var expected), list.TryGetValue(id, out var actual));
        Assert.Same(expected, actual);
        if (model.Count > 0)
        {
            Assert.Equal(model.Keys.First(), list.FirstId);
            Assert.Equal(model.Keys.Last(), list.LastId);
        }
    }

    /// <summary>
    /// XACK's pattern: deliveries appended, acknowledged mostly in delivery order (tombstones at the fronts of
    /// chunks, compacted at half), some entries claimed again after their acknowledgement (a tombstone's slot
    /// taken back) and insertions into full chunks that still hold tombstones.
    /// </summary>
    [Fact]
    public void Acknowledging_in_delivery_order_and_adding_again_matches_a_sorted_dictionary()
    {
        var random = new Random(7);
        var list = new PendingList();
        var model = new SortedDictionary<StreamId, PendingEntry>();
        ulong next = 0;
        var acknowledged = new List<StreamId>();
        for (int step = 0; step < 30000; step++)
        {
            int action = random.Next(10);
            StreamId id;
            if (action < 4) id = new StreamId(next += 2, 0);
            else if (action < 8 && model.Count > 0) id = model.Keys.ElementAt(Math.Min(model.Count - 1, random.Next(3)));
            else if (action == 8 && acknowledged.Count > 0) id = acknowledged[random.Next(acknowledged.Count)];
            else id = new StreamId((ulong)random.Next((int)next + 2) | 1, 0);
            if (action is >= 4 and < 8)
            {
                Assert.Equal(model.Remove(id), list.Remove(id));
                acknowledged.Add(id);
            }
            else
            {
                var entry = new PendingEntry(id, step, 1);
                Assert.Equal(model.TryAdd(id, entry), list.TryAdd(id, entry));
            }
            AssertAgrees(model, list, id);
            if (step % 500 == 0) Assert.Equal(model.ToList(), list.ToList());
        }
        Assert.Equal(model.ToList(), list.ToList());
    }

    /// <summary>
    /// XACK of random delivered IDs (the benchmark's pattern): a long list thinned out to a few entries per
    /// chunk, whose compacted chunks merge with their neighbours, then filled again in the gaps (splits of
    /// merged chunks) and thinned again; every lookup, hit or miss, agrees with the model throughout.
    /// </summary>
    [Fact]
    public void Thinning_a_long_list_out_and_filling_its_gaps_matches_a_sorted_dictionary()
    {
        var random = new Random(11);
        var list = new PendingList();
        var model = new SortedDictionary<StreamId, PendingEntry>();
        for (ulong i = 0; i < 20000; i++)
        {
            var entry = new PendingEntry(new StreamId(1, i), 0, 1);
            list.Add(entry.Id, entry);
            model.Add(entry.Id, entry);
        }
        for (int pass = 0; pass < 3; pass++)
        {
            for (int step = 0; step < 60000; step++)
            {
                var id = new StreamId(1, (ulong)random.Next(20000));
                Assert.Equal(model.Remove(id), list.Remove(id));
                var probe = new StreamId(1, (ulong)random.Next(20000));
                Assert.Equal(model.TryGetValue(probe, out var expected), list.TryGetValue(probe, out var actual));
                Assert.Same(expected, actual);
                if (step % 500 == 0) AssertAgrees(model, list, probe);
            }
            Assert.Equal(model.ToList(), list.ToList());
            for (int step = 0; step < 8000; step++)
            {
                var entry = new PendingEntry(new StreamId(1, (ulong)random.Next(20000)), step, 1);
                Assert.Equal(model.TryAdd(entry.Id, entry), list.TryAdd(entry.Id, entry));
                if (step % 100 == 0) AssertAgrees(model, list, entry.Id);
            }
            Assert.Equal(model.ToList(), list.ToList());
        }
    }

    [Fact]
    public void Enumerating_while_changing_throws()
    {
        var list = new PendingList();
        for (ulong i = 1; i <= 3; i++) list.Add(new StreamId(i, 0), new PendingEntry(new StreamId(i, 0), 0, 1));
        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var (id, _) in list) list.Remove(id);
        });
        Assert.Throws<ArgumentException>(() => list.Add(new StreamId(3, 0), new PendingEntry(new StreamId(3, 0), 0, 1)));
    }
}
