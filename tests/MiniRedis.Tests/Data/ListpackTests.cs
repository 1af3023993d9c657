using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Tests.Data;

/// <summary>
/// The listpack byte format, checked against blobs taken from real Redis 7.0.15 (DUMP of a hash with
/// rdbcompression off: type 16, the length, then the listpack itself).
/// </summary>
[Trait("Category", "Unit")]
public sealed class ListpackTests
{
    /// <summary>
    /// HSET fx a 1 name hello neg -5 n13 -4000 i16 30000 i24 8000000 i32 2000000000
    /// i64 9000000000000000000 lead0 007 long x*100 huge y*5000 "" -0 (hash-max-listpack-value 10000).
    /// </summary>
    static readonly byte[] RedisHash = Convert.FromHexString(
        "6a14000018008161020101846e616d65058568656c6c6f06836e656704dffb02836e313304d060028369313604f130750383693234"
        + "04f200127a048369333204f300943577058369363404f4000084e2506ce67c09856c65616430068330303704846c6f6e6705e064"
        + Convert.ToHexString(Encoding.ASCII.GetBytes(new string('x', 100))).ToLowerInvariant()
        + "66846875676505f088130000" + Convert.ToHexString(Encoding.ASCII.GetBytes(new string('y', 5000)))
        + "278d8001822d3003ff");

    static readonly string[] RedisHashEntries =
    [
        "a", "1", "name", "hello", "neg", "-5", "n13", "-4000", "i16", "30000", "i24", "8000000", "i32", "2000000000",
        "i64", "9000000000000000000", "lead0", "007", "long", new string('x', 100), "huge", new string('y', 5000), "", "-0",
    ];

    static byte[] Build(IEnumerable<string> entries)
    {
        var lp = Listpack.Create();
        foreach (var entry in entries) lp = Listpack.Append(lp, Encoding.ASCII.GetBytes(entry));
        return lp;
    }

    static List<string> Read(byte[] lp)
    {
        var entries = new List<string>();
        for (int p = Listpack.First(lp); p >= 0; p = Listpack.Next(lp, p))
            entries.Add(Encoding.ASCII.GetString(Listpack.Get(lp, p).ToArray()));
        return entries;
    }

    [Fact]
    public void Appending_builds_the_bytes_redis_builds()
    {
        Assert.Equal(Convert.ToHexString(RedisHash), Convert.ToHexString(Build(RedisHashEntries)));
    }

    [Fact]
    public void Redis_blob_reads_back_forwards_and_backwards()
    {
        Assert.True(Listpack.IsValid(RedisHash));
        Assert.Equal(24, Listpack.Count(RedisHash));
        Assert.Equal(RedisHashEntries, Read(RedisHash));
        var backwards = new List<string>();
        for (int p = Listpack.Last(RedisHash); p >= 0; p = Listpack.Prev(RedisHash, p))
            backwards.Add(Encoding.ASCII.GetString(Listpack.Get(RedisHash, p).ToArray()));
        backwards.Reverse();
        Assert.Equal(RedisHashEntries, backwards);
    }

    [Fact]
    public void Integer_looking_strings_are_stored_as_integers_only_when_canonical()
    {
        var lp = Build(["-4000", "007", "-0", "9223372036854775807", "9223372036854775808"]);
        Assert.True(Listpack.Get(lp, Listpack.Seek(lp, 0)).IsInteger);
        Assert.False(Listpack.Get(lp, Listpack.Seek(lp, 1)).IsInteger);
        Assert.False(Listpack.Get(lp, Listpack.Seek(lp, 2)).IsInteger);
        Assert.Equal(long.MaxValue, Listpack.Get(lp, Listpack.Seek(lp, 3)).Integer);
        Assert.False(Listpack.Get(lp, Listpack.Seek(lp, -1)).IsInteger);
    }

    [Theory]
    [InlineData(0L), InlineData(127L), InlineData(128L), InlineData(-1L), InlineData(-4096L), InlineData(4095L), InlineData(4096L),
     InlineData(-4097L), InlineData(32767L), InlineData(-32768L), InlineData(32768L), InlineData(8388607L), InlineData(-8388608L),
     InlineData(8388608L), InlineData(int.MaxValue), InlineData(int.MinValue), InlineData(long.MaxValue), InlineData(long.MinValue)]
    public void Every_integer_width_round_trips(long value)
    {
        var lp = Listpack.Append(Listpack.Append(Listpack.Create(), value), "tail"u8);
        Assert.True(Listpack.IsValid(lp));
        Assert.Equal(value, Listpack.Get(lp, Listpack.First(lp)).Integer);
        Assert.Equal(Listpack.First(lp), Listpack.Prev(lp, Listpack.Last(lp)));
    }

    [Fact]
    public void Insert_replace_and_delete_keep_the_structure_valid()
    {
        var lp = Build(["a", "b", "c"]);
        lp = Listpack.Insert(lp, Listpack.Seek(lp, 1), "x"u8);
        Assert.Equal(["a", "x", "b", "c"], Read(lp));
        var sameSize = Listpack.Replace(lp, Listpack.Seek(lp, 1), "y"u8);
        Assert.Same(lp, sameSize);
        lp = Listpack.Replace(lp, Listpack.Seek(lp, 1), Encoding.ASCII.GetBytes(new string('z', 200)));
        Assert.Equal(["a", new string('z', 200), "b", "c"], Read(lp));
        lp = Listpack.Delete(lp, Listpack.Seek(lp, 0), 2);
        Assert.Equal(["b", "c"], Read(lp));
        Assert.True(Listpack.IsValid(lp));
        lp = Listpack.Delete(lp, Listpack.First(lp), 10);
        Assert.Equal(0, Listpack.Count(lp));
        Assert.Equal(-1, Listpack.First(lp));
        Assert.Equal(Listpack.Create(), lp);
    }

    [Fact]
    public void Find_compares_integers_and_strings_with_a_stride()
    {
        var lp = Build(["f1", "v", "10", "1", "f3", "10"]);
        Assert.Equal(Listpack.Seek(lp, 2), Listpack.Find(lp, Listpack.First(lp), "10"u8, 1));
        Assert.Equal(-1, Listpack.Find(lp, Listpack.First(lp), "1"u8, 1));
        Assert.Equal(Listpack.Seek(lp, 3), Listpack.Find(lp, Listpack.Seek(lp, 1), "1"u8, 1));
        Assert.Equal(-1, Listpack.Find(lp, Listpack.First(lp), "010"u8, 0));
    }

    [Fact]
    public void Count_beyond_the_header_field_is_walked()
    {
        var lp = Build(["a", "b"]);
        BitConverter.TryWriteBytes(lp.AsSpan(4), (ushort)(Listpack.UnknownCount - 1));
        lp = Listpack.Append(lp, "c"u8);
        Assert.Equal(Listpack.UnknownCount, BitConverter.ToUInt16(lp, 4));
        Assert.Equal(3, Listpack.Count(lp));
        lp = Listpack.Delete(lp, Listpack.First(lp), 1);
        Assert.Equal(Listpack.UnknownCount, BitConverter.ToUInt16(lp, 4));
        Assert.Equal(2, Listpack.Count(lp));
        Assert.True(Listpack.IsValid(lp));
    }

    [Fact]
    public void Corrupt_blobs_are_rejected()
    {
        var truncated = RedisHash[..^1];
        Assert.False(Listpack.IsValid(truncated));
        var badBacklen = (byte[])RedisHash.Clone();
        badBacklen[Listpack.HeaderSize + 2] = 9;
        Assert.False(Listpack.IsValid(badBacklen));
        var badCount = (byte[])RedisHash.Clone();
        badCount[4] = 3;
        Assert.False(Listpack.IsValid(badCount));
    }
}
