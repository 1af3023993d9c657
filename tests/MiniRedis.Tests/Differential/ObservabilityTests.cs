using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// INFO's sections and field names, SLOWLOG, LATENCY and CONFIG RESETSTAT against real Redis 7.0.15:
/// the same commands on both servers, replies compared with only what differs by nature (ids, clock,
/// durations, client ports) masked.
/// </summary>
[Trait("Category", "Differential")]
public sealed partial class ObservabilityTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    /// <summary>
    /// Fields MiniRedis adds on purpose (the .NET runtime's heap, in the memory section); everything
    /// else must be named as Redis names it, in the same sections and order.
    /// </summary>
    static bool IsOwnField(string name) => name.StartsWith("dotnet_gc_", StringComparison.Ordinal);

    // Per-command lines come in Redis's hash order: compared as sets.
    static bool IsPerCommand(string name) => name.StartsWith("cmdstat_", StringComparison.Ordinal) || name.StartsWith("latency_percentiles_usec_", StringComparison.Ordinal);

    static string Text(RespNode reply) => reply.Text;

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex(@"\[("":#\\r\\n""(, )?)+\]")]
    private static partial Regex BucketList();

    /// <summary>A reply as nested text with every integer (ids, times, durations, ports) masked to #.</summary>
    static string Masked(RespNode node) => node.IsAggregate
        ? "[" + string.Join(", ", node.Children.Select(Masked)) + "]"
        : Digits().Replace(node.ToString(), "#");

    static (List<string> Headers, List<string> Fields, SortedSet<string> PerCommand) InfoNames(RespConnection connection)
    {
        var text = Encoding.Latin1.GetString(connection.Call("INFO", "EVERYTHING"));
        var body = text[(text.IndexOf("\r\n", StringComparison.Ordinal) + 2)..];
        var headers = new List<string>();
        var fields = new List<string>();
        var perCommand = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in body.Split("\r\n"))
        {
            if (line.StartsWith('#')) headers.Add(line);
            else if (line.Contains(':'))
            {
                string name = line[..line.IndexOf(':')];
                if (IsPerCommand(name)) perCommand.Add(name);
                else if (!IsOwnField(name)) fields.Add(name);
            }
        }
        return (headers, fields, perCommand);
    }

    static void RunOnBoth(RespConnection redis, RespConnection mini, params string[][] commands)
    {
        foreach (var command in commands)
        {
            redis.Call(command);
            mini.Call(command);
        }
    }

    [Fact]
    public void Info_everything_has_Redis_sections_and_field_names()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        RunOnBoth(redis, mini,
            ["SET", "info:k", "v"], ["GET", "info:k"], ["CONFIG", "GET", "hz"], ["NOSUCHCOMMAND"], ["GET"], ["LPUSH", "info:k", "x"], ["SELECT", "0"]);
        var expected = InfoNames(redis);
        var actual = InfoNames(mini);
        Assert.Equal(expected.Headers, actual.Headers);
        Assert.Equal(string.Join("\n", expected.Fields), string.Join("\n", actual.Fields));
        Assert.Equal(expected.PerCommand, actual.PerCommand);
    }

    [Fact]
    public void Info_errorstats_counts_codes_as_Redis()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        RunOnBoth(redis, mini,
            ["CONFIG", "RESETSTAT"],
            ["EVAL", "return redis.error_reply('MYERR some text')", "0"],
            ["EVAL", "return redis.error_reply('ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ tail')", "0"],
            ["EVAL", "return redis.error_reply('ABCDEFGHIJKLMNOPQRSTUVWXYZABCD tail')", "0"],
            ["SET", "errs:k", "v"], ["LPUSH", "errs:k", "x"], ["NOSUCHCOMMAND"]);
        string Section(RespConnection c) => Encoding.Latin1.GetString(c.Call("INFO", "errorstats"));
        Assert.Equal(Section(redis), Section(mini));
        string Totals(RespConnection c) => string.Join("\n", Encoding.Latin1.GetString(c.Call("INFO", "stats")).Split("\r\n").Where(l => l.Contains("error_replies", StringComparison.Ordinal)));
        Assert.Equal(Totals(redis), Totals(mini));
    }

    [Fact]
    public void Config_resetstat_resets_what_Redis_resets_and_keeps_the_memory_peak()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        RunOnBoth(redis, mini,
            ["SET", "reset:big", new string('x', 8 << 20)], ["DEL", "reset:big"], ["GET", "reset:k"], ["NOSUCHCOMMAND"]);
        // INFO memory raises the peak to the memory used now on both servers, so no cron needs to pass first.
        long Peak(RespConnection c) => long.Parse(Field(c, "memory", "used_memory_peak"), CultureInfo.InvariantCulture);
        long miniPeak = Peak(mini);
        long redisPeak = Peak(redis);
        RunOnBoth(redis, mini, ["CONFIG", "RESETSTAT"]);
        long redisPeakAfter = Peak(redis);
        long miniPeakAfter = Peak(mini);
        Assert.True(redisPeakAfter >= redisPeak);
        Assert.True(miniPeakAfter >= miniPeak, $"used_memory_peak went from {miniPeak} to {miniPeakAfter}");

        foreach (var field in new[] { "total_commands_processed", "total_error_replies", "keyspace_misses", "total_connections_received", "expired_keys" })
        {
            Assert.Equal(Field(redis, "stats", field), Field(mini, "stats", field));
        }
        string Lines(RespConnection c, string section) => Digits().Replace(Encoding.Latin1.GetString(c.Call("INFO", section)), "#");
        Assert.Equal(Lines(redis, "errorstats"), Lines(mini, "errorstats"));
        Assert.Equal(CommandNames(redis, "commandstats"), CommandNames(mini, "commandstats"));
        Assert.Equal(CommandNames(redis, "latencystats"), CommandNames(mini, "latencystats"));
    }

    static string CommandNames(RespConnection c, string section) => string.Join(",",
        Encoding.Latin1.GetString(c.Call("INFO", section)).Split("\r\n").Where(l => l.Contains(':')).Select(l => l[..l.IndexOf(':')]).Order(StringComparer.Ordinal));

    static string Field(RespConnection connection, string section, string field) =>
        connection.InfoField(section, field) ?? throw new InvalidOperationException($"INFO {section} has no {field}");

    [Fact]
    public void Slowlog_entries_limits_and_errors_match_Redis()
    {
        var bigArgs = new List<string> { "MSET" };
        for (int i = 0; i < 20; i++) bigArgs.AddRange([$"slow:{i}", "v"]);
        string[][] script =
        [
            ["CONFIG", "SET", "slowlog-log-slower-than", "0"],
            ["CONFIG", "SET", "slowlog-max-len", "5"],
            ["SLOWLOG", "RESET"],
            ["CLIENT", "SETNAME", "slowpoke"],
            bigArgs.ToArray(),
            ["SET", "slow:long", new string('a', 200)],
            ["AUTH", "secret"],
            ["SLOWLOG", "LEN"],
            ["SLOWLOG", "GET", "2"],
            ["SLOWLOG", "GET", "-1"],
            ["SLOWLOG", "GET"],
            ["SLOWLOG", "GET", "-2"],
            ["SLOWLOG", "GET", "abc"],
            ["SLOWLOG", "GET", "1", "2"],
            ["SLOWLOG", "LEN", "x"],
            ["SLOWLOG", "NOSUCH"],
            ["SLOWLOG", "HELP"],
            ["CONFIG", "SET", "slowlog-log-slower-than", "-1"],
            ["SLOWLOG", "RESET"],
            ["GET", "slow:0"],
            ["SLOWLOG", "LEN"],
            ["CONFIG", "SET", "slowlog-log-slower-than", "-2"],
            ["CONFIG", "SET", "slowlog-log-slower-than", "10000"],
            ["CONFIG", "SET", "slowlog-max-len", "128"],
            ["CLIENT", "SETNAME", ""],
        ];
        Assert.Equal(Transcript(servers.Redis, script), Transcript(servers.Mini, script));
    }

    static string Transcript(ServerProcess server, string[][] script)
    {
        using var connection = server.Connect();
        var seen = new StringBuilder();
        foreach (var command in script)
        {
            connection.Send(RespConnection.EncodeCommand(command.Select(Encoding.Latin1.GetBytes).ToArray()));
            seen.Append(string.Join(' ', command.Select(a => a.Length > 20 ? a[..20] + "..." : a))).Append(" -> ").Append(Masked(connection.ReadReply())).Append('\n');
        }
        return seen.ToString();
    }

    /// <summary>A command slow enough for a 1 ms threshold on both servers.</summary>
    static readonly string[] SlowCommand = ["EVAL", "local i = 0 while i < 3000000 do i = i + 1 end return i", "0"];

    [Fact]
    public void Latency_monitor_replies_match_Redis()
    {
        string[][] script =
        [
            ["LATENCY", "RESET"],
            ["CONFIG", "SET", "latency-monitor-threshold", "1"],
            SlowCommand,
            ["LATENCY", "LATEST"],
            ["LATENCY", "HISTORY", "command"],
            ["LATENCY", "HISTORY", "nosuch"],
            ["LATENCY", "GRAPH", "nosuch"],
            ["LATENCY", "RESET", "nosuch", "COMMAND"],
            ["LATENCY", "LATEST"],
            ["LATENCY", "RESET"],
            ["LATENCY", "HELP"],
            ["LATENCY", "NOSUCH"],
            ["LATENCY", "LATEST", "x"],
            ["LATENCY", "HISTORY"],
            ["CONFIG", "SET", "latency-monitor-threshold", "0"],
            ["LATENCY", "DOCTOR"],
            ["LATENCY", "HISTOGRAM", "nosuchcommand"],
            ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 abc"],
            ["CONFIG", "SET", "latency-tracking-info-percentiles", "100.5"],
            ["CONFIG", "GET", "latency-tracking-info-percentiles"],
        ];
        // The second run is compared: in the first, a command's first call on MiniRedis (its JIT
        // compilation) may itself pass the 1 ms threshold.
        Transcript(servers.Mini, script);
        Transcript(servers.Redis, script);
        Assert.Equal(Transcript(servers.Redis, script), Transcript(servers.Mini, script));
    }

    [Fact]
    public void Latency_graph_has_Redis_layout()
    {
        string Graph(ServerProcess server)
        {
            using var c = server.Connect();
            c.Call("LATENCY", "RESET");
            c.Call("CONFIG", "SET", "latency-monitor-threshold", "1");
            c.Call(SlowCommand);
            string graph = Encoding.Latin1.GetString(c.Call("LATENCY", "GRAPH", "command"));
            c.Call("CONFIG", "SET", "latency-monitor-threshold", "0");
            c.Call("LATENCY", "RESET");
            return Digits().Replace(graph, "#");
        }
        Assert.Equal(Graph(servers.Redis), Graph(servers.Mini));
    }

    [Fact]
    public void Latency_histogram_and_latencystats_have_Redis_shape()
    {
        string Shape(ServerProcess server)
        {
            using var c = server.Connect();
            c.Call("CONFIG", "RESETSTAT");
            for (int i = 0; i < 5; i++) c.Call("SET", "hist:k", "v");
            c.Call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.99 0");
            var histogram = Masked(c.ReadReplyOf("LATENCY", "HISTOGRAM", "set", "config|set", "nosuch", "config|nosuch", "a|b|c"));
            // Commands come in Redis's hash order: sorted.
            var stats = string.Join("\n", Digits().Replace(Encoding.Latin1.GetString(c.Call("INFO", "latencystats")), "#").Split("\r\n").Order(StringComparer.Ordinal));
            c.Call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9");
            c.Call("CONFIG", "SET", "latency-tracking", "no");
            var disabled = Encoding.Latin1.GetString(c.Call("INFO", "latencystats"));
            c.Call("CONFIG", "SET", "latency-tracking", "yes");
            // Bucket counts vary with timing: the shape is its calls and one entry per bucket.
            return BucketList().Replace(histogram, "[buckets]") + "\n" + stats + "\n" + disabled;
        }
        Assert.Equal(Shape(servers.Redis), Shape(servers.Mini));
    }

    static string FieldNames(string clientLine) => string.Join(" ", clientLine.Trim().Split(' ').Select(f => f[..f.IndexOf('=')]));

    [Fact]
    public void Client_list_and_info_have_Redis_fields()
    {
        string Names(ServerProcess server)
        {
            using var c = server.Connect();
            using var other = server.Connect();
            long otherId = ClientId(other);
            other.Call("MULTI");
            other.Call("SET", "cl:k", "v");
            string info = Encoding.Latin1.GetString(c.Call("CLIENT", "INFO"));
            info = info[(info.IndexOf("\r\n", StringComparison.Ordinal) + 2)..];
            string list = Encoding.Latin1.GetString(c.Call("CLIENT", "LIST", "ID", otherId.ToString(CultureInfo.InvariantCulture)));
            list = list[(list.IndexOf("\r\n", StringComparison.Ordinal) + 2)..];
            // The other client's transaction holds one command: multi=1, its bytes in multi-mem.
            string multi = string.Join(" ", list.Split(' ').Where(f => f.StartsWith("multi=", StringComparison.Ordinal) || f.StartsWith("flags=", StringComparison.Ordinal)));
            string argv = info.Split(' ').Single(f => f.StartsWith("argv-mem=", StringComparison.Ordinal));
            return FieldNames(info) + "\n" + FieldNames(list) + "\n" + multi + "\n" + argv;
        }
        Assert.Equal(Names(servers.Redis), Names(servers.Mini));
    }

    static long ClientId(RespConnection connection) => long.Parse(Encoding.Latin1.GetString(connection.Call("CLIENT", "ID")).AsSpan(1).TrimEnd("\r\n"), CultureInfo.InvariantCulture);

    static string ClientAddress(RespConnection connection)
    {
        string info = Encoding.Latin1.GetString(connection.Call("CLIENT", "INFO"));
        return info.Split(' ').Single(f => f.StartsWith("addr=", StringComparison.Ordinal))[5..];
    }

    [Fact]
    public void Client_kill_filters_and_errors_match_Redis()
    {
        string Run(ServerProcess server)
        {
            using var c = server.Connect();
            var seen = new StringBuilder();
            // Ids and ports differ between the servers: masked in the command too.
            void Say(params string[] args) => seen.Append(Digits().Replace(string.Join(' ', args), "#")).Append(" -> ").Append(Masked(c.ReadReplyOf(args))).Append('\n');
            Say("CLIENT", "KILL", "1.2.3.4:5");
            Say("CLIENT", "KILL", "ID");
            Say("CLIENT", "KILL", "ID", "0");
            Say("CLIENT", "KILL", "ID", "abc");
            Say("CLIENT", "KILL", "USER", "nosuch");
            Say("CLIENT", "KILL", "MAXAGE", "100");
            Say("CLIENT", "KILL", "TYPE", "foo");
            Say("CLIENT", "KILL", "SKIPME", "maybe");
            Say("CLIENT", "KILL", "ADDR", "1.2.3.4:5");
            Say("CLIENT", "KILL", "LADDR", "1.2.3.4:5", "SKIPME", "no");
            Say("CLIENT", "KILL", "ID", "1", "ADDR");
            Say("CLIENT", "KILL", "TYPE", "master");
            using (var victim = server.Connect())
            {
                Say("CLIENT", "KILL", "ID", ClientId(victim).ToString(CultureInfo.InvariantCulture), "TYPE", "normal", "USER", "default");
                seen.Append("victim: ").Append(Masked(new RespNode((byte)'+', victim.ReadUntilClosed(), []))).Append('\n');
            }
            using (var victim = server.Connect())
            {
                Say("CLIENT", "KILL", ClientAddress(victim));
                seen.Append("victim: ").Append(Masked(new RespNode((byte)'+', victim.ReadUntilClosed(), []))).Append('\n');
            }
            Say("CLIENT", "KILL", "ID", ClientId(c).ToString(CultureInfo.InvariantCulture));
            Say("CLIENT", "KILL", "ADDR", ClientAddress(c), "SKIPME", "yes");
            return seen.ToString();
        }
        Assert.Equal(Run(servers.Redis), Run(servers.Mini));
    }
}

static class RespConnectionCalls
{
    /// <summary>Sends one command and returns its parsed reply.</summary>
    public static RespNode ReadReplyOf(this RespConnection connection, params string[] args)
    {
        connection.Send(RespConnection.EncodeCommand(args.Select(Encoding.Latin1.GetBytes).ToArray()));
        return connection.ReadReply();
    }
}
