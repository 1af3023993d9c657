using MiniRedis.Data;

namespace MiniRedis.Tests.Data;

/// <summary>The intset byte format, checked against blobs from real Redis 7.0.15 (DUMP of sets, type 11).</summary>
[Trait("Category", "Unit")]
public sealed class IntsetTests
{
    static byte[] Build(params long[] values)
    {
        var set = Intset.Create();
        foreach (long value in values) set = Intset.Add(set, value, out _);
        return set;
    }

    [Theory]
    [InlineData("0200000004000000fdff000005006400", new long[] { 5, -3, 100, 0 })]
    [InlineData("0400000003000000ffffffff0500000070110100", new long[] { 5, 70000, -1 })]
    [InlineData("0800000003000000000efad5feffffff01000000000000000200000000000000", new long[] { 1, -5000000000, 2 })]
    public void Adding_builds_the_bytes_redis_builds(string redisHex, long[] added)
    {
        var set = Build(added);
        Assert.Equal(redisHex, Convert.ToHexString(set), ignoreCase: true);
        Assert.True(Intset.IsValid(set));
    }

    [Fact]
    public void Values_read_back_sorted_and_upgrades_keep_order()
    {
        var set = Build(3, 1, 2);
        set = Intset.Add(set, long.MinValue, out bool added);
        Assert.True(added);
        set = Intset.Add(set, 2, out added);
        Assert.False(added);
        Assert.Equal(8, Intset.Width(set));
        long[] values = new long[Intset.Count(set)];
        for (int i = 0; i < values.Length; i++) values[i] = Intset.Get(set, i);
        Assert.Equal([long.MinValue, 1, 2, 3], values);
        Assert.True(Intset.Contains(set, 3));
        Assert.False(Intset.Contains(set, 4));
    }

    [Fact]
    public void Removal_keeps_the_width_like_redis()
    {
        var set = Build(1, 100000);
        set = Intset.Remove(set, 100000, out bool removed);
        Assert.True(removed);
        Assert.Equal(4, Intset.Width(set));
        Intset.Remove(set, 1L << 40, out removed);
        Assert.False(removed);
        set = Intset.Remove(set, 1, out removed);
        Assert.Equal(0, Intset.Count(set));
    }

    [Fact]
    public void Unsorted_or_mis_sized_blobs_are_invalid()
    {
        Assert.False(Intset.IsValid(Convert.FromHexString("02000000020000000500fdff")));
        Assert.False(Intset.IsValid(Convert.FromHexString("0200000003000000fdff0500")));
        Assert.False(Intset.IsValid(Convert.FromHexString("03000000010000000500ff")));
    }
}
