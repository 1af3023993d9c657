using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Tests.Support;
using MiniRedis.Tests.Persistence.Rdb;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// Streams against real Redis 7.0.15 on disk: the effects logged to the AOF (XADD with its generated ID,
/// XREADGROUP and XCLAIM as XCLAIM ... FORCE JUSTID LASTID, XGROUP SETID ... ENTRIESREAD) are Redis's
/// bytes; the rewrite without RDB preamble writes Redis's commands; dumps with consumer groups and pending
/// entries cross both ways; a damaged stream listpack fails the load; an old type-15 dump loads.
/// </summary>
[Trait("Category", "Differential")]
public sealed partial class StreamPersistenceTests
{
    /// <summary>Every stream write, with explicit IDs; it ends with pending entries in two groups and an empty stream in db 1.</summary>
    static readonly string[][] Script =
    [
        ["XADD", "s", "1-0", "a", "1"], ["XADD", "s", "1-*", "b", "2"], ["XADD", "s", "2-0", "a", "1", "b", "2"],
        ["XADD", "s", "MAXLEN", "~", "1", "3-0", "c", "3"], ["XADD", "s", "MAXLEN", "=", "10", "4-0", "c", "3"], ["XADD", "s", "MINID", "~", "0", "5-0", "c", "3"],
        ["XADD", "s", "NOMKSTREAM", "6-0", "d", "4"], ["XADD", "s", "MAXLEN", "~", "2", "LIMIT", "100", "6-1", "x", "y"], ["XADD", "none", "NOMKSTREAM", "6-0", "d", "4"],
        ["XDEL", "s", "2-0", "99-0"], ["XDEL", "s", "99-0"], ["XTRIM", "s", "MAXLEN", "10"], ["XTRIM", "s", "MAXLEN", "3"], ["XTRIM", "s", "MAXLEN", "~", "0"],
        ["XSETID", "s", "100-0", "ENTRIESADDED", "50", "MAXDELETEDID", "3-0"],
        ["XGROUP", "CREATE", "s", "g1", "0"], ["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "3"],
        ["XGROUP", "CREATECONSUMER", "s", "g1", "alice"], ["XGROUP", "CREATECONSUMER", "s", "g1", "alice"],
        ["XADD", "s", "101-0", "f", "v"], ["XADD", "s", "102-0", "f", "v"],
        ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g1", "carol", "NOACK", "COUNT", "1", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", "0"], ["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", ">"],
        ["XACK", "s", "g1", "4-0", "101-0"], ["XACK", "s", "g1", "101-0"],
        ["XCLAIM", "s", "g1", "dave", "0", "102-0", "5-0", "JUSTID"], ["XCLAIM", "s", "g1", "dave", "0", "102-0", "RETRYCOUNT", "5", "LASTID", "200-0"],
        ["XCLAIM", "s", "g1", "dave", "0", "1-0", "LASTID", "300-0"], ["XAUTOCLAIM", "s", "g1", "erin", "0", "0", "COUNT", "5"],
        ["XGROUP", "SETID", "s", "g1", "5-0", "ENTRIESREAD", "2"], ["XGROUP", "SETID", "s", "g1", "$"],
        ["XGROUP", "DELCONSUMER", "s", "g1", "bob"], ["XGROUP", "DESTROY", "s", "g2"], ["XGROUP", "DESTROY", "s", "g2"],
        ["XADD", "s", "103-0", "f", "v"], ["XREADGROUP", "GROUP", "g1", "frank", "STREAMS", "s", ">"], ["XDEL", "s", "103-0"],
        ["XAUTOCLAIM", "s", "g1", "gina", "0", "0"], ["XCLAIM", "s", "g1", "gina", "0", "103-0", "FORCE"],
        ["XREADGROUP", "GROUP", "g1", "hank", "NOACK", "STREAMS", "s", ">"],
        ["XADD", "s", "104-0", "f", "v"], ["XADD", "s", "105-0", "f", "v", "g", "w"], ["XADD", "s", "106-0", "12", "-7"],
        ["XREADGROUP", "GROUP", "g1", "ivan", "COUNT", "1", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g1", "judy", "STREAMS", "s", ">"],
        ["XGROUP", "CREATE", "s", "g3", "0"], ["XREADGROUP", "GROUP", "g3", "kim", "STREAMS", "s", ">"], ["XGROUP", "CREATECONSUMER", "s", "g3", "idle"],
        ["XDEL", "s", "105-0"],
        ["SELECT", "1"], ["XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"], ["SELECT", "0"],
    ];

    static void RunScript(ServerProcess server)
    {
        using var connection = server.Connect();
        foreach (var command in Script)
        {
            var reply = connection.Call(command.Select(Encoding.Latin1.GetBytes).ToArray());
            Assert.True(reply[0] != '-', $"{string.Join(' ', command)}: {Encoding.Latin1.GetString(reply)}");
        }
    }

    /// <summary>Absolute unix-ms times (delivery times in XCLAIM ... TIME) differ by the run's milliseconds.</summary>
    static string NormalizeTimes(byte[] aof) => NowMs().Replace(Encoding.Latin1.GetString(aof), "<now-ms>");

    [GeneratedRegex(@"(?<![0-9])1[7-9][0-9]{11}(?![0-9])")]
    private static partial Regex NowMs();

    /// <summary>XINFO STREAM FULL and XINFO GROUPS of both keys: entries, counters, groups, pending entries with owners, times and counts.</summary>
    static string State(ServerProcess server, bool maskSeenTime)
    {
        using var connection = server.Connect();
        var text = new StringBuilder();
        foreach (var (db, key) in new[] { ("0", "s"), ("1", "e") })
        {
            connection.Call("SELECT", db);
            text.AppendLine(RespConnection.Escape(connection.Call("XINFO", "STREAM", key, "FULL", "COUNT", "0")));
            text.AppendLine(RespConnection.Escape(connection.Call("XINFO", "GROUPS", key)));
        }
        string state = text.ToString();
        Assert.Contains("kim", state);
        // A replayed XCLAIM or CREATECONSUMER makes its consumer now, so an AOF keeps pending entries but not seen times.
        return maskSeenTime ? SeenTime().Replace(state, "seen-time$1<t>") : state;
    }

    [GeneratedRegex(@"seen-time(\\r\\n:)[0-9]+")]
    private static partial Regex SeenTime();

    [Fact]
    public void Effects_are_logged_with_the_bytes_of_redis_s_aof()
    {
        string ourDir = AofTestData.NewDirectory("stream-aof-ours-");
        string redisDir = AofTestData.NewDirectory("stream-aof-redis-");
        string copyDir = AofTestData.NewDirectory("stream-aof-copy-");
        string oursCopyDir = AofTestData.NewDirectory("stream-aof-ours-copy-");
        try
        {
            using (var ours = AofServerProcess.MiniRedis(ourDir)) RunScript(ours);
            using var redis = AofServerProcess.Redis(redisDir);
            RunScript(redis);
            var redisAof = File.ReadAllBytes(Path.Combine(redisDir, "appendonlydir", "appendonly.aof.1.incr.aof"));
            var ourAof = File.ReadAllBytes(Path.Combine(ourDir, "appendonly.aof"));
            Assert.Contains("XCLAIM", Encoding.Latin1.GetString(ourAof));
            Assert.Equal(NormalizeTimes(redisAof), NormalizeTimes(ourAof));

            // Replayed (a logged trim keeps its LIMIT beside "=", which only a client may not send), our file gives both servers the same data.
            AssertBothLoadTheSame(Path.Combine(ourDir, "appendonly.aof"), copyDir, oursCopyDir);
        }
        finally
        {
            foreach (var dir in new[] { ourDir, redisDir, copyDir, oursCopyDir }) Directory.Delete(dir, true);
        }
    }

    /// <summary>Redis started on a copy of <paramref name="aof"/> in <paramref name="redisDir"/> and MiniRedis on one in <paramref name="ourDir"/> hold the same streams.</summary>
    static void AssertBothLoadTheSame(string aof, string redisDir, string ourDir)
    {
        File.Copy(aof, Path.Combine(redisDir, "appendonly.aof"));
        File.Copy(aof, Path.Combine(ourDir, "appendonly.aof"));
        using var redis = AofServerProcess.Redis(redisDir);
        using var ours = AofServerProcess.MiniRedis(ourDir);
        Assert.Equal(State(redis, maskSeenTime: true), State(ours, maskSeenTime: true));
    }

    static void RewriteAndWait(ServerProcess server)
    {
        using var connection = server.Connect();
        connection.Call("BGREWRITEAOF");
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var info = Encoding.Latin1.GetString(connection.Call("INFO", "persistence"));
            if (info.Contains("aof_rewrite_in_progress:0") && info.Contains("aof_rewrite_scheduled:0")) return;
            if (watch.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("the AOF rewrite did not finish");
            Thread.Sleep(20);
        }
    }

    [Fact]
    public void Rewrite_without_preamble_writes_redis_s_commands_and_loads_in_redis()
    {
        string ourDir = AofTestData.NewDirectory("stream-rewrite-ours-");
        string redisDir = AofTestData.NewDirectory("stream-rewrite-redis-");
        string copyDir = AofTestData.NewDirectory("stream-rewrite-copy-");
        string oursCopyDir = AofTestData.NewDirectory("stream-rewrite-ours-copy-");
        try
        {
            using var ours = AofServerProcess.MiniRedis(ourDir, "--aof-use-rdb-preamble", "no");
            using var redis = AofServerProcess.Redis(redisDir, "--aof-use-rdb-preamble", "no");
            RunScript(ours);
            RunScript(redis);
            RewriteAndWait(ours);
            RewriteAndWait(redis);
            var ourAof = File.ReadAllBytes(Path.Combine(ourDir, "appendonly.aof"));
            var redisBase = Directory.GetFiles(Path.Combine(redisDir, "appendonlydir"), "*.base.aof").Single();
            Assert.Contains("XSETID", Encoding.Latin1.GetString(ourAof));
            Assert.Equal(NormalizeTimes(File.ReadAllBytes(redisBase)), NormalizeTimes(ourAof));

            // Replayed, the file gives Redis and us the same data (a pending entry whose entry was deleted is dropped by both).
            AssertBothLoadTheSame(Path.Combine(ourDir, "appendonly.aof"), copyDir, oursCopyDir);
        }
        finally
        {
            foreach (var dir in new[] { ourDir, redisDir, copyDir, oursCopyDir }) Directory.Delete(dir, true);
        }
    }

    static string Save(ServerProcess server)
    {
        using var connection = server.Connect();
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(connection.Call("SAVE")));
        var dir = Encoding.Latin1.GetString(connection.Call("CONFIG", "GET", "dir")).Split("\r\n")[4];
        return Path.Combine(dir, "dump.rdb");
    }

    static string CopyDump(string dump)
    {
        string dir = AofTestData.NewDirectory("stream-rdb-");
        File.Copy(dump, Path.Combine(dir, "dump.rdb"));
        return dir;
    }

    [Fact]
    public void Our_dump_with_groups_and_pending_entries_loads_in_redis()
    {
        using var ours = new MiniRedisProcess();
        RunScript(ours);
        string dir = CopyDump(Save(ours));
        try
        {
            var check = Process.Start(new ProcessStartInfo(RealRedisProcess.ExecutablePath("redis-check-rdb"), Path.Combine(dir, "dump.rdb"))
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string output = check.StandardOutput.ReadToEnd() + check.StandardError.ReadToEnd();
            check.WaitForExit();
            Assert.True(check.ExitCode == 0, output);
            using var redis = new RealRedisProcess("--dir", dir, "--dbfilename", "dump.rdb");
            Assert.Equal(State(ours, maskSeenTime: false), State(redis, maskSeenTime: false));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Redis_s_dump_with_groups_and_pending_entries_loads_in_ours()
    {
        using var redis = new RealRedisProcess();
        RunScript(redis);
        string dir = CopyDump(Save(redis));
        try
        {
            using var ours = new MiniRedisProcess("--dir", dir, "--dbfilename", "dump.rdb");
            Assert.Equal(State(redis, maskSeenTime: false), State(ours, maskSeenTime: false));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>A stream's dump written without compression or checksum, so a test can damage its bytes in place.</summary>
    static async Task<byte[]> PlainDump(params string[][] commands)
    {
        await using var server = new RdbInteropTests.OurServer();
        using (var connection = server.Connect())
        {
            foreach (var command in commands) Assert.NotEqual((byte)'-', connection.Call(command)[0]);
        }
        string path = Path.GetTempFileName();
        try
        {
            server.Save(path, compress: false, checksum: false);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    static string LoadError(byte[] image)
    {
        var reader = new RdbReader(new MemoryStream(image), new ServerConfig(), verifyChecksum: false);
        reader.ReadHeader();
        var error = Assert.Throws<RdbFormatException>(() =>
        {
            while (reader.TryReadEntry(out _)) { }
        });
        return error.Message;
    }

    /// <summary>Where node 1-0's listpack starts: after its 16-byte master ID string and the listpack's one-byte length.</summary>
    static int ListpackOffset(byte[] image, out int length)
    {
        byte[] master = [16, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        int at = image.AsSpan().IndexOf(master);
        Assert.True(at > 0);
        length = image[at + master.Length];
        Assert.True(length < 64, "the test stream's listpack fits a 6-bit length");
        return at + master.Length + 1;
    }

    static readonly string[][] SmallStream = [["XADD", "s", "1-0", "f", "v"], ["XADD", "s", "2-0", "f", "w"], ["XADD", "s", "3-0", "g", "x"]];

    [Fact]
    public async Task A_wrong_entry_size_in_a_stream_listpack_fails_the_load()
    {
        var image = await PlainDump(SmallStream);
        int listpack = ListpackOffset(image, out int length);
        // The last entry's lp-count (before its back-length and the end marker) no longer matches its fields.
        Assert.Equal(6, image[listpack + length - 3]);
        image[listpack + length - 3] = 5;
        Assert.Equal("Stream listpack integrity check failed.", LoadError(image));
    }

    [Fact]
    public async Task A_stream_listpack_whose_counters_disagree_with_its_flags_fails_the_load()
    {
        var image = await PlainDump(SmallStream);
        int listpack = ListpackOffset(image, out _);
        // The master entry's live count (first element) says 2 where three entries are live.
        Assert.Equal(3, image[listpack + 6]);
        image[listpack + 6] = 2;
        Assert.Equal("Stream listpack integrity check failed.", LoadError(image));
    }

    [Fact]
    public async Task A_stream_node_key_of_the_wrong_size_fails_the_load()
    {
        var image = await PlainDump(SmallStream);
        int listpack = ListpackOffset(image, out _);
        image[listpack - 18] = 15;
        Assert.Contains("Stream", LoadError(image));
    }

    [Fact]
    public async Task A_pending_entry_of_no_consumer_in_a_group_fails_the_load()
    {
        var image = await PlainDump([.. SmallStream, ["XGROUP", "CREATE", "s", "g", "0"], ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"]]);
        // The consumer's own pending list (its last bytes before the end of the dump) is emptied: 1 → 0 entries, the raw ID dropped.
        int end = image.Length - 9;
        Assert.Equal(1, image[end - 17]);
        byte[] damaged = [.. image[..(end - 17)], 0, .. image[end..]];
        Assert.Equal("Stream CG PEL entry without consumer", LoadError(damaged));
    }

    /// <summary>Redis 5/6's type 15: no first ID, max deleted ID, entries-added or entries-read, which the loader derives as Redis does.</summary>
    [Fact]
    public void An_old_type_15_stream_loads_with_derived_counters()
    {
        var stream = new StreamValue();
        stream.Append(new StreamId(5, 0), new StreamValue.ArrayFields([Encoding.ASCII.GetBytes("f"), Encoding.ASCII.GetBytes("v")]), 4096, 100);
        stream.Append(new StreamId(6, 0), new StreamValue.ArrayFields([Encoding.ASCII.GetBytes("f"), Encoding.ASCII.GetBytes("w")]), 4096, 100);
        var listpack = stream.Nodes[0].ExactArray();
        var image = new List<byte>(Encoding.ASCII.GetBytes("REDIS0009"));
        image.Add(0xFE); image.Add(0);
        image.Add(15); image.Add(1); image.Add((byte)'s');
        image.Add(1);
        image.Add(16); var master = new byte[16]; new StreamId(5, 0).WriteBigEndian(master); image.AddRange(master);
        image.Add((byte)listpack.Length); image.AddRange(listpack);
        image.AddRange([2, 6, 0]); // length, last ID 6-0
        image.Add(1); // one group
        image.Add(1); image.Add((byte)'g'); image.AddRange([5, 0]); // "g" at 5-0
        image.Add(0); image.Add(0); // no pending entries, no consumers
        image.Add(0xFF); image.AddRange(new byte[8]);
        var reader = new RdbReader(new MemoryStream([.. image]), new ServerConfig(), verifyChecksum: false);
        reader.ReadHeader();
        Assert.True(reader.TryReadEntry(out var entry));
        var loaded = (StreamValue)entry.Value;
        Assert.Equal(RedisType.Stream, entry.Type);
        Assert.Equal(2, loaded.Length);
        Assert.Equal(2, loaded.EntriesAdded);
        Assert.Equal(new StreamId(5, 0), loaded.FirstId);
        Assert.Equal(new StreamId(6, 0), loaded.LastId);
        Assert.True(loaded.MaxDeletedId.IsZero);
        Assert.Equal(1, loaded.FindGroup("g"u8)!.EntriesRead);
        Assert.False(reader.TryReadEntry(out _));
    }
}
