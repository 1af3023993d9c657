using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// BGREWRITEAOF without fork, end to end on a server process: rewrites back to back under a
/// concurrent workload lose and double nothing (restart and real Redis 7.0 load the same dataset),
/// and kill -9 at any moment of a rewrite leaves a loadable AOF with every acknowledged write.
/// </summary>
[Trait("Category", "Differential")]
public sealed class RewriteBackgroundTests
{
    static string Info(RespConnection connection, string field) => RdbTestSupport.Info(connection, field);

    /// <summary>Mixed keys in a few databases, pipelined; enough that a rewrite walks in many slices.</summary>
    static void Preload(RespConnection connection, int count)
    {
        var request = new MemoryStream();
        int pending = 0;
        for (int i = 0; i < count; i++)
        {
            string[] command = (i % 5) switch
            {
                0 => ["SET", $"pre:s:{i}", $"value-{i}"],
                1 => ["RPUSH", $"pre:l:{i % 500}", $"{i}"],
                2 => ["HSET", $"pre:h:{i % 400}", $"f{i}", $"{i}"],
                3 => ["SADD", $"pre:t:{i % 300}", $"{i}"],
                _ => ["ZADD", $"pre:z:{i % 200}", $"{i * 0.5}", $"m{i}"],
            };
            request.Write(RespConnection.EncodeCommand([.. command.Select(Encoding.ASCII.GetBytes)]));
            if (++pending == 500)
            {
                Flush();
            }
        }
        Flush();

        void Flush()
        {
            connection.Send(request.ToArray());
            for (; pending > 0; pending--) connection.ReadReply();
            request.SetLength(0);
        }
    }

    /// <summary>Writes of every kind on a small set of shared keys, from one client, until told to stop.</summary>
    static void Workload(int port, int seed, CancellationToken stop)
    {
        using var connection = RespConnection.Open(port);
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            int k = random.Next(40);
            string[] command = random.Next(9) switch
            {
                0 => ["INCR", $"w:n:{k}"],
                1 => ["APPEND", $"w:s:{k}", $"{seed}."],
                2 => ["LPUSH", $"w:l:{k}", $"{seed}:{random.Next(1000)}"],
                3 => ["HSET", $"w:h:{k}", $"f{random.Next(20)}", $"{seed}"],
                4 => ["SADD", $"w:t:{k}", $"{random.Next(100)}"],
                5 => ["ZADD", $"w:z:{k}", $"{random.Next(100)}", $"m{random.Next(30)}"],
                6 => ["EXPIRE", $"w:{"nslhtz"[random.Next(6)]}:{k}", $"{1000 + random.Next(1000)}"],
                7 => ["DEL", $"w:{"nslhtz"[random.Next(6)]}:{k}"],
                _ => ["SELECT", $"{random.Next(3)}"],
            };
            connection.Call(command);
        }
    }

    /// <summary>Log lines reach the test's output a moment after the server wrote them.</summary>
    internal static void AssertLogged(ServerProcess server, string text)
    {
        var clock = Stopwatch.StartNew();
        while (!server.Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"not logged: {text}\n{server.Output}");
            Thread.Sleep(20);
        }
    }

    internal static void RewriteAndWait(RespConnection connection)
    {
        long before = long.Parse(Info(connection, "aof_rewrites"));
        Assert.Equal("+Background append only file rewriting started\r\n", Encoding.Latin1.GetString(connection.Call("BGREWRITEAOF")));
        Assert.StartsWith("-ERR Background append only file rewriting already in progress", Encoding.Latin1.GetString(connection.Call("BGREWRITEAOF")));
        var clock = Stopwatch.StartNew();
        while (long.Parse(Info(connection, "aof_rewrites")) == before)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the rewrite did not finish");
            Assert.Equal("ok", Info(connection, "aof_last_bgrewrite_status"));
            Thread.Sleep(20);
        }
        Assert.Equal("0", Info(connection, "aof_rewrite_in_progress"));
        Assert.Equal("ok", Info(connection, "aof_last_bgrewrite_status"));
    }

    /// <summary>With aof-use-rdb-preamble yes the new base is an RDB image followed by the rewrite buffer as commands; no keeps the command program.</summary>
    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public void Rewrites_back_to_back_under_concurrent_writes_lose_and_double_nothing(string preamble)
    {
        string dir = AofTestData.NewDirectory("rewrite-concurrent-");
        try
        {
            SortedDictionary<string, string> live;
            // No save points: past a minute (a loaded machine) the default ones start a BGSAVE, and
            // BGREWRITEAOF then answers "scheduled".
            using (var server = AofServerProcess.MiniRedis(dir, "--aof-use-rdb-preamble", preamble, "--save", ""))
            {
                using var connection = server.Connect();
                Preload(connection, 60_000);
                using var stop = new CancellationTokenSource();
                var writers = Enumerable.Range(1, 4).Select(seed => Task.Run(() => Workload(server.Port, seed, stop.Token))).ToArray();
                for (int i = 0; i < 4; i++) RewriteAndWait(connection);
                stop.Cancel();
                Task.WaitAll(writers);
                live = AofTestData.Snapshot(connection);
                AssertLogged(server, "Background AOF rewrite finished successfully");
                Assert.Empty(Directory.GetFiles(dir, "temp-rewriteaof-*"));
            }

            using (var restarted = AofServerProcess.MiniRedis(dir, "--aof-use-rdb-preamble", preamble))
            {
                using var connection = restarted.Connect();
                Assert.Equal(live, AofTestData.Snapshot(connection));
                // A rewrite with no writes running: the file is the bare base, which real Redis loads too.
                RewriteAndWait(connection);
            }
            Assert.Equal(preamble == "yes", File.ReadAllBytes(Path.Combine(dir, "appendonly.aof")).AsSpan().StartsWith("REDIS0010"u8));

            string redisDir = AofTestData.NewDirectory("rewrite-redis-load-");
            try
            {
                File.Copy(Path.Combine(dir, "appendonly.aof"), Path.Combine(redisDir, "appendonly.aof"));
                using var redis = AofServerProcess.Redis(redisDir);
                using var connection = redis.Connect();
                Assert.Equal(live, AofTestData.Snapshot(connection));
            }
            finally
            {
                Directory.Delete(redisDir, true);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    static long Integer(byte[] reply) => long.Parse(Encoding.ASCII.GetString(reply)[1..^2]);

    static long Counter(RespConnection connection)
    {
        string reply = Encoding.ASCII.GetString(connection.Call("GET", "counter"));
        return reply == "$-1\r\n" ? 0 : long.Parse(reply.Split("\r\n")[1]);
    }

    /// <summary>
    /// Per run: a client appends its sequence number to a list and increments a counter (a pipelined
    /// pair per round trip), a rewrite starts, and the server is killed at a random moment of it.
    /// After each restart the list holds every acknowledged number (at most the one pair in flight
    /// more), and at the end exactly 0..n-1: nothing lost, nothing doubled; no temporary file is left.
    /// </summary>
    [Fact]
    public void Kill_9_at_random_moments_of_a_rewrite_keeps_every_acknowledged_write()
    {
        string dir = AofTestData.NewDirectory("rewrite-kill-");
        var random = new Random(7);
        try
        {
            using (var server = AofServerProcess.MiniRedis(dir))
            {
                using var connection = server.Connect();
                Preload(connection, 100_000);
            }
            long acknowledged = 0;
            for (int run = 0; run <= 20; run++)
            {
                var server = AofServerProcess.MiniRedis(dir);
                long next;
                using (var connection = server.Connect())
                {
                    Assert.Empty(Directory.GetFiles(dir, "temp-rewriteaof-*"));
                    next = Integer(connection.Call("LLEN", "seq"));
                    long counter = Counter(connection);
                    Assert.InRange(next, acknowledged, acknowledged + 1);
                    Assert.InRange(counter, Math.Max(acknowledged, next - 1), next);
                    // The pair cut in half by the kill is completed, so list and counter agree again.
                    if (counter != next) connection.Call("SET", "counter", next.ToString());
                    if (run == 20)
                    {
                        var items = connection.Call("LRANGE", "seq", "0", "-1");
                        var expected = RespConnection.EncodeCommand([.. Enumerable.Range(0, (int)next).Select(i => Encoding.ASCII.GetBytes(i.ToString()))]);
                        Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(items));
                        server.Dispose();
                        break;
                    }
                }
                acknowledged = WriteWhileRewritingUntilKilled(server, next, TimeSpan.FromMilliseconds(random.Next(20, 400)));
                Assert.True(acknowledged > next, "nothing was acknowledged before the kill");
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>Writes pairs from <paramref name="next"/> until the server is killed; the count acknowledged.</summary>
    static long WriteWhileRewritingUntilKilled(AofServerProcess server, long next, TimeSpan killAfter)
    {
        using var connection = server.Connect();
        using var control = server.Connect();
        Assert.Equal("+Background append only file rewriting started\r\n", Encoding.Latin1.GetString(control.Call("BGREWRITEAOF")));
        // The kill's moment counts from the first acknowledged pair: on a loaded machine the first
        // round trip alone can outlast a short delay.
        var firstAcknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killer = Task.Run(async () =>
        {
            await firstAcknowledged.Task;
            await Task.Delay(killAfter);
            server.Dispose();
        });
        long acked = next;
        try
        {
            for (; ; next++)
            {
                var request = new MemoryStream();
                request.Write(RespConnection.EncodeCommand([.. new[] { "RPUSH", "seq", next.ToString() }.Select(Encoding.ASCII.GetBytes)]));
                request.Write(RespConnection.EncodeCommand([.. new[] { "INCR", "counter" }.Select(Encoding.ASCII.GetBytes)]));
                connection.Send(request.ToArray());
                Assert.Equal($":{next + 1}\r\n", connection.ReadReply().Text);
                Assert.Equal($":{next + 1}\r\n", connection.ReadReply().Text);
                acked = next + 1;
                firstAcknowledged.TrySetResult();
            }
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // Killed: everything acknowledged so far must survive.
        }
        finally
        {
            // The kill comes whatever ended the loop, so the server never outlives the test.
            firstAcknowledged.TrySetResult();
        }
        killer.Wait();
        return acked;
    }

    [Fact]
    public void Automatic_rewrite_starts_when_the_file_doubled_over_its_base_size_and_passed_the_minimum()
    {
        string dir = AofTestData.NewDirectory("rewrite-auto-");
        try
        {
            var server = AofServerProcess.MiniRedis(dir, "--auto-aof-rewrite-min-size", "64kb", "--auto-aof-rewrite-percentage", "100");
            using var connection = server.Connect();
            Assert.Equal("0", Info(connection, "aof_rewrites"));
            string value = new('x', 100);
            // Overwriting ten keys: the file grows, the dataset does not.
            for (int i = 0; i < 1000 && Info(connection, "aof_rewrites") == "0"; i++) connection.Call("SET", $"k{i % 10}", value + i);
            var clock = Stopwatch.StartNew();
            while (Info(connection, "aof_rewrites") == "0")
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "no automatic rewrite");
                Thread.Sleep(20);
            }
            AssertLogged(server, "Starting automatic rewriting of AOF on");
            Assert.True(long.Parse(Info(connection, "aof_base_size")) < 64 * 1024);
            var live = AofTestData.Snapshot(connection);
            server.Dispose();
            using var restarted = AofServerProcess.MiniRedis(dir);
            using var again = restarted.Connect();
            Assert.Equal(live, AofTestData.Snapshot(again));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Appendonly_no_cancels_a_running_rewrite_and_removes_its_files()
    {
        string dir = AofTestData.NewDirectory("rewrite-cancel-");
        try
        {
            using var server = AofServerProcess.MiniRedis(dir);
            using var connection = server.Connect();
            Preload(connection, 100_000);
            string before = File.ReadAllText(Path.Combine(dir, "appendonly.aof"));
            Assert.Equal("+Background append only file rewriting started\r\n", Encoding.Latin1.GetString(connection.Call("BGREWRITEAOF")));
            Assert.Equal("1", Info(connection, "aof_rewrite_in_progress"));
            Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(connection.Call("CONFIG", "SET", "appendonly", "no")));
            Assert.Equal("0", Info(connection, "aof_rewrite_in_progress"));
            Assert.Equal("0", Info(connection, "aof_rewrites"));
            Assert.Empty(Directory.GetFiles(dir, "temp-rewriteaof-*"));
            Assert.Equal(before, File.ReadAllText(Path.Combine(dir, "appendonly.aof")));
            AssertLogged(server, "Killing running AOF rewrite child");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_rewrite_with_the_aof_off_holds_its_instant_alone_and_appendonly_yes_cancels_it()
    {
        string dir = AofTestData.NewDirectory("rewrite-aof-off-");
        try
        {
            using var server = AofServerProcess.MiniRedis(dir, "--appendonly", "no", "--aof-use-rdb-preamble", "no", "--rdb-key-save-delay", "200");
            using var connection = server.Connect();
            Preload(connection, 20_000);
            string file = Path.Combine(dir, "appendonly.aof");

            // As Redis 7 with no INCR file: the rewritten file is the instant's dataset, later writes are not in it.
            Assert.Equal("+Background append only file rewriting started\r\n", Encoding.Latin1.GetString(connection.Call("BGREWRITEAOF")));
            connection.Call("SET", "after:instant", "1");
            Assert.Equal("1", Info(connection, "aof_rewrite_in_progress"));
            var clock = Stopwatch.StartNew();
            while (Info(connection, "aof_rewrite_in_progress") != "0")
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the rewrite did not end");
                Thread.Sleep(20);
            }
            Assert.Equal("ok", Info(connection, "aof_last_bgrewrite_status"));
            string rewritten = File.ReadAllText(file);
            Assert.Contains("pre:s:0\r\n", rewritten);
            Assert.DoesNotContain("after:instant", rewritten);

            // Turning the AOF on during such a rewrite stops it: renamed over the new AOF it would drop the writes since its instant.
            Assert.Equal("+Background append only file rewriting started\r\n", Encoding.Latin1.GetString(connection.Call("BGREWRITEAOF")));
            connection.Call("SET", "during:rewrite", "1");
            Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(connection.Call("CONFIG", "SET", "appendonly", "yes")));
            Assert.Equal("0", Info(connection, "aof_rewrite_in_progress"));
            AssertLogged(server, "Killing running AOF rewrite child");
            connection.Call("SET", "after:enable", "1");
            string aof = File.ReadAllText(file);
            Assert.Contains("during:rewrite", aof);
            Assert.Contains("after:enable", aof);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
