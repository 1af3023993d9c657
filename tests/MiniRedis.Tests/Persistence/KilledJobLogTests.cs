using System.Text.RegularExpressions;
using MiniRedis.Tests.Replication;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// What the log says when a background save or AOF rewrite is stopped before it ends: Redis kills its
/// child with SIGUSR1 and, for a save, logs "terminated by signal 10" once it reaps it (not at
/// shutdown, where it exits first); a rewrite's kill is logged with the child's pid. Real Redis 7.0.15
/// and MiniRedis run the same steps and their log lines (level and text, pids blanked) are compared.
/// </summary>
[Trait("Category", "Differential")]
public sealed partial class KilledJobLogTests
{
    // 100 keys at 100 ms each: a job runs for 10 s, long after the step that stops it.
    static readonly string[] SlowJobs = ["--rdb-key-save-delay", "100000"];

    static readonly string[] JobLines = ["Killing", "terminated"];

    [Fact]
    public void FlushallStoppingABackgroundSaveLogsItTerminatedBySignal()
    {
        static List<string> Run(ServerProcess server)
        {
            using var client = server.Connect();
            Assert.Equal("+OK\r\n", client.Text("DEBUG", "POPULATE", "100", "old", "10"));
            Assert.Equal("+Background saving started\r\n", client.Text("BGSAVE"));
            Assert.Equal("+OK\r\n", client.Text("FLUSHALL"));
            // Redis reaps the killed child in its next cron.
            Assert.True(Wait.Until(() => client.InfoField("persistence", "rdb_bgsave_in_progress") == "0"
                && server.Output.Contains("terminated by signal", StringComparison.Ordinal), TimeSpan.FromSeconds(10)), server.Output);
            var lines = Logged(server, JobLines);
            lines.Add("rdb_last_bgsave_status:" + client.InfoField("persistence", "rdb_last_bgsave_status"));
            return lines;
        }

        using var redis = new RealRedisProcess(SlowJobs);
        var expected = Run(redis);
        using var mini = new MiniRedisProcess(SlowJobs);
        Assert.Equal(["# Background saving terminated by signal 10", "rdb_last_bgsave_status:ok"], expected);
        Assert.Equal(expected, Run(mini));
    }

    [Fact]
    public void ShutdownDuringABackgroundSaveLogsOnlyTheKill()
    {
        static List<string> Run(ServerProcess server)
        {
            using (var client = server.Connect())
            {
                Assert.Equal("+OK\r\n", client.Text("DEBUG", "POPULATE", "100", "old", "10"));
                Assert.Equal("+Background saving started\r\n", client.Text("BGSAVE"));
                client.Send("SHUTDOWN NOSAVE\r\n");
            }
            Assert.NotNull(server.WaitForExit(TimeSpan.FromSeconds(30)));
            return Logged(server, [.. JobLines, "There is a child"]);
        }

        using var redis = new RealRedisProcess(SlowJobs);
        var expected = Run(redis);
        using var mini = new MiniRedisProcess(SlowJobs);
        Assert.Equal(["# There is a child saving an .rdb. Killing it!"], expected);
        Assert.Equal(expected, Run(mini));
    }

    [Fact]
    public void AppendonlyNoStoppingARewriteLogsTheKilledChild()
    {
        static List<string> Run(ServerProcess server)
        {
            using var client = server.Connect();
            Assert.Equal("+OK\r\n", client.Text("DEBUG", "POPULATE", "100", "old", "10"));
            Assert.Equal("+Background append only file rewriting started\r\n", client.Text("BGREWRITEAOF"));
            Assert.Equal("+OK\r\n", client.Text("CONFIG", "SET", "appendonly", "no"));
            // The kill is synchronous; its log line reaches the test through the server's output stream.
            Assert.True(Wait.Until(() => client.InfoField("persistence", "aof_rewrite_in_progress") == "0"
                && server.Output.Contains("Killing", StringComparison.Ordinal), TimeSpan.FromSeconds(10)), server.Output);
            var lines = Logged(server, JobLines);
            lines.Add("aof_last_bgrewrite_status:" + client.InfoField("persistence", "aof_last_bgrewrite_status"));
            return lines;
        }

        string[] aofOn = [.. SlowJobs, "--appendonly", "yes"];
        using var redis = new RealRedisProcess(aofOn);
        var expected = Run(redis);
        using var mini = new MiniRedisProcess(aofOn);
        Assert.Equal(["* Killing running AOF rewrite child: <pid>", "aof_last_bgrewrite_status:ok"], expected);
        Assert.Equal(expected, Run(mini));
    }

    [Fact]
    public void ShutdownDuringARewriteLogsTheKilledChild()
    {
        static List<string> Run(ServerProcess server)
        {
            using (var client = server.Connect())
            {
                Assert.Equal("+OK\r\n", client.Text("DEBUG", "POPULATE", "100", "old", "10"));
                Assert.Equal("+Background append only file rewriting started\r\n", client.Text("BGREWRITEAOF"));
                client.Send("SHUTDOWN NOSAVE\r\n");
            }
            Assert.NotNull(server.WaitForExit(TimeSpan.FromSeconds(30)));
            return Logged(server, [.. JobLines, "There is a child"]);
        }

        using var redis = new RealRedisProcess(SlowJobs);
        var expected = Run(redis);
        using var mini = new MiniRedisProcess(SlowJobs);
        Assert.Equal(["# There is a child rewriting the AOF. Killing it!", "* Killing running AOF rewrite child: <pid>"], expected);
        Assert.Equal(expected, Run(mini));
    }

    /// <summary>The server's log lines (a master's or a replica's, not those of Redis's children) holding one of <paramref name="fragments"/>: level mark and text, pids blanked.</summary>
    internal static List<string> Logged(ServerProcess server, string[] fragments) =>
        server.Output.Split('\n')
            .Select(line => ServerLine().Match(line.TrimEnd('\r')))
            .Where(match => match.Success && fragments.Any(f => match.Groups["text"].Value.Contains(f, StringComparison.Ordinal)))
            .Select(match => match.Groups["level"].Value + " " + Pid().Replace(match.Groups["text"].Value, "child: <pid>"))
            .ToList();

    [GeneratedRegex(@"^\d+:[MS] \d\d \w{3} \d{4} [\d:.]+ (?<level>[.\-*#]) (?<text>.*)$")]
    private static partial Regex ServerLine();

    [GeneratedRegex(@"child: \d+")]
    private static partial Regex Pid();
}
