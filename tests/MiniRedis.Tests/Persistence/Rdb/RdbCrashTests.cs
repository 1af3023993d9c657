using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>kill -9 while a slow BGSAVE writes: the previous dump is intact and loads at restart.</summary>
[Trait("Category", "Process")]
public sealed class RdbCrashTests : IDisposable
{
    readonly string _dir = AofTestData.NewDirectory("rdb-crash-");

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(150)]
    public void Killed_during_bgsave_the_previous_dump_still_loads(int keysWrittenBeforeKill)
    {
        SortedDictionary<string, string> saved;
        var server = RdbServerProcess.MiniRedis(_dir);
        try
        {
            using var connection = server.Connect();
            RdbTestSupport.SetKeys(connection, 200, "old");
            RdbTestSupport.WriteMixedDataset(connection);
            Assert.Equal("+OK\r\n", RdbTestSupport.Text(connection.Call("SAVE")));
            saved = AofTestData.Snapshot(connection);
            RdbTestSupport.SetKeys(connection, 200, "new");
            connection.Call("CONFIG", "SET", "rdb-key-save-delay", "20000");
            Assert.Equal("+Background saving started\r\n", RdbTestSupport.Text(connection.Call("BGSAVE")));
            RdbTestSupport.WaitUntil(
                () => long.Parse(RdbTestSupport.Info(connection, "current_save_keys_processed")) >= keysWrittenBeforeKill,
                "the save to get going");
            Assert.NotEmpty(Directory.GetFiles(_dir, "temp-bgsave-*.rdb"));
        }
        finally
        {
            server.Dispose();
        }
        using var restarted = RdbServerProcess.MiniRedis(_dir);
        using var again = restarted.Connect();
        Assert.Equal(saved, AofTestData.Snapshot(again));
        Assert.Empty(Directory.GetFiles(_dir, "temp-*"));
    }
}
