using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// Dumps in the forms Redis 6 and older wrote (ziplists, quicklist v1, zipmap, text scores, plain
/// types, second expiries, LRU/LFU opcodes), built by hand from the format description. Real Redis
/// 7.0.15 loads the same bytes too, and both must end with the same dataset and encodings.
/// </summary>
[Trait("Category", "Differential")]
public sealed class RdbLegacyCodecTests
{
    static byte[] LegacyImage(int version)
    {
        string longText = new('t', 300);
        var intset = Intset.Create();
        foreach (long value in new long[] { 5, -70000, 12 }) intset = Intset.Add(intset, value, out _);
        var repeated = Convert.FromHexString("0a6162636465666768696a61e04e0901696a");
        var image = new RdbImage(version);
        if (version >= 7) image.Aux("redis-ver", "6.2.14").Aux("redis-bits", "64");
        return image
            .SelectDb(0).Byte(RdbFormat.OpResizeDb).Length(20).Length(2)
            .Key(RdbType.ListZiplist, "zl:list").String(RdbImage.Ziplist("a", "hello", 7, -2, 300, 70000, 5_000_000_000L, 12, -8_000_000, 100_000, longText, "after-long", 0))
            .Key(RdbType.ListQuicklist, "ql:list").Length(3).String(RdbImage.Ziplist("n1a", "n1b", 1)).String(RdbImage.Ziplist()).String(RdbImage.Ziplist(2, "n2b"))
            .Key(RdbType.HashZiplist, "zl:hash").String(RdbImage.Ziplist("f1", "v1", "f2", 42, "n", -7))
            .Key(RdbType.HashZiplist, "zl:bighash").String(RdbImage.Ziplist([.. Enumerable.Range(0, 600).SelectMany(i => new object[] { $"f{i}", i })]))
            .Key(RdbType.ZSetZiplist, "zl:zset").String(RdbImage.Ziplist("m3", "-inf", "m1", "1.5", "m2", 3, "m4", "1e+20"))
            .Key(RdbType.HashZipmap, "zm:hash").String(RdbImage.Zipmap(("name", "redis"), ("ver", "24"), ("n", "")))
            .Key(RdbType.HashZipmap, "zm:long").String(RdbImage.Zipmap(("f", new string('z', 100))))
            .Key(RdbType.ZSet, "txt:zset").Length(4).String("a").Byte(3).Raw("1.5"u8).String("b").Byte(RdbFormat.ScorePositiveInfinity)
                .String("c").Byte(2).Raw("-2"u8).String("d").Byte(RdbFormat.ScoreNegativeInfinity)
            .Key(RdbType.List, "old:list").Length(3).String("x").IntString(RdbFormat.EncodingInt8, -5).String("y")
            .Key(RdbType.Set, "old:set").Length(3).String("3").String("1").IntString(RdbFormat.EncodingInt32, 100_000)
            .Key(RdbType.Set, "old:strset").Length(2).String("a").String("b")
            .Key(RdbType.Hash, "old:hash").Length(2).String("a").String("1").String("b").IntString(RdbFormat.EncodingInt16, -300)
            .Key(RdbType.SetIntset, "is:set").String(intset)
            .Byte(RdbFormat.OpExpireTime).Int32(2_000_000_000).Key(RdbType.String, "exp:sec").String("v")
            .Byte(RdbFormat.OpExpireTimeMs).Int64(4_102_444_800_123).Key(RdbType.String, "exp:ms").String("v")
            .Byte(RdbFormat.OpIdle).Length(5).Key(RdbType.String, "idle").String("v")
            .Byte(RdbFormat.OpFreq, 3).Key(RdbType.String, "freq").IntString(RdbFormat.EncodingInt32, -2_000_000_000)
            .Key(RdbType.String, "lzf").Byte(0xC3).Length(repeated.Length).Length(100).Raw(repeated)
            .SelectDb(2)
            .Key(RdbType.ZSet2, "binary:zset").Length(2).String("y").Double(2.5).String("x").Double(-1)
            .Key(RdbType.String, "bin\0key").String("\r\n")
            .End();
    }

    [Theory]
    [InlineData(9)]
    [InlineData(6)]
    [InlineData(4)]
    public async Task Ours_and_redis_load_hand_built_legacy_dumps_alike(int version)
    {
        string dir = Directory.CreateTempSubdirectory("rdb-legacy-").FullName;
        try
        {
            var image = LegacyImage(version);
            string path = Path.Combine(dir, "legacy.rdb");
            File.WriteAllBytes(path, image);

            await using var ours = new RdbInteropTests.OurServer();
            Assert.Equal(image.Length, ours.Load(path));
            using var redis = new RealRedisProcess("--dir", dir, "--dbfilename", "legacy.rdb");
            using var redisConnection = redis.Connect();
            using var connection = ours.Connect();
            RdbInteropTests.AssertSameDataset(redisConnection, connection);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Legacy_values_convert_to_our_forms()
    {
        var description = RdbTestData.Describe(RdbTestData.Load(LegacyImage(9), new ServerConfig()).Keyspace);
        string Key(string name, int db = 0) => $"{db} {Convert.ToHexString(System.Text.Encoding.Latin1.GetBytes(name))}";
        Assert.Equal("List Quicklist 0 |a,hello,7,-2,300,70000,5000000000,12,-8000000,100000," + new string('t', 300) + ",after-long,0", description[Key("zl:list")]);
        Assert.Equal("List Quicklist 0 |n1a,n1b,1,2,n2b", description[Key("ql:list")]);
        Assert.Equal("Hash Listpack 0 |f1=v1,f2=42,n=-7", description[Key("zl:hash")]);
        Assert.StartsWith("Hash Hashtable 0 |f0=0,f100=100,", description[Key("zl:bighash")]);
        Assert.Equal("ZSet Listpack 0 |m3:-Infinity,m1:1.5,m2:3,m4:1E+20", description[Key("zl:zset")]);
        Assert.Equal("Hash Listpack 0 |n=,name=redis,ver=24", description[Key("zm:hash")]);
        Assert.Equal("Hash Hashtable 0 |f=" + new string('z', 100), description[Key("zm:long")]);
        Assert.Equal("ZSet Listpack 0 |d:-Infinity,c:-2,a:1.5,b:Infinity", description[Key("txt:zset")]);
        Assert.Equal("Set Intset 0 |1,100000,3", description[Key("old:set")]);
        Assert.Equal("Set Intset 0 |-70000,12,5", description[Key("is:set")]);
        Assert.Equal("String Embstr 2000000000000 |v", description[Key("exp:sec")]);
        Assert.Equal("String Int 0 |-2000000000", description[Key("freq")]);
        Assert.Equal("String Raw 0 |" + string.Concat(Enumerable.Repeat("abcdefghij", 10)), description[Key("lzf")]);
        Assert.Equal("ZSet Listpack 0 |x:-1,y:2.5", description[Key("binary:zset", 2)]);
    }

    [Theory]
    [InlineData(RdbType.ListZiplist, "List ziplist integrity check failed.")]
    [InlineData(RdbType.HashZiplist, "Hash ziplist integrity check failed.")]
    [InlineData(RdbType.ZSetZiplist, "Zset ziplist integrity check failed.")]
    [InlineData(RdbType.HashZipmap, "Zipmap integrity check failed.")]
    [InlineData(RdbType.ListQuicklist, "Ziplist integrity check failed.")]
    public void Damaged_legacy_blobs_are_refused(RdbType type, string message)
    {
        var blob = type == RdbType.HashZipmap ? RdbImage.Zipmap(("a", "1"), ("b", "2")) : RdbImage.Ziplist("a", "1", "b", 2);
        int refused = 0;
        // Every damaged byte either still makes a valid blob or is refused as a format error: never another exception.
        for (int position = 0; position < blob.Length; position++)
        {
            foreach (byte damage in new byte[] { 0x01, 0x80, 0xFF })
            {
                var damaged = (byte[])blob.Clone();
                damaged[position] ^= damage;
                try
                {
                    RdbTestData.Load(Wrap(type, damaged), new ServerConfig());
                }
                catch (RdbFormatException)
                {
                    refused++;
                }
            }
        }
        Assert.True(refused > blob.Length);
        Assert.Equal(message, Assert.Throws<RdbFormatException>(() => RdbTestData.Load(Wrap(type, blob.AsSpan(0, blob.Length - 2).ToArray()), new ServerConfig())).Message);
    }

    static byte[] Wrap(RdbType type, byte[] blob)
    {
        var image = new RdbImage(9).SelectDb(0).Key(type, "k");
        if (type == RdbType.ListQuicklist) image.Length(1);
        return image.String(blob).End();
    }
}
