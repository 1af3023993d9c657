using System.Diagnostics;
using System.Text;
using MiniRedis.Config;
using MiniRedis.Networking;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// Dumps cross both ways with real Redis 7.0.15: the same command script run on both servers, then our
/// dump loaded by Redis (and passed by Debian's redis-check-rdb) and Redis's dump loaded by us must give
/// the dataset of the server that ran the script: per key type, contents, expiry and OBJECT ENCODING.
/// </summary>
[Trait("Category", "Differential")]
public sealed class RdbInteropTests
{
    /// <summary>Every type in its small and large encodings, TTLs, binary keys, three databases.</summary>
    internal static IEnumerable<string[]> Script()
    {
        string Repeat(string text, int times) => string.Concat(Enumerable.Repeat(text, times));
        yield return ["SET", "s:int", "12345"];
        yield return ["SET", "s:neg", "-7"];
        yield return ["SET", "s:wide", "9223372036854775807"];
        yield return ["SET", "s:leading-zero", "007"];
        yield return ["SET", "s:embstr", "hello world"];
        yield return ["SET", "s:raw", Repeat("r", 60)];
        yield return ["SET", "s:text", Repeat("the quick brown fox jumps over the lazy dog ", 50)];
        yield return ["SET", "s:noise", Convert.ToHexString(Enumerable.Range(0, 64).Select(i => (byte)(i * 37 + 11)).ToArray())];
        yield return ["SET", "bin\x00\xff\r\nkey", "v\x00\r\n"];
        yield return ["SET", "s:empty", ""];
        yield return ["SET", "s:ttl", "v", "PX", "500000"];
        yield return ["RPUSH", "l:small", "a", "b", "1", "-3", "12345678901", "", Repeat("x", 100)];
        yield return ["RPUSH", "l:big", .. Enumerable.Range(0, 3000).Select(i => $"element-{i}-{Repeat("e", i % 40)}")];
        yield return ["RPUSH", "l:ints", .. Enumerable.Range(-500, 1000).Select(i => (i * 7919L).ToString())];
        yield return ["LPUSH", "l:head", .. Enumerable.Range(0, 700).Select(i => $"head-{i}")];
        yield return ["SADD", "st:ints", "1", "2", "3", "-100", "70000", "5000000000"];
        yield return ["SADD", "st:many-ints", .. Enumerable.Range(0, 600).Select(i => i.ToString())];
        yield return ["SADD", "st:strings", "a", "b", "c", "10", Repeat("m", 80)];
        yield return ["ZADD", "z:small", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e", "1e20", "f", "0.1", "g", "3", "12", "4503599627370496", "h"];
        yield return ["ZADD", "z:big", .. Enumerable.Range(0, 200).SelectMany(i => new[] { (i * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture), $"member-{i}" })];
        yield return ["ZADD", "z:long-member", "1", Repeat("z", 70), "2", "short"];
        yield return ["HSET", "h:small", "f1", "v1", "f2", "2", "num", "123", "neg", "-5000000000"];
        yield return ["HSET", "h:big", .. Enumerable.Range(0, 600).SelectMany(i => new[] { $"field-{i}", $"value-{i}" })];
        yield return ["HSET", "h:long-value", "f", Repeat("v", 100)];
        yield return ["PEXPIRE", "l:small", "600000"];
        yield return ["PEXPIRE", "z:small", "700000"];
        yield return ["PEXPIRE", "h:big", "800000"];
        yield return ["PEXPIRE", "st:ints", "900000"];
        yield return ["SELECT", "1"];
        yield return ["SET", "a", "1"];
        yield return ["HSET", "h", "x", "y"];
        yield return ["ZADD", "z", "1", "m"];
        yield return ["SELECT", "2"];
        yield return ["RPUSH", "l", "x"];
        yield return ["SADD", "s", "m"];
        yield return ["SET", "t", "v", "PX", "700000"];
        yield return ["SELECT", "0"];
    }

    static void RunScript(RespConnection connection)
    {
        foreach (var command in Script())
        {
            var reply = connection.Call(command.Select(Encoding.Latin1.GetBytes).ToArray());
            Assert.NotEqual((byte)'-', reply[0]);
        }
    }

    /// <summary>OBJECT ENCODING of every key, as "db key → encoding".</summary>
    static SortedDictionary<string, string> Encodings(RespConnection connection)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int db = 0; db < 3; db++)
        {
            connection.Call("SELECT", db.ToString());
            connection.Send(RespConnection.EncodeCommand([.. new[] { "KEYS", "*" }.Select(Encoding.UTF8.GetBytes)]));
            foreach (var child in connection.ReadReply().Children)
            {
                var key = AofTestData.Bulk(child);
                result[$"{db} {RespConnection.Escape(key)}"] = Encoding.Latin1.GetString(connection.Call([Encoding.ASCII.GetBytes("OBJECT"), Encoding.ASCII.GetBytes("ENCODING"), key]));
            }
        }
        connection.Call("SELECT", "0");
        return result;
    }

    /// <summary>
    /// Same keys, types, contents and encodings; absolute expiry times within 10 s of each other, since
    /// the two servers ran the script at different moments.
    /// </summary>
    internal static void AssertSameDataset(RespConnection expected, RespConnection actual)
    {
        AssertSame(AofTestData.Snapshot(expected, 3), AofTestData.Snapshot(actual, 3), SameValueAndNearExpiry);
        AssertSame(Encodings(expected), Encodings(actual), (a, b) => a == b);
    }

    /// <summary>Snapshot lines end with the PEXPIRETIME reply (":-1" or ":unix-ms").</summary>
    static bool SameValueAndNearExpiry(string? expected, string? actual)
    {
        if (expected is null || actual is null) return expected == actual;
        int split = expected.LastIndexOf(' '), otherSplit = actual.LastIndexOf(' ');
        if (expected[..split] != actual[..otherSplit]) return false;
        long expectedMs = Milliseconds(expected[split..]), actualMs = Milliseconds(actual[otherSplit..]);
        return expectedMs == actualMs || (expectedMs > 0 && actualMs > 0 && Math.Abs(expectedMs - actualMs) < 10_000);
    }

    static long Milliseconds(string reply) => long.Parse(System.Text.RegularExpressions.Regex.Match(reply, "-?[0-9]+").Value);

    /// <summary>Lists every key that differs, so a failure names the keys.</summary>
    static void AssertSame(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual, Func<string?, string?, bool> same)
    {
        var differences = expected.Keys.Union(actual.Keys)
            .Where(key => !same(expected.GetValueOrDefault(key), actual.GetValueOrDefault(key)))
            .Select(key => $"{key}: expected {Shorten(expected.GetValueOrDefault(key))}, got {Shorten(actual.GetValueOrDefault(key))}")
            .ToList();
        Assert.True(differences.Count == 0, string.Join("\n", differences));
        Assert.NotEmpty(expected);
    }

    static string Shorten(string? text) => text is null ? "(missing)" : text.Length <= 300 ? text : text[..300] + "...";

    /// <summary>Our server in this process, listening on a free port, so the script runs over RESP on both sides.</summary>
    internal sealed class OurServer : IAsyncDisposable
    {
        readonly Listener _listener;

        public OurServer()
        {
            Server = InProcessClient.StartServer(ServerConfig.Load(MiniRedis.Config.CommandLine.Parse(["--port", "0"])));
            _listener = new Listener(Server.Host);
            _listener.Start();
        }

        public RedisServer Server { get; }
        public RespConnection Connect() => RespConnection.Open(_listener.Endpoints[0].Port);

        public void Save(string path, bool compress, bool checksum) => Server.Executor.InvokeAsync(() =>
        {
            using var file = File.Create(path);
            RdbWriter.WriteDataset(Server.Keyspace, Server.Functions.Codes(), file, compress, checksum, aofBase: false);
            return 0;
        }).GetAwaiter().GetResult();

        /// <summary>Loads a dump into the (empty) keyspace; the reader's final position.</summary>
        public long Load(string path) => Server.Executor.InvokeAsync(() =>
        {
            using var file = File.OpenRead(path);
            var reader = new RdbReader(file, Server.Config, verifyChecksum: true);
            reader.ReadHeader();
            while (reader.TryReadEntry(out var entry)) Assert.True(entry.AddTo(Server.Keyspace));
            return reader.Position;
        }).GetAwaiter().GetResult();

        public async ValueTask DisposeAsync()
        {
            await _listener.DisposeAsync();
            Server.Stop();
        }
    }

    static string RedisDir(RespConnection connection)
    {
        var reply = connection.Call("CONFIG", "GET", "dir");
        var text = Encoding.Latin1.GetString(reply).Split("\r\n");
        return text[4];
    }

    internal static (int ExitCode, string Output) CheckRdb(string path)
    {
        var info = new ProcessStartInfo(RealRedisProcess.ExecutablePath("redis-check-rdb"), path) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task Our_dump_loads_in_redis_with_the_same_dataset(bool compress, bool checksum)
    {
        string dir = Directory.CreateTempSubdirectory("rdb-ours-").FullName;
        try
        {
            await using var ours = new OurServer();
            using var reference = new RealRedisProcess("--rdbcompression", compress ? "yes" : "no", "--rdbchecksum", checksum ? "yes" : "no");
            using var referenceConnection = reference.Connect();
            using (var connection = ours.Connect()) RunScript(connection);
            RunScript(referenceConnection);

            string path = Path.Combine(dir, "ours.rdb");
            ours.Save(path, compress, checksum);
            var (exitCode, output) = CheckRdb(path);
            Assert.True(exitCode == 0, output);
            Assert.Contains(@"\o/ RDB looks OK! \o/", output);

            using (var loaded = new RealRedisProcess("--dir", dir, "--dbfilename", "ours.rdb"))
            using (var loadedConnection = loaded.Connect())
            {
                AssertSameDataset(referenceConnection, loadedConnection);
            }

            // The same data saved by Redis: our file is no bigger than 5% over it.
            Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(referenceConnection.Call("SAVE")));
            long redisSize = new FileInfo(Path.Combine(RedisDir(referenceConnection), "dump.rdb")).Length;
            Assert.InRange(new FileInfo(path).Length, 1, redisSize * 105 / 100);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Redis_s_dump_loads_in_ours_with_the_same_dataset(bool compress)
    {
        using var redis = new RealRedisProcess("--rdbcompression", compress ? "yes" : "no");
        using var redisConnection = redis.Connect();
        RunScript(redisConnection);
        Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(redisConnection.Call("SAVE")));
        string path = Path.Combine(RedisDir(redisConnection), "dump.rdb");

        await using var ours = new OurServer();
        Assert.Equal(new FileInfo(path).Length, ours.Load(path));
        using var connection = ours.Connect();
        AssertSameDataset(redisConnection, connection);
    }

    /// <summary>
    /// The script's keys whose encoding has one possible byte layout (no hash tables, whose order is
    /// the server's own; no LPUSH list, whose nodes Redis fills from the head), with absolute expiry
    /// times so both servers store the same ones.
    /// </summary>
    static IEnumerable<string[]> DeterministicScript()
    {
        string[] tableOrdered = ["st:many-ints", "st:strings", "h:big", "h:long-value", "l:head"];
        foreach (var command in Script())
        {
            if (command.Length > 1 && tableOrdered.Contains(command[1])) continue;
            if (command[0] == "PEXPIRE") yield return ["PEXPIREAT", command[1], (4_102_444_800_000 + long.Parse(command[2])).ToString()];
            else if (command.Length == 5 && command[3] == "PX") yield return [.. command[..3], "PXAT", (4_102_444_800_000 + long.Parse(command[4])).ToString()];
            else yield return command;
        }
    }

    /// <summary>Each key's own bytes (expiry, type, key, value), sliced by the reader's positions past the AUX/SELECTDB/RESIZEDB opcodes before it.</summary>
    static Dictionary<string, string> Records(byte[] image)
    {
        var records = new Dictionary<string, string>();
        var reader = new RdbReader(new MemoryStream(image), new ServerConfig(), verifyChecksum: true);
        reader.ReadHeader();
        int start = (int)reader.Position;
        while (reader.TryReadEntry(out var entry))
        {
            start = SkipOpcodes(image, start);
            records[$"{entry.Db} {RespConnection.Escape(entry.Key)}"] = Convert.ToHexString(image, start, (int)reader.Position - start);
            start = (int)reader.Position;
        }
        return records;
    }

    static int SkipOpcodes(byte[] image, int p)
    {
        while (true)
        {
            switch (image[p])
            {
                case RdbFormat.OpAux: p = SkipString(image, SkipString(image, p + 1)); break;
                case RdbFormat.OpSelectDb: p = SkipLength(image, p + 1, out _); break;
                case RdbFormat.OpResizeDb: p = SkipLength(image, SkipLength(image, p + 1, out _), out _); break;
                default: return p;
            }
        }
    }

    static int SkipLength(byte[] image, int p, out long value)
    {
        byte first = image[p];
        (value, int size) = (first >> 6) switch
        {
            0 or 3 => (first & 0x3F, 1),
            1 => (((first & 0x3F) << 8) | image[p + 1], 2),
            _ => ((long)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(image.AsSpan(p + 1)), 5),
        };
        return p + size;
    }

    /// <summary>AUX strings are short: plain or an integer encoding.</summary>
    static int SkipString(byte[] image, int p)
    {
        bool encoded = image[p] >> 6 == 3;
        p = SkipLength(image, p, out long value);
        return p + (int)(encoded ? 1L << (int)value : value);
    }

    [Fact]
    public async Task Every_key_is_written_with_the_bytes_redis_writes()
    {
        string dir = Directory.CreateTempSubdirectory("rdb-bytes-").FullName;
        try
        {
            await using var ours = new OurServer();
            using var redis = new RealRedisProcess();
            using var redisConnection = redis.Connect();
            using var connection = ours.Connect();
            foreach (var command in DeterministicScript())
            {
                var args = command.Select(Encoding.Latin1.GetBytes).ToArray();
                Assert.Equal(RespConnection.Escape(redisConnection.Call(args)), RespConnection.Escape(connection.Call(args)));
            }
            Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(redisConnection.Call("SAVE")));
            string path = Path.Combine(dir, "ours.rdb");
            ours.Save(path, compress: true, checksum: true);

            var expected = Records(File.ReadAllBytes(Path.Combine(RedisDir(redisConnection), "dump.rdb")));
            var actual = Records(File.ReadAllBytes(path));
            Assert.True(expected.Count > 20);
            AssertSame(new(expected), new(actual), (a, b) => a == b);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
