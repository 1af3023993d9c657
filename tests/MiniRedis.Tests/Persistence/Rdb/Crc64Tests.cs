using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Tests.Persistence.Rdb;

[Trait("Category", "Unit")]
public sealed class Crc64Tests
{
    [Fact]
    public void Check_value_is_redis_s()
    {
        Assert.Equal(0xe9c6d914c4b8d9caUL, Crc64.Compute("123456789"u8));
        Assert.Equal(0UL, Crc64.Compute([]));
    }

    /// <summary>The trailer real Redis 7.0.15 wrote after a SAVE of "a" (100 bytes) and "n" = 12345, over all preceding bytes.</summary>
    [Fact]
    public void Matches_the_trailer_of_a_real_dump()
    {
        var dump = Convert.FromHexString(
            "524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa056374696d65c2e08e026b" +
            "fa08757365642d6d656dc258550e00fa08616f662d62617365c000fe00fb0200000161c31240640a6162636465666768696a61e04e0901" +
            "696a00016ec13930ff");
        var trailer = Convert.FromHexString("eb983c9f84e3bc53");
        Assert.Equal(BitConverter.ToUInt64(trailer), Crc64.Compute(dump));
    }

    [Fact]
    public void Any_split_gives_the_same_value()
    {
        var data = new byte[1000];
        new Random(5).NextBytes(data);
        ulong whole = Crc64.Compute(data);
        foreach (int split in new[] { 1, 7, 8, 9, 333, 999 })
        {
            Assert.Equal(whole, Crc64.Update(Crc64.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }
}
