using System.Text;
using MiniRedis.Persistence.Aof;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// A data directory Redis 7.0.15 left with <c>appendonly yes</c> (appendonlydir/ with a manifest, a
/// base and incr files) is imported at start when our AOF does not exist: the same dataset, a log
/// line naming the directory, our AOF created from it so later starts load ours. A broken manifest or
/// a missing file refuses the start.
/// </summary>
[Trait("Category", "Differential")]
public sealed class AofMigrationTests() : AofBootTests("migrate-in-process-")
{
    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public void A_redis_7_appendonlydir_is_imported_and_our_aof_takes_over(string redisPreamble)
    {
        string dir = AofTestData.NewDirectory("migrate-");
        try
        {
            SortedDictionary<string, string> expected;
            using (var redis = AofServerProcess.Redis(dir, "--aof-use-rdb-preamble", redisPreamble))
            {
                RdbPreambleInteropTests.Run(redis, [["SET", "before", "rewrite"], ["RPUSH", "small-list", "x"]]);
                RdbPreambleInteropTests.RedisRewriteAndWait(redis, dir, 2);
                AofRewriteTests.RunScript(redis);
                RdbPreambleInteropTests.Run(redis, RdbPreambleInteropTests.LaterWrites);
                using (var connection = redis.Connect()) expected = AofTestData.Snapshot(connection);
                RdbPreambleInteropTests.Shutdown(redis);
            }
            string parts = Path.Combine(dir, "appendonlydir");
            Assert.True(File.Exists(Path.Combine(parts, redisPreamble == "yes" ? "appendonly.aof.2.base.rdb" : "appendonly.aof.2.base.aof")));
            Assert.True(new FileInfo(Path.Combine(parts, "appendonly.aof.2.incr.aof")).Length > 0);
            string ours = Path.Combine(dir, "appendonly.aof");
            Assert.False(File.Exists(ours));

            using (var server = AofServerProcess.MiniRedis(dir))
            {
                using var connection = server.Connect();
                Assert.Equal(expected, AofTestData.Snapshot(connection));
                RewriteBackgroundTests.AssertLogged(server, $"Successfully imported the multi part AOF directory {parts} into the append-only file {ours}");
                Assert.True(File.Exists(ours));
                connection.Call("SET", "written", "by us");
                expected = AofTestData.Snapshot(connection);
                Assert.Contains("0 \"written\"", expected.Keys);
                RdbPreambleInteropTests.Shutdown(server);
            }

            using (var restarted = AofServerProcess.MiniRedis(dir))
            {
                using var connection = restarted.Connect();
                Assert.Equal(expected, AofTestData.Snapshot(connection));
                Assert.DoesNotContain("Importing the multi part AOF", restarted.Output);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>Starts a server in the test directory with a manifest as given; whether it may start, and its log.</summary>
    (bool Started, CollectingLogger Log, RedisServer Server) Boot(string manifest, params (string Name, byte[] Bytes)[] files)
    {
        string parts = Path.Combine(Dir, "appendonlydir");
        Directory.CreateDirectory(parts);
        File.WriteAllText(Path.Combine(parts, "appendonly.aof.manifest"), manifest);
        foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(parts, name), bytes);
        var (server, started, log) = Boot();
        return (started, log, server);
    }

    [Fact]
    public void Incr_files_replay_in_manifest_order_after_the_base_and_history_files_are_skipped()
    {
        var (started, log, server) = Boot(
            "file appendonly.aof.3.base.aof seq 3 type b\nfile appendonly.aof.2.incr.aof seq 2 type h\nfile \"appendonly.aof.3.incr.aof\" seq 3 type i\nfile appendonly.aof.4.incr.aof seq 4 type i\n",
            ("appendonly.aof.3.base.aof", [.. Command("SELECT", "0"), .. Command("SET", "k", "base")]),
            ("appendonly.aof.3.incr.aof", [.. Command("SELECT", "0"), .. Command("APPEND", "k", "+3")]),
            ("appendonly.aof.4.incr.aof", [.. Command("SELECT", "0"), .. Command("APPEND", "k", "+4")]));
        Assert.True(started, string.Join("\n", log.Lines));
        Assert.Equal("$8\r\nbase+3+4\r\n", new InProcessClient(server).Run("GET k"));
        Assert.Contains(log.Lines, l => l.StartsWith("Successfully imported the multi part AOF directory", StringComparison.Ordinal));
        server.Stop();
        Assert.True(File.Exists(AofPath));
    }

    [Theory]
    [InlineData("file appendonly.aof.1.base.aof seq 1\n", "Invalid AOF manifest file format")]
    [InlineData("file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.2.base.aof seq 2 type b\n", "Found duplicate base file information")]
    [InlineData("file appendonly.aof.1.base.aof seq 1 type b\nfile a.incr seq 3 type i\nfile b.incr seq 2 type i\n", "Found a non-monotonic sequence number")]
    [InlineData("file appendonly.aof.1.base.aof seq 1 type x\n", "Unknown AOF file type")]
    [InlineData("file ../escape.aof seq 1 type b\n", "File can't be a path, just a filename")]
    [InlineData("# nothing listed\n", "Found an empty AOF manifest")]
    [InlineData("file \"unterminated seq 1 type b\n", "Invalid AOF manifest file format")]
    public void A_broken_manifest_refuses_the_start(string manifest, string reason)
    {
        var (started, log, server) = Boot(manifest, ("appendonly.aof.1.base.aof", Command("SET", "k", "v")));
        server.Stop();
        Assert.False(started);
        Assert.Contains(log.Lines, l => l.Contains("manifest", StringComparison.Ordinal) && l.Contains(reason, StringComparison.Ordinal));
        Assert.False(File.Exists(AofPath));
    }

    [Fact]
    public void A_file_missing_from_the_directory_refuses_the_start()
    {
        var (started, log, server) = Boot("file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
            ("appendonly.aof.1.incr.aof", Command("SET", "k", "v")));
        server.Stop();
        Assert.False(started);
        Assert.Contains(log.Lines, l => l.Contains("appendonly.aof.1.base.rdb", StringComparison.Ordinal) && l.Contains("does not exist", StringComparison.Ordinal));
        Assert.False(File.Exists(AofPath));
    }

    /// <summary>Only the last file may end torn: an earlier one cut short would replay later files over a gap.</summary>
    [Fact]
    public void A_torn_file_before_the_last_refuses_the_start()
    {
        byte[] torn = Command("SET", "k", "v");
        var (started, log, server) = Boot("file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
            ("appendonly.aof.1.base.aof", torn[..^2]), ("appendonly.aof.1.incr.aof", Command("SET", "j", "v")));
        server.Stop();
        Assert.False(started);
        Assert.Contains(log.Lines, l => l.Contains("which is not the last file of the AOF", StringComparison.Ordinal));
    }

    [Fact]
    public void Manifest_names_may_be_quoted_and_pairs_come_in_any_order()
    {
        var manifest = AofManifest.Parse(Encoding.ASCII.GetBytes("type b seq 1 file \"base\\x20file.rdb\"\r\n# comment\nfile 'incr.aof' seq 7 type i\n"));
        Assert.Equal("base file.rdb", manifest.BaseFile);
        Assert.Equal(["base file.rdb", "incr.aof"], manifest.Files);
    }
}
