using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Tests.Data;

/// <summary>The sorted set value in both encodings: order, ranks, range bounds, conversions, against a plain model.</summary>
[Trait("Category", "Unit")]
public sealed class SortedSetValueTests
{
    static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    /// <summary>The model: (score, member) pairs in Redis order.</summary>
    static List<(double Score, string Member)> Sorted(Dictionary<string, double> model) =>
        [.. model.Select(p => (p.Value, p.Key)).OrderBy(p => p.Value).ThenBy(p => B(p.Key), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y)))];

    static List<(double Score, string Member)> Contents(SortedSetValue zset)
    {
        var list = new List<(double, string)>();
        if (zset.Count == 0) return list;
        var cursor = zset.At(0);
        for (long i = 0; i < zset.Count; i++, cursor.Advance()) list.Add((cursor.Score, Encoding.Latin1.GetString(cursor.Member)));
        return list;
    }

    [Theory]
    [InlineData(128, 1)]
    [InlineData(16, 2)]
    [InlineData(0, 3)]
    public void Random_operations_match_a_model(long maxEntries, int seed)
    {
        var random = new Random(seed);
        var zset = new SortedSetValue();
        var model = new Dictionary<string, double>();
        for (int step = 0; step < 3000; step++)
        {
            string member = "m" + random.Next(60);
            double score = random.Next(8) == 0 ? random.Next(-3, 3) : Math.Round(random.NextDouble() * 20 - 10, 1);
            switch (random.Next(4))
            {
                case 0 or 1:
                    if (zset.TryGetScore(B(member), out double old)) zset.UpdateScore(B(member), old, score);
                    else zset.Insert(B(member), score, maxEntries, 64);
                    model[member] = score;
                    break;
                case 2:
                    Assert.Equal(model.Remove(member), zset.Remove(B(member)));
                    break;
                default:
                    var expected = Sorted(model);
                    long start = random.Next(expected.Count + 1), end = random.Next((int)start, expected.Count + 1);
                    zset.RemoveRange(start, end);
                    foreach (var (_, removed) in expected.Skip((int)start).Take((int)(end - start))) model.Remove(removed);
                    break;
            }
            var sorted = Sorted(model);
            Assert.Equal(sorted, Contents(zset));
            Assert.Equal(sorted.FindIndex(p => p.Member == member), zset.RankOf(B(member)));
            double bound = random.Next(-10, 11);
            Assert.Equal(sorted.Count(p => p.Score < bound), zset.CountBefore(new ScoreBound(bound, afterEqual: false)));
            Assert.Equal(sorted.Count(p => p.Score <= bound), zset.CountBefore(new ScoreBound(bound, afterEqual: true)));
        }
        Assert.Equal(maxEntries >= 60 ? ObjectEncoding.Listpack : ObjectEncoding.Skiplist, zset.Encoding);
    }

    [Fact]
    public void Compact_form_converts_once_entries_or_member_length_pass_the_limits()
    {
        var zset = new SortedSetValue();
        zset.Insert(B("a"), 1, 2, 3);
        zset.Insert(B("b"), 2, 2, 3);
        Assert.Equal(ObjectEncoding.Listpack, zset.Encoding);
        zset.Insert(B("c"), 3, 2, 3);
        Assert.Equal(ObjectEncoding.Skiplist, zset.Encoding);
        zset.Remove(B("c"));
        zset.Remove(B("b"));
        Assert.Equal(ObjectEncoding.Skiplist, zset.Encoding);

        var longMember = new SortedSetValue();
        longMember.Insert(B("abc"), 1, 128, 3);
        Assert.Equal(ObjectEncoding.Listpack, longMember.Encoding);
        longMember.Insert(B("abcd"), 1, 128, 3);
        Assert.Equal(ObjectEncoding.Skiplist, longMember.Encoding);
        Assert.Equal([(1.0, "abc"), (1.0, "abcd")], Contents(longMember));
    }

    [Fact]
    public void Lex_bounds_order_members_bytewise()
    {
        var zset = new SortedSetValue();
        foreach (var m in new[] { "b", "a", "a\0b", "", "bb", "c" }) zset.Insert(B(m), 0, 128, 64);
        Assert.Equal(0, zset.CountBefore(new LexBound(null, false, isPlus: false)));
        Assert.Equal(6, zset.CountBefore(new LexBound(null, false, isPlus: true)));
        Assert.Equal(1, zset.CountBefore(new LexBound(B("a"), afterEqual: false, false)));
        Assert.Equal(3, zset.CountBefore(new LexBound(B("a\0b"), afterEqual: true, false)));
        Assert.Equal(["", "a", "a\0b", "b", "bb", "c"], Contents(zset).Select(p => p.Member));
    }

    [Fact]
    public void Compact_form_keeps_negative_zero_as_zero_like_the_listpack()
    {
        var compact = new SortedSetValue();
        compact.Insert(B("a"), -0.0, 128, 64);
        compact.TryGetScore(B("a"), out double score);
        Assert.False(double.IsNegative(score));

        var skiplist = new SortedSetValue();
        skiplist.Insert(B("a"), -0.0, 0, 64);
        skiplist.TryGetScore(B("a"), out score);
        Assert.True(double.IsNegative(score));
    }

    [Fact]
    public void Deep_copy_is_independent_in_both_encodings()
    {
        foreach (long maxEntries in new long[] { 128, 0 })
        {
            var zset = new SortedSetValue();
            zset.Insert(B("a"), 1, maxEntries, 64);
            zset.Insert(B("b"), 2, maxEntries, 64);
            var copy = (SortedSetValue)zset.DeepCopy();
            zset.Remove(B("a"));
            Assert.Equal(zset.Encoding, copy.Encoding);
            Assert.Equal([(1.0, "a"), (2.0, "b")], Contents(copy));
        }
    }

    [Fact]
    public void Skiplist_ranks_stay_right_over_many_elements()
    {
        var list = new SkipList();
        var order = Enumerable.Range(0, 2000).OrderBy(i => (i * 7919) % 2000).ToList();
        foreach (int i in order) list.Insert(B($"m{i:D5}"), i / 10);
        for (int i = 0; i < 2000; i += 37)
        {
            Assert.Equal(i, list.RankOf(B($"m{i:D5}"), i / 10));
            Assert.Equal(B($"m{i:D5}"), list.Member(list.NodeAt(i)));
        }
        for (int i = 0; i < 2000; i += 2) Assert.True(list.Delete(B($"m{i:D5}"), i / 10));
        Assert.Equal(1000, list.Count);
        Assert.Equal(B("m00999"), list.Member(list.NodeAt(499)));
        Assert.Equal(B("m01999"), list.Member(list.Last));
        Assert.Equal(B("m01997"), list.Member(list.Previous(list.Last)));
    }

    [Fact]
    public void Skiplist_score_moves_keep_every_link_rank_and_span()
    {
        // Moves in both directions, next to the old place (where the new position's predecessor is the moved node
        // itself) and far away, onto tied scores, with enough elements for nodes of several levels.
        var random = new Random(7);
        var list = new SkipList();
        var scores = new double[3000];
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = random.Next(1000);
            list.Insert(B($"m{i:D5}"), scores[i]);
        }
        for (int step = 0; step < 20000; step++)
        {
            int i = random.Next(scores.Length);
            double moved = random.Next(3) switch { 0 => scores[i] + random.Next(-2, 3) * 0.5, 1 => random.Next(1000), _ => 500 };
            if (moved == scores[i]) continue;
            list.UpdateScore(B($"m{i:D5}"), scores[i], moved);
            scores[i] = moved;
            if (step % 2000 != 0) continue;
            var expected = Enumerable.Range(0, scores.Length).OrderBy(k => scores[k]).ThenBy(k => k).ToList();
            int node = list.First, previous = SkipList.None;
            for (int rank = 0; rank < expected.Count; rank++)
            {
                Assert.Equal(B($"m{expected[rank]:D5}"), list.Member(node));
                Assert.Equal(scores[expected[rank]], list.Score(node));
                Assert.Equal(previous, list.Previous(node));
                Assert.Equal(node, list.NodeAt(rank));
                Assert.Equal(rank, list.RankOf(list.Member(node), list.Score(node)));
                previous = node;
                node = list.Next(node);
            }
            Assert.Equal(SkipList.None, node);
            Assert.Equal(previous, list.Last);
        }
    }
}
