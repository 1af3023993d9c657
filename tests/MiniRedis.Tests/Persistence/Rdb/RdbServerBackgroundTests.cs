using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// BGSAVE without fork on a server process: the dump holds exactly the dataset of the BGSAVE's
/// instant whatever is written meanwhile; a failed save keeps the old dump, reports err and
/// refuses writes with Redis's -MISCONF until a save succeeds; BGSAVE and BGREWRITEAOF never run
/// at once; INFO persistence has Redis 7.0's fields.
/// </summary>
[Trait("Category", "Differential")]
public sealed class RdbServerBackgroundTests : IDisposable
{
    const string Misconf = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n";

    readonly string _dir = AofTestData.NewDirectory("rdb-bgsave-");

    public void Dispose() => Directory.Delete(_dir, true);

    string DumpPath => Path.Combine(_dir, "dump.rdb");

    static string Text(byte[] reply) => RdbTestSupport.Text(reply);

    static string Info(RespConnection connection, string field) => RdbTestSupport.Info(connection, field);

    /// <summary>The dataset a dump holds, read by a second server started on a copy of it.</summary>
    SortedDictionary<string, string> DatasetOfDump()
    {
        string copy = AofTestData.NewDirectory("rdb-bgsave-copy-");
        try
        {
            File.Copy(DumpPath, Path.Combine(copy, "dump.rdb"));
            using var server = RdbServerProcess.MiniRedis(copy);
            using var connection = server.Connect();
            return AofTestData.Snapshot(connection);
        }
        finally
        {
            Directory.Delete(copy, true);
        }
    }

    [Fact]
    public void Bgsave_under_concurrent_writes_saves_exactly_the_dataset_of_its_instant()
    {
        using var server = RdbServerProcess.MiniRedis(_dir, "--rdb-key-save-delay", "1000");
        using var connection = server.Connect();
        RdbTestSupport.SetKeys(connection, 1500);
        RdbTestSupport.WriteMixedDataset(connection);
        var atInstant = AofTestData.Snapshot(connection);

        Assert.Equal("+Background saving started\r\n", Text(connection.Call("BGSAVE")));
        using (var writer = server.Connect())
        {
            for (int i = 0; i < 1500; i += 3)
            {
                writer.Call("SET", $"key:{i}", "changed");
                writer.Call("DEL", $"key:{i + 1}");
                writer.Call("SET", $"new:{i}", "created after the instant");
            }
            writer.Call("RPUSH", "k:l:0", "pushed");
            writer.Call("HDEL", "k:h:1", "f1");
            writer.Call("SELECT", "2");
            writer.Call("FLUSHDB");
            writer.Call("SELECT", "1");
            writer.Call("ZADD", "k:z", "100", "late");
        }
        Assert.Equal("1", Info(connection, "rdb_bgsave_in_progress"));
        Assert.NotEqual("-1", Info(connection, "rdb_current_bgsave_time_sec"));
        Assert.Equal(atInstant.Count.ToString(), Info(connection, "current_save_keys_total"));
        Assert.NotEqual("0", Info(connection, "current_save_keys_processed"));
        Assert.Equal("-ERR Background save already in progress\r\n", Text(connection.Call("BGSAVE")));
        Assert.Equal("-ERR Background save already in progress\r\n", Text(connection.Call("SAVE")));
        // The rest goes faster: the delay is read for every key.
        connection.Call("CONFIG", "SET", "rdb-key-save-delay", "0");
        RdbTestSupport.WaitForBackgroundSave(connection);
        Assert.Equal("ok", Info(connection, "rdb_last_bgsave_status"));
        Assert.NotEqual("0", Info(connection, "rdb_last_cow_size"));
        Assert.Equal("-1", Info(connection, "rdb_current_bgsave_time_sec"));
        Assert.Equal(atInstant, DatasetOfDump());
    }

    [Fact]
    public void A_failed_bgsave_keeps_the_old_dump_and_refuses_writes_with_misconf_until_a_save_succeeds()
    {
        using var server = RdbServerProcess.MiniRedis(_dir, "--save", "3600", "1");
        using var connection = server.Connect();
        connection.Call("SET", "a", "1");
        Assert.Equal("+OK\r\n", Text(connection.Call("SAVE")));
        var oldDump = File.ReadAllBytes(DumpPath);
        connection.Call("SET", "a", "2");

        // The rename cannot replace a directory: the save fails after writing the whole image.
        File.Move(DumpPath, DumpPath + ".old");
        Directory.CreateDirectory(DumpPath);
        Assert.Equal("err", RdbTestSupport.BackgroundSave(connection));
        RewriteBackgroundTests.AssertLogged(server, "Error moving temp DB file temp-bgsave-");
        RewriteBackgroundTests.AssertLogged(server, "Background saving error");
        Assert.Empty(Directory.GetFiles(_dir, "temp-*"));
        Assert.Equal(oldDump, File.ReadAllBytes(DumpPath + ".old"));

        Assert.Equal(Misconf, Text(connection.Call("SET", "a", "3")));
        Assert.Equal(Misconf, Text(connection.Call("PING")));
        Assert.Equal("$1\r\n2\r\n", Text(connection.Call("GET", "a")));
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")));
        Assert.Equal("+OK\r\n", Text(connection.Call("SET", "a", "3")));
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes")));
        Assert.Equal(Misconf, Text(connection.Call("SET", "a", "4")));

        Directory.Delete(DumpPath);
        Assert.Equal("ok", RdbTestSupport.BackgroundSave(connection));
        Assert.Equal("+OK\r\n", Text(connection.Call("SET", "a", "4")));
        Assert.Equal("+PONG\r\n", Text(connection.Call("PING")));
    }

    [Fact]
    public void Without_save_points_a_failed_bgsave_does_not_stop_writes()
    {
        using var server = RdbServerProcess.MiniRedis(_dir);
        using var connection = server.Connect();
        Directory.CreateDirectory(DumpPath);
        Assert.Equal("err", RdbTestSupport.BackgroundSave(connection));
        Assert.Equal("+OK\r\n", Text(connection.Call("SET", "a", "1")));
        Assert.Equal("-ERR\r\n", Text(connection.Call("SAVE")));
    }

    /// <summary>A 1 MiB tmpfs (needs root and permission to mount, as the AOF disk-full tests).</summary>
    [NeedsRootFact]
    [Trait("Category", "NeedsRoot")]
    public void A_bgsave_failing_on_a_full_disk_keeps_the_old_dump_and_succeeds_once_space_is_back()
    {
        string mount = SmallDisk.Mount("rdb-tmpfs-");
        try
        {
            string dump = Path.Combine(mount, "dump.rdb");
            using var server = RdbServerProcess.MiniRedis(mount, "--save", "3600", "1", "--rdbcompression", "no");
            using var connection = server.Connect();
            string value = new('v', 1000);
            for (int i = 0; i < 300; i++) connection.Call("SET", $"k{i}", value);
            Assert.Equal("+OK\r\n", Text(connection.Call("SAVE")));
            var oldDump = File.ReadAllBytes(dump);
            connection.Call("SET", "k0", "changed");
            // Less room than a second image of about 300 KB needs.
            long free = new DriveInfo(mount).AvailableFreeSpace;
            File.WriteAllBytes(Path.Combine(mount, "filler"), new byte[free - 100 * 1024]);

            Assert.Equal("err", RdbTestSupport.BackgroundSave(connection));
            RewriteBackgroundTests.AssertLogged(server, "Write error saving DB on disk");
            Assert.Empty(Directory.GetFiles(mount, "temp-*"));
            Assert.Equal(oldDump, File.ReadAllBytes(dump));
            Assert.Equal(Misconf, Text(connection.Call("SET", "k1", "refused")));

            File.Delete(Path.Combine(mount, "filler"));
            Assert.Equal("+OK\r\n", Text(connection.Call("SAVE")));
            Assert.Equal("ok", Info(connection, "rdb_last_bgsave_status"));
            Assert.Equal("+OK\r\n", Text(connection.Call("SET", "k1", "accepted")));
        }
        finally
        {
            SmallDisk.Unmount(mount);
        }
    }

    /// <summary>
    /// The writer fails at once while the walk has most keys still to take: the snapshot must stop
    /// with the job, or commands reaching untaken keys would hand them to a job that is gone.
    /// </summary>
    [NeedsRootFact]
    [Trait("Category", "NeedsRoot")]
    public void A_bgsave_failing_before_the_walk_ends_stops_its_snapshot()
    {
        string mount = SmallDisk.Mount("rdb-tmpfs-");
        try
        {
            using var server = RdbServerProcess.MiniRedis(mount, "--save", "3600", "1");
            using var connection = server.Connect();
            RdbTestSupport.SetKeys(connection, 20_000);
            long free = new DriveInfo(mount).AvailableFreeSpace;
            File.WriteAllBytes(Path.Combine(mount, "filler"), new byte[free]);

            Assert.Equal("err", RdbTestSupport.BackgroundSave(connection));
            connection.Call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no");
            for (int i = 0; i < 20_000; i += 7) Assert.Equal("+OK\r\n", Text(connection.Call("SET", $"key:{i}", "x")));
            Assert.Equal("err", Info(connection, "rdb_last_bgsave_status"));

            File.Delete(Path.Combine(mount, "filler"));
            Assert.Equal("ok", RdbTestSupport.BackgroundSave(connection));
            Assert.False(server.HasExited);
        }
        finally
        {
            SmallDisk.Unmount(mount);
        }
    }

    [Fact]
    public void Bgrewriteaof_during_a_bgsave_is_scheduled_and_starts_when_it_ends()
    {
        using var server = RdbServerProcess.MiniRedis(_dir, "--appendonly", "yes", "--rdb-key-save-delay", "10000");
        using var connection = server.Connect();
        RdbTestSupport.SetKeys(connection, 200);
        Assert.Equal("+Background saving started\r\n", Text(connection.Call("BGSAVE")));
        Assert.Equal("+Background append only file rewriting scheduled\r\n", Text(connection.Call("BGREWRITEAOF")));
        Assert.Equal("1", Info(connection, "aof_rewrite_scheduled"));
        Assert.Equal("1", Info(connection, "aof_pending_rewrite"));
        Assert.Equal("0", Info(connection, "aof_rewrite_in_progress"));
        Assert.Equal("-ERR Background save already in progress\r\n", Text(connection.Call("BGSAVE", "SCHEDULE")));
        connection.Call("CONFIG", "SET", "rdb-key-save-delay", "0");
        RdbTestSupport.WaitUntil(() => Info(connection, "aof_rewrites") == "1", "the scheduled rewrite to run");
        Assert.Equal("0", Info(connection, "aof_rewrite_scheduled"));
        Assert.Equal("ok", Info(connection, "rdb_last_bgsave_status"));
        RewriteBackgroundTests.AssertLogged(server, "Background AOF rewrite finished successfully");
    }

    [Fact]
    public void Info_persistence_has_the_fields_of_redis_7_0_in_its_order()
    {
        foreach (var directives in new[] { new[] { "--appendonly", "no" }, ["--appendonly", "yes"] })
        {
            using var redis = new RealRedisProcess(directives);
            using var mini = new MiniRedisProcess(directives);
            using var redisConnection = redis.Connect();
            using var miniConnection = mini.Connect();
            Assert.Equal(FieldNames(redisConnection), FieldNames(miniConnection));
        }
    }

    static string[] FieldNames(RespConnection connection)
    {
        string info = Encoding.Latin1.GetString(connection.Call("INFO", "persistence"));
        return [.. info.Split("\r\n").Where(line => line.Contains(':', StringComparison.Ordinal)).Select(line => line[..line.IndexOf(':', StringComparison.Ordinal)])];
    }
}
