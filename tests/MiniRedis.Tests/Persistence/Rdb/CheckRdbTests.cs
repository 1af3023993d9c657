using System.Diagnostics;
using MiniRedis.Data;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// miniredis-check-rdb against Debian's redis-check-rdb on the same files: dumps Redis 7.0.15 wrote
/// (with and without checksum) and ours (expired keys, compression off), whole, cut at many offsets
/// and with a damaged checksum: the same verdict, exit code and lines.
/// </summary>
[Trait("Category", "Differential")]
public sealed class CheckRdbTests : IDisposable
{
    readonly string _dir = AofTestData.NewDirectory("check-rdb-");

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>Redis's dump of every type (AofRewriteTests' script), saved with <paramref name="checksum"/>.</summary>
    byte[] RedisDump(string checksum)
    {
        string dir = AofTestData.NewDirectory("check-rdb-redis-");
        try
        {
            using var redis = AofServerProcess.Redis(dir, "--appendonly", "no", "--rdbchecksum", checksum);
            AofRewriteTests.RunScript(redis);
            using var connection = redis.Connect();
            Assert.Equal("+OK\r\n", System.Text.Encoding.ASCII.GetString(connection.Call("SAVE")));
            return File.ReadAllBytes(Path.Combine(dir, "dump.rdb"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>Our dump with keys long expired, keys with a future TTL and a compressible value, in two databases.</summary>
    static byte[] OurDump(bool compress)
    {
        var keyspace = new Keyspace(16);
        var db = keyspace[0];
        db.SetString("plain"u8, "value"u8);
        db.SetExpire(db.SetString("expired"u8, "gone"u8), 1000);
        db.SetExpire(db.SetString("expired-too"u8, "gone"u8), 2000);
        db.SetExpire(db.SetString("future"u8, "ttl"u8), 4102444800000);
        db.SetString("compressible"u8, System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("abcdefgh", 40))));
        keyspace[7].SetString("12345"u8, "integer key"u8);
        using var image = new MemoryStream();
        RdbWriter.WriteDataset(keyspace, [], image, compress, checksum: true, aofBase: false);
        return image.ToArray();
    }

    (string Report, int ExitCode) Redis(string name, byte[] data)
    {
        File.WriteAllBytes(Path.Combine(_dir, name), data);
        return RdbPreambleInteropTests.RunRedisTool("redis-check-rdb", _dir, name);
    }

    static (string Report, int ExitCode) Ours(string name, byte[] data)
    {
        var result = RdbChecker.Check(data, name);
        return (result.Report, result.Valid ? 0 : 1);
    }

    void AssertAgrees(string name, byte[] data) => Assert.Equal(Redis(name, data), Ours(name, data));

    [Fact]
    public void Whole_dumps_get_redis_report()
    {
        var cases = new[] { ("redis.rdb", RedisDump("yes")), ("redis-nocrc.rdb", RedisDump("no")), ("ours.rdb", OurDump(true)), ("ours-plain.rdb", OurDump(false)) };
        foreach (var (name, data) in cases)
        {
            AssertAgrees(name, data);
            Assert.Equal(0, Ours(name, data).ExitCode);
        }
        Assert.Contains("RDB file was saved with checksum disabled: no check performed.", Ours("redis-nocrc.rdb", cases[1].Item2).Report);
        var ours = RdbChecker.Check(cases[2].Item2, "ours.rdb");
        Assert.Equal((6, 3, 2), (ours.Keys, ours.Expires, ours.AlreadyExpired));
        Assert.Equal(5, ours.KeysPerDbAndType[0]["string"]);
        Assert.Equal(1, ours.KeysPerDbAndType[7]["string"]);
    }

    /// <summary>
    /// Cut at many offsets. Where the cut falls inside an LZF string's length fields, Redis reads them
    /// one by one while our reader checks them together, so only that offset may differ by a byte or two.
    /// </summary>
    [Fact]
    public void Truncated_dumps_get_redis_verdict_and_lines()
    {
        foreach (var (name, data) in new[] { ("redis.rdb", RedisDump("yes")), ("ours.rdb", OurDump(true)) })
        {
            int stride = Math.Max(1, data.Length / 150);
            for (int length = 0; length < data.Length; length += length < 100 ? 1 : stride)
            {
                var cut = data[..length];
                var redis = Redis(name, cut);
                var ours = Ours(name, cut);
                Assert.Equal(1, ours.ExitCode);
                Assert.Equal(redis.ExitCode, ours.ExitCode);
                Assert.Equal(WithoutErrorOffset(redis.Report), WithoutErrorOffset(ours.Report));
            }
        }
    }

    [Fact]
    public void Dumps_with_function_libraries_get_redis_report_whole_and_cut()
    {
        string dir = AofTestData.NewDirectory("check-rdb-functions-");
        byte[] data;
        try
        {
            using var redis = AofServerProcess.Redis(dir, "--appendonly", "no");
            using var connection = redis.Connect();
            connection.Call("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 'a long enough body to be compressed by LZF' end)");
            connection.Call("SET", "k", "v");
            Assert.Equal("+OK\r\n", System.Text.Encoding.ASCII.GetString(connection.Call("SAVE")));
            data = File.ReadAllBytes(Path.Combine(dir, "dump.rdb"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
        AssertAgrees("functions.rdb", data);
        Assert.Equal(0, Ours("functions.rdb", data).ExitCode);
        for (int length = 80; length < data.Length; length++)
        {
            var cut = data[..length];
            var (redisReport, redisExit) = Redis("functions.rdb", cut);
            var (ourReport, ourExit) = Ours("functions.rdb", cut);
            Assert.Equal(redisExit, ourExit);
            Assert.Equal(WithoutErrorOffset(redisReport), WithoutErrorOffset(ourReport));
        }
    }

    static string WithoutErrorOffset(string report) =>
        System.Text.RegularExpressions.Regex.Replace(report, @"\[offset \d+\] Unexpected EOF", "[offset _] Unexpected EOF");

    [Fact]
    public void A_damaged_checksum_or_signature_gets_redis_report()
    {
        var data = RedisDump("yes");
        var badChecksum = data.ToArray();
        badChecksum[^2] ^= 0x01;
        AssertAgrees("crc.rdb", badChecksum);
        Assert.Contains("RDB CRC error", Ours("crc.rdb", badChecksum).Report);
        var badMagic = data.ToArray();
        badMagic[3] = (byte)'X';
        AssertAgrees("magic.rdb", badMagic);
        var badVersion = data.ToArray();
        badVersion[8] = (byte)'9';
        badVersion[7] = (byte)'9';
        AssertAgrees("version.rdb", badVersion);
    }

    [Fact]
    public void The_tool_exits_like_redis_check_rdb()
    {
        string tool = Path.Combine(RepoPaths.Root, "src", "MiniRedis.CheckRdb", "bin", RepoPaths.Configuration, "net10.0", "miniredis-check-rdb.dll");
        File.WriteAllBytes(Path.Combine(_dir, "good.rdb"), OurDump(true));
        File.WriteAllBytes(Path.Combine(_dir, "cut.rdb"), OurDump(true)[..40]);
        foreach (var arguments in new[] { new[] { "good.rdb" }, ["cut.rdb"], ["missing.rdb"], [] })
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
            foreach (var argument in arguments.Prepend(tool)) info.ArgumentList.Add(argument);
            using var process = Process.Start(info)!;
            string output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            var redis = RdbPreambleInteropTests.RunRedisTool("redis-check-rdb", _dir, arguments);
            Assert.Equal(redis.ExitCode, process.ExitCode);
            Assert.StartsWith(redis.Output, output);
            if (arguments is ["good.rdb"]) Assert.EndsWith("[info] db 0: 5 keys (string 5)\n[info] db 7: 1 keys (string 1)\n", output);
        }
    }
}
