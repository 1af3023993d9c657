using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// What the server loads at start: with appendonly yes and an AOF, the AOF only; with appendonly
/// yes and no AOF, the dump (and the new AOF starts with it); with appendonly no, the dump. A dump
/// that is truncated or corrupt anywhere refuses to start; expired keys are skipped and counted;
/// leftovers of interrupted saves are removed.
/// </summary>
[Trait("Category", "Process")]
public sealed class RdbLoadOrderTests : IDisposable
{
    readonly string _dir = AofTestData.NewDirectory("rdb-load-order-");

    public void Dispose() => Directory.Delete(_dir, true);

    string DumpPath => Path.Combine(_dir, "dump.rdb");

    static string Text(byte[] reply) => RdbTestSupport.Text(reply);

    /// <summary>A dump with from=rdb and only-rdb=1, and (appendonly yes) an AOF with from=aof, in the test's directory.</summary>
    void WriteDumpAndAof()
    {
        using (var server = RdbServerProcess.MiniRedis(_dir))
        {
            using var connection = server.Connect();
            connection.Call("SET", "from", "rdb");
            connection.Call("SET", "only-rdb", "1");
            Assert.Equal("+OK\r\n", Text(connection.Call("SAVE")));
        }
        var dump = File.ReadAllBytes(DumpPath);
        File.Delete(DumpPath);
        using (var server = RdbServerProcess.MiniRedis(_dir, "--appendonly", "yes"))
        {
            using var connection = server.Connect();
            connection.Call("SET", "from", "aof");
        }
        File.WriteAllBytes(DumpPath, dump);
    }

    [Theory]
    [InlineData("yes", "$3\r\naof\r\n", "$-1\r\n")]
    [InlineData("no", "$3\r\nrdb\r\n", "$1\r\n1\r\n")]
    public void With_an_aof_and_a_dump_appendonly_yes_loads_the_aof_only_and_no_the_dump(string appendOnly, string from, string onlyRdb)
    {
        WriteDumpAndAof();
        using var server = RdbServerProcess.MiniRedis(_dir, "--appendonly", appendOnly);
        using var connection = server.Connect();
        Assert.Equal(from, Text(connection.Call("GET", "from")));
        Assert.Equal(onlyRdb, Text(connection.Call("GET", "only-rdb")));
    }

    [Fact]
    public void With_appendonly_and_no_aof_the_dump_is_loaded_and_the_new_aof_starts_with_it()
    {
        WriteDumpAndAof();
        File.Delete(Path.Combine(_dir, "appendonly.aof"));
        using (var server = RdbServerProcess.MiniRedis(_dir, "--appendonly", "yes"))
        {
            using var connection = server.Connect();
            Assert.Equal("$3\r\nrdb\r\n", Text(connection.Call("GET", "from")));
            connection.Call("SET", "later", "1");
        }
        // The dump is gone: the AOF alone must hold the loaded dataset and what followed.
        File.Delete(DumpPath);
        using var restarted = RdbServerProcess.MiniRedis(_dir, "--appendonly", "yes");
        using var again = restarted.Connect();
        Assert.Equal("$3\r\nrdb\r\n", Text(again.Call("GET", "from")));
        Assert.Equal("$1\r\n1\r\n", Text(again.Call("GET", "only-rdb")));
        Assert.Equal("$1\r\n1\r\n", Text(again.Call("GET", "later")));
    }

    [Fact]
    public void A_truncated_or_corrupt_dump_refuses_to_start()
    {
        using (var server = RdbServerProcess.MiniRedis(_dir))
        {
            using var connection = server.Connect();
            RdbTestSupport.SetKeys(connection, 200);
            Assert.Equal("+OK\r\n", Text(connection.Call("SAVE")));
        }
        var dump = File.ReadAllBytes(DumpPath);
        var cases = new List<(string Name, byte[] Bytes)>
        {
            ("empty", []),
            ("bad magic", [.. "RADIS"u8, .. dump.AsSpan(5)]),
        };
        foreach (int length in new[] { 5, 9, 30, dump.Length / 2, dump.Length - 9, dump.Length - 1 }) cases.Add(($"cut at {length}", dump[..length]));
        var flipped = (byte[])dump.Clone();
        flipped[dump.Length / 2] ^= 0x20;
        cases.Add(("a changed byte", flipped));
        foreach (var (name, bytes) in cases)
        {
            File.WriteAllBytes(DumpPath, bytes);
            var (exitCode, output) = RdbServerProcess.RunUntilExit(_dir);
            Assert.True(exitCode == 1, $"{name}: exit code {exitCode}\n{output}");
            Assert.Contains("Terminating server after rdb file reading failure.", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Ready to accept connections", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Keys_expired_by_load_time_are_skipped_and_counted()
    {
        using (var server = RdbServerProcess.MiniRedis(_dir))
        {
            using var connection = server.Connect();
            connection.Call("SET", "short", "v", "PX", "1200");
            connection.Call("SET", "long", "v", "EX", "3600");
            connection.Call("SET", "plain", "v");
            Assert.Equal("+OK\r\n", Text(connection.Call("SAVE")));
        }
        Thread.Sleep(1500);
        using var restarted = RdbServerProcess.MiniRedis(_dir);
        using var again = restarted.Connect();
        Assert.Equal("2", RdbTestSupport.Info(again, "rdb_last_load_keys_loaded"));
        Assert.Equal("1", RdbTestSupport.Info(again, "rdb_last_load_keys_expired"));
        Assert.Equal("$-1\r\n", Text(again.Call("GET", "short")));
        Assert.Equal(":2\r\n", Text(again.Call("DBSIZE")));
        RewriteBackgroundTests.AssertLogged(restarted, "Done loading RDB, keys loaded: 2, keys expired: 1.");
    }

    [Fact]
    public void Temporary_files_of_interrupted_saves_are_removed_at_start()
    {
        File.WriteAllText(Path.Combine(_dir, "temp-12345.rdb"), "partial");
        File.WriteAllText(Path.Combine(_dir, "temp-bgsave-678.rdb"), "partial");
        File.WriteAllText(Path.Combine(_dir, "keep.rdb"), "not ours");
        using var server = RdbServerProcess.MiniRedis(_dir);
        Assert.Empty(Directory.GetFiles(_dir, "temp-*"));
        Assert.True(File.Exists(Path.Combine(_dir, "keep.rdb")));
        RewriteBackgroundTests.AssertLogged(server, "Removing the temporary file temp-12345.rdb of an interrupted RDB save");
    }
}
