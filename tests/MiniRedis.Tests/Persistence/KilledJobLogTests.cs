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
            using var client = StartJob(server, "BGSAVE", "+Background saving started\r\n");
            Assert.Equal("+OK\r\n", client.Text("FLUSHALL"));
            // Redis reaps the killed child in its next cron.
            Assert.True(Wait.Until(() => client.InfoField("persistence", "rdb_bgsave_in_progress") == "0"
                && server.Output.Contains("terminated by signal", StringComparison.Ordinal), TimeSpan.FromSeconds(10)), server.Output);
            var lines = Logged(server, JobLines);
            lines.Add("rdb_last_bgsave_status:" + client.InfoField("persistence", "rdb_last_bgsave_status"));
            return lines;
        }

        SameAsRedis(SlowJobs, Run, ["# Background saving terminated by signal 10", "rdb_last_bgsave_status:ok"]);
    }

    [Fact]
    public void ShutdownDuringABackgroundSaveLogsOnlyTheKill()
    {
        SameAsRedis(SlowJobs, server => ShutdownDuring(server, "BGSAVE", "+Background saving started\r\n"),
            ["# There is a child saving an .rdb. Killing it!"]);
    }

    [Fact]
    public void AppendonlyNoStoppingARewriteLogsTheKilledChild()
    {
        static List<string> Run(ServerProcess server)
        {
            using var client = StartJob(server, "BGREWRITEAOF", RewriteStarted);
            Assert.Equal("+OK\r\n", client.Text("CONFIG", "SET", "appendonly", "no"));
            // The kill is synchronous; its log line reaches the test through the server's output stream.
            Assert.True(Wait.Until(() => client.InfoField("persistence", "aof_rewrite_in_progress") == "0"
                && server.Output.Contains("Killing", StringComparison.Ordinal), TimeSpan.FromSeconds(10)), server.Output);
            var lines = Logged(server, JobLines);
            lines.Add("aof_last_bgrewrite_status:" + client.InfoField("persistence", "aof_last_bgrewrite_status"));
            return lines;
        }

        SameAsRedis([.. SlowJobs, "--appendonly", "yes"], Run, ["* Killing running AOF rewrite child: <pid>", "aof_last_bgrewrite_status:ok"]);
    }

    [Fact]
    public void ShutdownDuringARewriteLogsTheKilledChild()
    {
        SameAsRedis(SlowJobs, server => ShutdownDuring(server, "BGREWRITEAOF", RewriteStarted),
            ["# There is a child rewriting the AOF. Killing it!", "* Killing running AOF rewrite child: <pid>"]);
    }

    const string RewriteStarted = "+Background append only file rewriting started\r\n";

    /// <summary>Runs the scenario on real Redis, whose lines must be <paramref name="redisSaw"/>, then on MiniRedis, whose lines must be the same.</summary>
    static void SameAsRedis(string[] directives, Func<ServerProcess, List<string>> scenario, List<string> redisSaw)
    {
        using (var redis = new RealRedisProcess(directives)) Assert.Equal(redisSaw, scenario(redis));
        using var mini = new MiniRedisProcess(directives);
        Assert.Equal(redisSaw, scenario(mini));
    }

    /// <summary>100 keys, then the slow background job <paramref name="command"/>; the client that started it.</summary>
    static RespConnection StartJob(ServerProcess server, string command, string reply)
    {
        var client = server.Connect();
        Assert.Equal("+OK\r\n", client.Text("DEBUG", "POPULATE", "100", "old", "10"));
        Assert.Equal(reply, client.Text(command));
        return client;
    }

    /// <summary>SHUTDOWN NOSAVE while the job <paramref name="command"/> runs; the lines logged once the server exited.</summary>
    static List<string> ShutdownDuring(ServerProcess server, string command, string reply)
    {
        using (var client = StartJob(server, command, reply)) client.Send("SHUTDOWN NOSAVE\r\n");
        Assert.NotNull(server.WaitForExit(TimeSpan.FromSeconds(30)));
        return Logged(server, [.. JobLines, "There is a child"]);
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
