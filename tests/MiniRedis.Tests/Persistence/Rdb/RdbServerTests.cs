using System.Diagnostics;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// SAVE, BGSAVE, LASTSAVE, save rules, SHUTDOWN and FLUSHALL on a server process: replies and log
/// lines as Redis 7.0.15's, the dump appearing atomically, and the data surviving a restart.
/// </summary>
[Trait("Category", "Process")]
public sealed class RdbServerTests : IDisposable
{
    readonly string _dir = AofTestData.NewDirectory("rdb-server-");

    public void Dispose() => Directory.Delete(_dir, true);

    string DumpPath => Path.Combine(_dir, "dump.rdb");

    static string Text(byte[] reply) => RdbTestSupport.Text(reply);

    static string Info(RespConnection connection, string field) => RdbTestSupport.Info(connection, field);

    [Fact]
    public void Save_bgsave_and_lastsave_reply_as_redis_and_write_the_dump()
    {
        using var server = RdbServerProcess.MiniRedis(_dir);
        using var connection = server.Connect();
        long startedAround = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long lastSave = long.Parse(Text(connection.Call("LASTSAVE"))[1..^2]);
        Assert.InRange(lastSave, startedAround - 60, startedAround);
        RdbTestSupport.WriteMixedDataset(connection);
        Assert.False(File.Exists(DumpPath));

        Assert.Equal("+OK\r\n", Text(connection.Call("SAVE")));
        Assert.StartsWith("REDIS0010", Encoding.ASCII.GetString(File.ReadAllBytes(DumpPath).AsSpan(0, 9)));
        Assert.Equal("0", Info(connection, "rdb_changes_since_last_save"));
        Assert.Equal("1", Info(connection, "rdb_saves"));

        connection.Call("SET", "after", "save");
        Assert.Equal("1", Info(connection, "rdb_changes_since_last_save"));
        Assert.Equal("ok", RdbTestSupport.BackgroundSave(connection));
        Assert.Equal("0", Info(connection, "rdb_changes_since_last_save"));
        Assert.Equal("2", Info(connection, "rdb_saves"));
        Assert.Equal(Info(connection, "rdb_last_save_time"), Text(connection.Call("LASTSAVE"))[1..^2]);
        RewriteBackgroundTests.AssertLogged(server, "Background saving started by pid ");
        RewriteBackgroundTests.AssertLogged(server, "Background saving terminated with success");
        Assert.Empty(Directory.GetFiles(_dir, "temp-*"));

        Assert.Equal("-ERR syntax error\r\n", Text(connection.Call("BGSAVE", "NOW")));
        Assert.Equal("-ERR syntax error\r\n", Text(connection.Call("BGSAVE", "SCHEDULE", "x")));
        Assert.Equal("-ERR wrong number of arguments for 'save' command\r\n", Text(connection.Call("SAVE", "x")));
    }

    [Fact]
    public void Restart_loads_the_saved_dataset()
    {
        SortedDictionary<string, string> saved;
        using (var server = RdbServerProcess.MiniRedis(_dir))
        {
            using var connection = server.Connect();
            RdbTestSupport.WriteMixedDataset(connection);
            connection.Call("SET", "bin\x00ary", "v\r\n\x01");
            Assert.Equal("+OK\r\n", Text(connection.Call("SAVE")));
            saved = AofTestData.Snapshot(connection);
            connection.Call("SET", "not", "saved");
        }
        using var restarted = RdbServerProcess.MiniRedis(_dir);
        using var again = restarted.Connect();
        Assert.Equal(saved, AofTestData.Snapshot(again));
        Assert.Equal(saved.Count.ToString(), Info(again, "rdb_last_load_keys_loaded"));
        Assert.Equal("0", Info(again, "rdb_last_load_keys_expired"));
        RewriteBackgroundTests.AssertLogged(restarted, "DB loaded from disk: ");
    }

    [Fact]
    public void A_save_rule_starts_a_background_save_once_enough_changes_and_seconds_passed()
    {
        using var server = RdbServerProcess.MiniRedis(_dir, "--save", "1", "2");
        using var connection = server.Connect();
        connection.Call("SET", "a", "1");
        // One change is below the rule: nothing is saved however long we wait.
        Thread.Sleep(2500);
        Assert.False(File.Exists(DumpPath));
        connection.Call("SET", "b", "2");
        RdbTestSupport.WaitUntil(() => File.Exists(DumpPath), "the save rule to fire");
        RdbTestSupport.WaitUntil(() => Info(connection, "rdb_changes_since_last_save") == "0", "the background save to end");
        RewriteBackgroundTests.AssertLogged(server, "2 changes in 1 seconds. Saving...");
        Assert.Equal("1", Info(connection, "rdb_saves"));
    }

    [Fact]
    public void Shutdown_saves_with_save_points_and_nosave_or_no_save_points_do_not()
    {
        using (var server = RdbServerProcess.MiniRedis(_dir, "--save", "3600", "1"))
        {
            using var connection = server.Connect();
            connection.Call("SET", "kept", "1");
            Assert.Equal("", RdbTestSupport.CallUntilClosed(connection, "SHUTDOWN"));
            Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Contains("Saving the final RDB snapshot before exiting.", server.Output, StringComparison.Ordinal);
        }
        Assert.True(File.Exists(DumpPath));
        var firstDump = File.ReadAllBytes(DumpPath);

        using (var server = RdbServerProcess.MiniRedis(_dir, "--save", "3600", "1"))
        {
            using var connection = server.Connect();
            Assert.Equal("$1\r\n1\r\n", Text(connection.Call("GET", "kept")));
            connection.Call("SET", "lost", "1");
            Assert.Equal("", RdbTestSupport.CallUntilClosed(connection, "SHUTDOWN", "NOSAVE"));
            Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        Assert.Equal(firstDump, File.ReadAllBytes(DumpPath));

        using (var server = RdbServerProcess.MiniRedis(_dir))
        {
            using var connection = server.Connect();
            connection.Call("SET", "explicit", "1");
            Assert.Equal("", RdbTestSupport.CallUntilClosed(connection, "SHUTDOWN", "SAVE"));
            Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        using var last = RdbServerProcess.MiniRedis(_dir);
        using var check = last.Connect();
        Assert.Equal("$1\r\n1\r\n", Text(check.Call("GET", "explicit")));
        Assert.Equal("$-1\r\n", Text(check.Call("GET", "lost")));
    }

    [Fact]
    public void Sigterm_saves_when_save_points_are_configured()
    {
        using (var server = RdbServerProcess.MiniRedis(_dir, "--save", "3600", "1"))
        {
            using var connection = server.Connect();
            connection.Call("SET", "by", "sigterm");
            using var kill = Process.Start("kill", ["-TERM", server.ProcessId.ToString()]);
            kill.WaitForExit();
            Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Contains("DB saved on disk", server.Output, StringComparison.Ordinal);
        }
        using var restarted = RdbServerProcess.MiniRedis(_dir);
        using var again = restarted.Connect();
        Assert.Equal("$7\r\nsigterm\r\n", Text(again.Call("GET", "by")));
    }

    [Fact]
    public void A_failed_save_refuses_shutdown_unless_forced()
    {
        using var server = RdbServerProcess.MiniRedis(_dir, "--save", "3600", "1");
        using var connection = server.Connect();
        connection.Call("SET", "a", "1");
        // A directory where the dump should go: the rename fails, as on a broken disk.
        Directory.CreateDirectory(DumpPath);
        Assert.Equal("-ERR Errors trying to SHUTDOWN. Check logs.\r\n", Text(connection.Call("SHUTDOWN")));
        Assert.Equal("+PONG\r\n", Text(connection.Call("PING")));
        RewriteBackgroundTests.AssertLogged(server, "Error trying to save the DB, can't exit.");
        Assert.Empty(Directory.GetFiles(_dir, "temp-*"));
        Assert.Equal("", RdbTestSupport.CallUntilClosed(connection, "SHUTDOWN", "FORCE"));
        Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains("Error trying to save the DB. Exit anyway.", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Flushall_saves_the_empty_dataset_and_resets_the_counter_only_with_save_points()
    {
        using (var server = RdbServerProcess.MiniRedis(_dir))
        {
            using var connection = server.Connect();
            connection.Call("SET", "a", "1");
            connection.Call("SET", "b", "2");
            Assert.Equal("+OK\r\n", Text(connection.Call("FLUSHALL")));
            // As Redis 7.0: the deleted keys count as changes, FLUSHALL itself does not.
            Assert.Equal("4", Info(connection, "rdb_changes_since_last_save"));
            Assert.False(File.Exists(DumpPath));
        }
        using (var server = RdbServerProcess.MiniRedis(_dir, "--save", "3600", "1"))
        {
            using var connection = server.Connect();
            connection.Call("SET", "a", "1");
            Assert.Equal("+OK\r\n", Text(connection.Call("SAVE")));
            connection.Call("SET", "b", "2");
            Assert.Equal("+OK\r\n", Text(connection.Call("FLUSHALL")));
            Assert.Equal("0", Info(connection, "rdb_changes_since_last_save"));
            // Its save is not a SAVE command: rdb_saves counts only the one above.
            Assert.Equal("1", Info(connection, "rdb_saves"));
        }
        using var restarted = RdbServerProcess.MiniRedis(_dir);
        using var again = restarted.Connect();
        Assert.Equal(":0\r\n", Text(again.Call("DBSIZE")));
    }
}
