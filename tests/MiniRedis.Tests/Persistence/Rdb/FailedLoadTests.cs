using System.Diagnostics;
using System.Text;
using MiniRedis.Config;
using MiniRedis.Persistence.Dataset;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// No writer touches dump.rdb or the AOF unless the dataset in memory is the complete, loaded one:
/// a start over a dump or AOF that does not load, a stop or SHUTDOWN while the dump still loads,
/// and every writer after a DEBUG RELOAD that failed leave the files byte for byte as they were
/// (Redis exits on a failed load without writing anything, and never saves while loading).
/// </summary>
[Trait("Category", "Differential")]
public sealed class FailedLoadTests : IClassFixture<FailedLoadTests.RedisDumps>, IDisposable
{
    readonly RedisDumps _dumps;
    readonly string _dir = AofTestData.NewDirectory("failed-load-");

    public FailedLoadTests(RedisDumps dumps) => _dumps = dumps;

    public void Dispose() => Directory.Delete(_dir, true);

    string DumpPath => Path.Combine(_dir, "dump.rdb");
    string AofPath => Path.Combine(_dir, "appendonly.aof");

    /// <summary>
    /// Dumps real Redis 7.0 writes: one whose stream node listpack was then damaged (its live count says 2 for
    /// one entry; the checksum zeroed, i.e. not computed), which we refuse to load, and one with many keys.
    /// </summary>
    public sealed class RedisDumps
    {
        public const int LargeKeys = 20_000;

        public RedisDumps()
        {
            using var redis = new RealRedisProcess();
            using var connection = redis.Connect();
            var dir = Encoding.Latin1.GetString(connection.Call("CONFIG", "GET", "dir")).Split("\r\n")[4];
            string dump = Path.Combine(dir, "dump.rdb");
            connection.Call("SET", "plain", "value");
            connection.Call("XADD", "events", "1-0", "field", "value");
            connection.Call("CONFIG", "SET", "rdbcompression", "no");
            Assert.Equal("+OK\r\n", RdbTestSupport.Text(connection.Call("SAVE")));
            Unloadable = DamageStreamNode(File.ReadAllBytes(dump));
            connection.Call("CONFIG", "SET", "rdbcompression", "yes");
            connection.Call("FLUSHALL");
            Assert.Equal("+OK\r\n", RdbTestSupport.Text(connection.Call("DEBUG", "POPULATE", LargeKeys.ToString())));
            Assert.Equal("+OK\r\n", RdbTestSupport.Text(connection.Call("SAVE")));
            Large = File.ReadAllBytes(dump);
        }

        public byte[] Unloadable { get; }

        /// <summary>Type 19, "events", one node, its 16-byte master ID, the listpack's length, then the listpack: its first element is the live count.</summary>
        static byte[] DamageStreamNode(byte[] image)
        {
            byte[] header = [19, 6, .. "events"u8];
            int record = image.AsSpan().IndexOf(header);
            Assert.True(record > 0);
            int listpack = record + 8 + 1 + 17 + 1;
            Assert.Equal(1, image[listpack + 6]);
            image[listpack + 6] = 2;
            image.AsSpan(image.Length - 8).Clear();
            return image;
        }
        public byte[] Large { get; }
    }

    [Fact]
    public void A_dump_that_does_not_load_refuses_the_start_and_nothing_is_written()
    {
        File.WriteAllBytes(DumpPath, _dumps.Unloadable);
        // Save points (the final save), and appendonly yes without an AOF (the AOF made from the dump).
        var (exitCode, output) = RdbServerProcess.RunUntilExit(_dir, "--save", "1 1", "--appendonly", "yes");
        Assert.Equal(1, exitCode);
        Assert.Contains("Terminating server after rdb file reading failure.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("DB saved on disk", output, StringComparison.Ordinal);
        Assert.Equal(_dumps.Unloadable, File.ReadAllBytes(DumpPath));
        Assert.False(File.Exists(AofPath), output);
        Assert.Equal(["dump.rdb"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void A_truncated_dump_refuses_the_start_and_stays_as_it_was()
    {
        var truncated = _dumps.Large[..(_dumps.Large.Length / 2)];
        File.WriteAllBytes(DumpPath, truncated);
        var (exitCode, output) = RdbServerProcess.RunUntilExit(_dir, "--save", "1 1");
        Assert.Equal(1, exitCode);
        Assert.DoesNotContain("DB saved on disk", output, StringComparison.Ordinal);
        Assert.Equal(truncated, File.ReadAllBytes(DumpPath));
    }

    [Fact]
    public void A_damaged_aof_refuses_the_start_and_the_good_dump_beside_it_is_kept()
    {
        File.WriteAllBytes(DumpPath, _dumps.Large);
        var aof = Encoding.ASCII.GetBytes("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\nnot a command\r\n");
        File.WriteAllBytes(AofPath, aof);
        var (exitCode, output) = RdbServerProcess.RunUntilExit(_dir, "--save", "1 1", "--appendonly", "yes");
        Assert.Equal(1, exitCode);
        Assert.Contains("Bad file format reading the append only file", output, StringComparison.Ordinal);
        Assert.DoesNotContain("DB saved on disk", output, StringComparison.Ordinal);
        Assert.Equal(_dumps.Large, File.ReadAllBytes(DumpPath));
        Assert.Equal(aof, File.ReadAllBytes(AofPath));
    }

    [Fact]
    public void Sigterm_while_the_dump_loads_saves_nothing()
    {
        File.WriteAllBytes(DumpPath, _dumps.Large);
        using var server = new LoadingServer(_dir);
        using (var kill = Process.Start("kill", ["-TERM", server.ProcessId.ToString()])) kill.WaitForExit();
        Assert.NotNull(server.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.DoesNotContain("DB saved on disk", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("DB loaded from disk", server.Output, StringComparison.Ordinal);
        Assert.Equal(_dumps.Large, File.ReadAllBytes(DumpPath));
    }

    [Fact]
    public void Shutdown_save_while_the_dump_loads_shuts_down_without_saving()
    {
        File.WriteAllBytes(DumpPath, _dumps.Large);
        using var server = new LoadingServer(_dir);
        using (var connection = server.Connect()) Assert.Equal("", RdbTestSupport.CallUntilClosed(connection, "SHUTDOWN", "SAVE"));
        Assert.Equal(0, server.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.DoesNotContain("DB saved on disk", server.Output, StringComparison.Ordinal);
        Assert.Equal(_dumps.Large, File.ReadAllBytes(DumpPath));
    }

    /// <summary>
    /// DEBUG RELOAD NOSAVE over a dump that does not load leaves part of it in memory (Redis would
    /// exit): SAVE, BGSAVE, BGREWRITEAOF, FLUSHALL's save, DEBUG RELOAD's save, CONFIG SET appendonly,
    /// the save rules and SHUTDOWN SAVE all leave the files alone, until a reload succeeds.
    /// </summary>
    [Fact]
    public void After_a_failed_reload_no_writer_replaces_the_dump_until_a_reload_succeeds()
    {
        File.WriteAllBytes(DumpPath, _dumps.Unloadable);
        var server = InProcessClient.StartServer(ServerConfig.Parse($"dir {_dir}\nsave \"1 1\"\nenable-debug-command yes"));
        try
        {
            var client = new InProcessClient(server);
            Assert.Equal("-ERR Error trying to load the RDB dump\r\n", client.Run("DEBUG RELOAD NOSAVE"));
            string refused = "-" + DatasetGate.RefusedError + "\r\n";
            Assert.Equal("+OK\r\n", client.Run("SET changed 1"));
            Assert.Equal("-ERR\r\n", client.Run("SAVE"));
            Assert.Equal(refused, client.Run("BGSAVE"));
            Assert.Equal(refused, client.Run("BGREWRITEAOF"));
            Assert.Equal("-ERR\r\n", client.Run("DEBUG RELOAD"));
            Assert.StartsWith("-ERR CONFIG SET failed", client.Run("CONFIG SET appendonly yes"), StringComparison.Ordinal);
            Assert.Equal("+OK\r\n", client.Run("FLUSHALL"));
            Assert.Equal("+OK\r\n", client.Run("SET changed 2"));
            // The rule "1 1" is met once a second passed: the cron must not start a save either.
            Thread.Sleep(2500);
            Assert.Equal("0", RdbInfo(client, "rdb_bgsave_in_progress"));
            Assert.Equal("", client.Run("SHUTDOWN SAVE"));
            Assert.Equal(_dumps.Unloadable, File.ReadAllBytes(DumpPath));
            Assert.Equal(["dump.rdb"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));

            // A dump that loads makes the dataset complete again: the save rule, held back so far,
            // saves it (on a new client: SHUTDOWN ends the one it came from).
            File.WriteAllBytes(DumpPath, _dumps.Large);
            var next = new InProcessClient(server);
            Assert.Equal("+OK\r\n", next.Run("DEBUG RELOAD NOSAVE"));
            Assert.Equal($":{RedisDumps.LargeKeys}\r\n", next.Run("DBSIZE"));
            RdbTestSupport.WaitUntil(() => !File.ReadAllBytes(DumpPath).AsSpan().SequenceEqual(_dumps.Large), "the save rule to save the reloaded dataset");
        }
        finally
        {
            server.Stop();
        }
    }

    static string RdbInfo(InProcessClient client, string field) =>
        client.Run("INFO persistence").Split("\r\n").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..];

    /// <summary>
    /// MiniRedis with save points over a dump it loads slowly (key-load-delay: 1 ms a key), ready
    /// for the test once clients get -LOADING.
    /// </summary>
    sealed class LoadingServer : ServerProcess
    {
        public LoadingServer(string dir) =>
            Start("dotnet", port => [RepoPaths.ServerDll, "--port", port.ToString(), "--save", "1 1", "--key-load-delay", "1000", "--dir", dir]);

        protected override bool Answers(byte[] pingReply) => pingReply.AsSpan().StartsWith("-LOADING"u8);
    }
}
