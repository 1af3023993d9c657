using System.Globalization;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// Eviction while a BGSAVE or an AOF rewrite walks the keyspace: an evicted key's arena slot is
/// recycled at once (Keyspace.Recycle after Database.Discard), so the snapshot must have copied the
/// key before it went. The walk is slowed (rdb-key-save-delay: the writer lags and the walk pauses
/// behind it) while new keys push maxmemory (allkeys-lru) and old keys are overwritten and deleted.
/// Every value spells its key and generation, so a key saved with another key's bytes, a later
/// value, or a missing or extra key shows. The files are loaded by real Redis 7.0.15 (and the dump
/// by MiniRedis) and must hold exactly the dataset of the instant the job started.
/// </summary>
[Trait("Category", "Differential")]
public sealed class SnapshotEvictionTests : IDisposable
{
    const int Keys = 4000;
    const int NewKeys = 3000;
    // 1 ms per key written: the walk lasts at least 4 s, long after the writes below.
    static readonly string[] SlowWalkWithEviction = ["--rdb-key-save-delay", "1000", "--maxmemory-policy", "allkeys-lru"];

    readonly string _dir = AofTestData.NewDirectory("snapshot-eviction-");
    readonly string _copy = AofTestData.NewDirectory("snapshot-eviction-copy-");

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        Directory.Delete(_copy, recursive: true);
    }

    static string Key(int i) => $"snap:{i:D6}";

    /// <summary>A value naming its key and generation, padded so the keys fill a few hundred KB.</summary>
    static string ValueOf(string key, int generation) => $"{key}#{generation}:".PadRight(160, '.');

    static Dictionary<string, string> Instant() => Enumerable.Range(0, Keys).ToDictionary(Key, i => ValueOf(Key(i), 0));

    [Fact]
    public void A_background_save_during_eviction_holds_the_dataset_of_its_instant()
    {
        using (var mini = RdbServerProcess.MiniRedis(_dir, SlowWalkWithEviction))
        using (var client = mini.Connect())
        {
            Fill(client);
            Assert.Equal("+Background saving started\r\n", RdbTestSupport.Text(client.Call("BGSAVE")));
            WriteDuringTheWalk(client, "rdb_bgsave_in_progress");
            Assert.True(Wait.Until(() => client.InfoField("persistence", "rdb_bgsave_in_progress") == "0", TimeSpan.FromSeconds(120)), mini.Output);
            Assert.Equal("ok", client.InfoField("persistence", "rdb_last_bgsave_status"));
        }
        File.Copy(Path.Combine(_dir, "dump.rdb"), Path.Combine(_copy, "dump.rdb"));
        using (var redis = new RealRedisProcess("--dir", _copy))
            Assert.Equal(Instant(), Dataset(redis));
        using (var reloaded = RdbServerProcess.MiniRedis(_copy))
            Assert.Equal(Instant(), Dataset(reloaded));
    }

    [Fact]
    public void An_aof_rewrite_during_eviction_has_a_base_of_its_instant_and_the_writes_after_it()
    {
        Dictionary<string, string> live;
        using (var mini = AofServerProcess.MiniRedis(_dir, [.. SlowWalkWithEviction, "--save", ""]))
        using (var client = mini.Connect())
        {
            Fill(client);
            Assert.Equal("+Background append only file rewriting started\r\n", RdbTestSupport.Text(client.Call("BGREWRITEAOF")));
            WriteDuringTheWalk(client, "aof_rewrite_in_progress");
            Assert.True(Wait.Until(() => client.InfoField("persistence", "aof_rewrite_in_progress") == "0"
                && client.InfoField("persistence", "aof_rewrite_scheduled") == "0", TimeSpan.FromSeconds(120)), mini.Output);
            Assert.Equal("ok", client.InfoField("persistence", "aof_last_bgrewrite_status"));
            // KEYS's long reply counts toward used_memory, as in Redis, so the MGETs reading the keys back
            // could evict some of them: the limit goes before the read (CONFIG SET is not logged).
            Assert.Equal("+OK\r\n", RdbTestSupport.Text(client.Call("CONFIG", "SET", "maxmemory", "0")));
            live = Dataset(mini);
        }
        foreach (var value in live) Assert.StartsWith(value.Key + "#", value.Value);
        foreach (var file in Directory.GetFiles(_dir, "appendonly*")) File.Copy(file, Path.Combine(_copy, Path.GetFileName(file)));
        // The base alone is the instant: an RDB loader stops at the preamble's end, so real Redis reads
        // the AOF as a dump for it. The whole AOF is what the server held at the end.
        using (var redis = new RealRedisProcess("--dir", _copy, "--dbfilename", "appendonly.aof"))
            Assert.Equal(Instant(), Dataset(redis));
        using (var redis = AofServerProcess.Redis(_copy))
            Assert.Equal(live, Dataset(redis));
    }

    static void Fill(RespConnection client)
    {
        Pipeline(client, Enumerable.Range(0, Keys).Select(i => new[] { "SET", Key(i), ValueOf(Key(i), 0) }));
        long used = client.InfoNumber("memory", "used_memory");
        Assert.Equal("+OK\r\n", RdbTestSupport.Text(client.Call("CONFIG", "SET", "maxmemory", (used + 100_000).ToString(CultureInfo.InvariantCulture))));
    }

    /// <summary>
    /// While the job runs: new keys (each pushing an old one out), then old keys overwritten and
    /// deleted. The job must still be running after them, and keys must have been evicted.
    /// </summary>
    static void WriteDuringTheWalk(RespConnection client, string inProgressField)
    {
        Pipeline(client, Enumerable.Range(0, NewKeys).Select(i => new[] { "SET", $"new:{i:D6}", ValueOf($"new:{i:D6}", 0) }));
        Pipeline(client, Enumerable.Range(0, Keys).Where(i => i % 7 == 0).Select(i => new[] { "SET", Key(i), ValueOf(Key(i), 1) }));
        Pipeline(client, Enumerable.Range(0, Keys).Where(i => i % 11 == 0).Select(i => new[] { "DEL", Key(i) }));
        Assert.Equal("1", client.InfoField("persistence", inProgressField));
        Assert.True(client.InfoNumber("stats", "evicted_keys") > 0, "nothing was evicted");
    }

    static void Pipeline(RespConnection client, IEnumerable<string[]> commands)
    {
        foreach (var chunk in commands.Chunk(500))
        {
            client.Send(chunk.SelectMany(command => RespConnection.EncodeCommand([.. command.Select(Encoding.ASCII.GetBytes)])).ToArray());
            foreach (var _ in chunk)
            {
                var reply = client.ReadReply();
                Assert.True(reply.Type != (byte)'-', reply.ToString());
            }
        }
    }

    /// <summary>Every key of database 0 with its string value.</summary>
    static Dictionary<string, string> Dataset(ServerProcess server)
    {
        using var client = server.Connect();
        client.Send(RespConnection.EncodeCommand([Encoding.ASCII.GetBytes("KEYS"), Encoding.ASCII.GetBytes("*")]));
        var names = client.ReadReply().Children.Select(child => AofTestData.Bulk(child)).Select(Encoding.ASCII.GetString).ToList();
        var dataset = new Dictionary<string, string>();
        foreach (var chunk in names.Chunk(500))
        {
            client.Send(RespConnection.EncodeCommand([Encoding.ASCII.GetBytes("MGET"), .. chunk.Select(Encoding.ASCII.GetBytes)]));
            var values = client.ReadReply().Children;
            for (int i = 0; i < chunk.Length; i++) dataset[chunk[i]] = Encoding.ASCII.GetString(AofTestData.Bulk(values[i]));
        }
        return dataset;
    }
}
