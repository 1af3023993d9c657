using System.Text;
using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// The loader adds keys a few behind the reader (it prefetches their table slots meanwhile) and reads
/// keys and short strings straight into the arena: the keys, their values, encodings and TTLs, and the
/// image's refusals come out as when each key was added as soon as it was read.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RdbKeyLoaderTests() : AofBootTests("rdb-key-loader-")
{
    RedisServer Start()
    {
        var server = InProcessClient.StartServer(ServerConfig.Parse($"save \"\"\ndir {Dir}\nenable-debug-command yes"));
        Servers.Add(server);
        return server;
    }

    static bool Load(RedisServer server, byte[] image, RdbLoadOptions options) => server.Executor.InvokeAsync(() =>
    {
        using var stream = new MemoryStream(image, writable: false);
        return RdbLoading.Load(server.Persistence.Host, server.Rdb, stream, image.Length, options);
    }).GetAwaiter().GetResult();

    [Fact]
    public void Strings_of_every_encoding_load_with_their_values_and_ttls_and_expired_ones_are_skipped()
    {
        string longValue = new('x', 60);
        var image = new RdbImage(10).SelectDb(0)
            .Key(RdbType.String, "int").String("12345")
            .Key(RdbType.String, "encoded-int").IntString(RdbFormat.EncodingInt16, -300)
            .Key(RdbType.String, "short").String("value")
            .Key(RdbType.String, "empty").String("")
            .Byte(RdbFormat.OpExpireTimeMs).Int64(1_000).Key(RdbType.String, "expired").String("gone")
            .Byte(RdbFormat.OpExpireTimeMs).Int64(4_102_444_800_123).Key(RdbType.String, "volatile").String("later")
            .Key(RdbType.String, "long").String(longValue)
            .End();
        var server = Start();
        Assert.True(Load(server, image, RdbLoadOptions.DebugReload("test", merge: false, asMaster: true)));
        var client = new InProcessClient(server);
        Assert.Equal(":6\r\n", client.Run("DBSIZE"));
        Assert.Equal(1, server.Rdb.LastLoadKeysExpired);
        Assert.Equal(6, server.Rdb.LastLoadKeysLoaded);
        Assert.Equal("$5\r\n12345\r\n", client.Run("GET int"));
        Assert.Equal("$4\r\n-300\r\n", client.Run("GET encoded-int"));
        Assert.Equal("$5\r\nvalue\r\n", client.Run("GET short"));
        Assert.Equal("$0\r\n\r\n", client.Run("GET empty"));
        Assert.Equal("$5\r\nlater\r\n", client.Run("GET volatile"));
        Assert.Equal($"$60\r\n{longValue}\r\n", client.Run("GET long"));
        Assert.Equal(":0\r\n", client.Run("EXISTS expired"));
        Assert.Equal("$3\r\nint\r\n", client.Run("OBJECT ENCODING int"));
        Assert.Equal("$6\r\nembstr\r\n", client.Run("OBJECT ENCODING short"));
        Assert.Equal("$3\r\nraw\r\n", client.Run("OBJECT ENCODING long"));
        Assert.Equal(":4102444800123\r\n", client.Run("PEXPIRETIME volatile"));
        Assert.Equal(":-1\r\n", client.Run("PEXPIRETIME short"));
    }

    [Fact]
    public void A_duplicate_near_the_end_is_refused_after_the_keys_before_it_and_none_after_it()
    {
        var builder = new RdbImage(10).SelectDb(0);
        for (int i = 0; i < 8; i++) builder.Key(RdbType.String, $"key:{i}").String($"v{i}");
        var image = builder.Key(RdbType.String, "key:0").String("again").Key(RdbType.String, "after").String("v").End();
        var server = Start();
        Assert.False(Load(server, image, RdbLoadOptions.ReplicaSync("test")));
        var client = new InProcessClient(server);
        Assert.Equal(":8\r\n", client.Run("DBSIZE"));
        Assert.Equal("$2\r\nv0\r\n", client.Run("GET key:0"));
        Assert.Equal("$2\r\nv7\r\n", client.Run("GET key:7"));
        Assert.Equal(":0\r\n", client.Run("EXISTS after"));
        Assert.False(server.Keyspace.Complete);
    }

    [Fact]
    public void Fewer_keys_than_the_loader_keeps_back_all_load()
    {
        var image = new RdbImage(10).SelectDb(0).Key(RdbType.String, "a").String("1").Key(RdbType.String, "b").String("2").End();
        var server = Start();
        Assert.True(Load(server, image, RdbLoadOptions.ReplicaSync("test")));
        var client = new InProcessClient(server);
        Assert.Equal(":2\r\n", client.Run("DBSIZE"));
        Assert.Equal("$1\r\n2\r\n", client.Run("GET b"));
    }

    [Fact]
    public void Keys_of_every_type_and_length_load_and_a_merge_replaces_the_keys_there()
    {
        string longKey = new('k', 5000);
        var image = new RdbImage(10).SelectDb(0)
            .Key(RdbType.String, "").String("empty key")
            .Key(RdbType.List, longKey).Length(2).String("x").String("y")
            .Byte(RdbFormat.OpExpireTimeMs).Int64(4_102_444_800_123).Key(RdbType.Set, "set").Length(2).String("a").String("b")
            .Key(RdbType.Hash, "hash").Length(1).String("field").String("value")
            .Key(RdbType.ZSet2, "zset").Length(1).String("m").Double(1.5)
            .Key(RdbType.Set, "empty-set").Length(0)
            .Key(RdbType.String, "string").String("from the dump")
            .End();
        var server = Start();
        var client = new InProcessClient(server);
        client.Run("SET hash not-a-hash");
        client.Run("RPUSH string was-a-list");
        client.Run("SET kept 1");
        Assert.True(Load(server, image, RdbLoadOptions.DebugReload("test", merge: true, asMaster: true)));
        Assert.Equal(":7\r\n", client.Run("DBSIZE"));
        Assert.Equal("$9\r\nempty key\r\n", client.Run("GET \"\""));
        Assert.Equal("*2\r\n$1\r\nx\r\n$1\r\ny\r\n", client.Run($"LRANGE {longKey} 0 -1"));
        Assert.Equal(":2\r\n", client.Run("SCARD set"));
        Assert.Equal(":4102444800123\r\n", client.Run("PEXPIRETIME set"));
        Assert.Equal("$5\r\nvalue\r\n", client.Run("HGET hash field"));
        Assert.Equal("$3\r\n1.5\r\n", client.Run("ZSCORE zset m"));
        Assert.Equal(":0\r\n", client.Run("EXISTS empty-set"));
        Assert.Equal("$13\r\nfrom the dump\r\n", client.Run("GET string"));
        Assert.Equal("$1\r\n1\r\n", client.Run("GET kept"));
        Assert.Equal($"*1\r\n$5000\r\n{longKey}\r\n", client.Run("KEYS kk*"));
    }

    [Fact]
    public void Keys_skipped_as_expired_are_told_by_name_before_they_are_dropped()
    {
        var expired = new List<string>();
        var image = new RdbImage(10).SelectDb(0)
            .Byte(RdbFormat.OpExpireTimeMs).Int64(1_000).Key(RdbType.String, "gone:string").String("v")
            .Key(RdbType.String, "kept").String("v")
            .Byte(RdbFormat.OpExpireTimeMs).Int64(1_000).Key(RdbType.List, "gone:list").Length(1).String("x")
            .Byte(RdbFormat.OpExpireTimeMs).Int64(1_000).Key(RdbType.String, new string('g', 5000)).String("v")
            .End();
        var server = Start();
        server.Executor.InvokeAsync(() => server.Rdb.ExpiredAtLoad = (db, key) => expired.Add($"{db} {Encoding.Latin1.GetString(key)}"))
            .GetAwaiter().GetResult();
        Assert.True(Load(server, image, RdbLoadOptions.StartUp("test", asMaster: true)));
        Assert.Equal(["0 gone:string", "0 gone:list", $"0 {new string('g', 5000)}"], expired);
        Assert.Equal(3, server.Rdb.LastLoadKeysExpired);
        var client = new InProcessClient(server);
        Assert.Equal(":1\r\n", client.Run("DBSIZE"));
        Assert.Equal("$1\r\nv\r\n", client.Run("GET kept"));
    }

    [Fact]
    public void Lists_reloaded_node_by_node_keep_their_elements_and_take_pushes_at_both_ends()
    {
        var server = Start();
        var client = new InProcessClient(server);
        string longElement = new('e', 300);
        client.Run("RPUSH short a 12 -7 b");
        client.Run("RPUSH long " + string.Join(' ', Enumerable.Range(0, 400).Select(i => $"{i} item-{i} {longElement}")));
        string shortBefore = client.Run("LRANGE short 0 -1"), longBefore = client.Run("LRANGE long 0 -1");
        string usageBefore = client.Run("MEMORY USAGE long");
        Assert.Equal("+OK\r\n", client.Run("DEBUG RELOAD"));
        Assert.Equal(shortBefore, client.Run("LRANGE short 0 -1"));
        Assert.Equal(longBefore, client.Run("LRANGE long 0 -1"));
        Assert.Equal(usageBefore, client.Run("MEMORY USAGE long"));
        Assert.Equal(":6\r\n", client.Run("RPUSH short tail1 tail2"));
        Assert.Equal(":7\r\n", client.Run("LPUSH short head"));
        Assert.Equal("*7\r\n$4\r\nhead\r\n$1\r\na\r\n$2\r\n12\r\n$2\r\n-7\r\n$1\r\nb\r\n$5\r\ntail1\r\n$5\r\ntail2\r\n", client.Run("LRANGE short 0 -1"));
        Assert.Equal(":1201\r\n", client.Run("LPUSH long first"));
        Assert.Equal("$5\r\nfirst\r\n", client.Run("LINDEX long 0"));
        Assert.Equal("$7\r\nitem-42\r\n", client.Run("LINDEX long 128"));
        Assert.Equal($"$300\r\n{longElement}\r\n", client.Run("RPOP long"));
    }
}
