using MiniRedis.Config;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// The RDB commands on an in-process server over a temporary directory: DEBUG RELOAD, BGSAVE while
/// an AOF rewrite runs or inside MULTI, SAVE inside MULTI. Replies were taken from a real Redis
/// 7.0.15 given the same commands.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RdbServerCommandsTests : IDisposable
{
    readonly string _dir = AofTestData.NewDirectory("rdb-commands-");
    readonly RedisServer _server;
    readonly InProcessClient _client;

    public RdbServerCommandsTests()
    {
        _server = InProcessClient.StartServer(ServerConfig.Parse($"dir {_dir}\nsave \"\"\nenable-debug-command yes"));
        _client = new InProcessClient(_server);
    }

    public void Dispose()
    {
        _server.Stop();
        Directory.Delete(_dir, true);
    }

    string Run(string line) => _client.Run(line);

    T OnExecutor<T>(Func<T> read) => _server.Executor.InvokeAsync(read).GetAwaiter().GetResult();

    string DumpPath => Path.Combine(_dir, "dump.rdb");

    [Fact]
    public void Debug_reload_saves_flushes_and_loads_back()
    {
        Run("SET a 1");
        Run("SET b 2");
        Run("SELECT 3");
        Run("SET c 3");
        Run("SELECT 0");
        Assert.Equal("+OK\r\n", Run("DEBUG RELOAD"));
        Assert.True(File.Exists(DumpPath));
        Assert.Equal("$1\r\n1\r\n", Run("GET a"));
        Assert.Equal(":2\r\n", Run("DBSIZE"));
        Run("SELECT 3");
        Assert.Equal("$1\r\n3\r\n", Run("GET c"));
        Run("SELECT 0");
        Assert.Equal("3", OnExecutor(() => _server.Rdb.LastLoadKeysLoaded.ToString()));

        Assert.Equal("-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n", Run("DEBUG RELOAD FAST"));

        // NOSAVE loads the dump as it is: later changes are gone.
        Run("SET a changed");
        Run("SET d 4");
        Assert.Equal("+OK\r\n", Run("DEBUG RELOAD NOSAVE"));
        Assert.Equal("$1\r\n1\r\n", Run("GET a"));
        Assert.Equal("$-1\r\n", Run("GET d"));

        // NOFLUSH MERGE adds the dump to what is there, the dump's value winning.
        Run("SET a changed");
        Run("SET d 4");
        Assert.Equal("+OK\r\n", Run("DEBUG RELOAD NOSAVE NOFLUSH MERGE"));
        Assert.Equal("$1\r\n1\r\n", Run("GET a"));
        Assert.Equal("$1\r\n4\r\n", Run("GET d"));

        // Redis would crash on the duplicate key; here the load is refused.
        Assert.Equal("-ERR Error trying to load the RDB dump\r\n", Run("DEBUG RELOAD NOSAVE NOFLUSH"));

        // As Redis, a missing dump leaves the databases flushed and says so.
        File.Delete(DumpPath);
        Assert.Equal("-ERR Error trying to load the RDB dump\r\n", Run("DEBUG RELOAD NOSAVE"));
        Assert.Equal(":0\r\n", Run("DBSIZE"));
    }

    [Fact]
    public void Bgsave_while_a_rewrite_runs_is_refused_or_scheduled_and_runs_after_it()
    {
        Run("SET a 1");
        var replies = _client.RunTogether(() => { }, "BGREWRITEAOF", "BGSAVE", "BGSAVE SCHEDULE", "BGREWRITEAOF", "INFO persistence");
        Assert.Equal("+Background append only file rewriting started\r\n", replies[0]);
        Assert.Equal("-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n", replies[1]);
        Assert.Equal("+Background saving scheduled\r\n", replies[2]);
        Assert.Equal("-ERR Background append only file rewriting already in progress\r\n", replies[3]);
        Assert.Contains("rdb_bgsave_in_progress:0\r\n", replies[4], StringComparison.Ordinal);
        Assert.Contains("aof_rewrite_in_progress:1\r\n", replies[4], StringComparison.Ordinal);

        RdbTestSupport.WaitUntil(() => OnExecutor(() => _server.Rdb.Saves == 1 && !_server.Rdb.InProgress && !_server.AofRewrite.InProgress),
            "the scheduled BGSAVE to run after the rewrite");
        Assert.True(File.Exists(DumpPath));
        Assert.Equal(1, OnExecutor(() => _server.AofRewrite.Rewrites));
        Assert.False(OnExecutor(() => _server.Rdb.Scheduled));
    }

    [Fact]
    public void Bgsave_and_bgrewriteaof_inside_multi_are_scheduled_and_save_is_refused()
    {
        Run("MULTI");
        Assert.Equal("-ERR Command not allowed inside a transaction\r\n", Run("SAVE"));
        Run("DISCARD");
        Run("MULTI");
        Run("SET a 1");
        Run("BGSAVE");
        Run("BGREWRITEAOF");
        Assert.Equal("*3\r\n+OK\r\n+Background saving scheduled\r\n+Background append only file rewriting scheduled\r\n", Run("EXEC"));
        RdbTestSupport.WaitUntil(() => OnExecutor(() => _server.Rdb.Saves == 1 && !_server.Rdb.InProgress && _server.AofRewrite.Rewrites == 1),
            "the scheduled BGSAVE and rewrite to run one after the other");
        Assert.True(File.Exists(DumpPath));
    }
}
