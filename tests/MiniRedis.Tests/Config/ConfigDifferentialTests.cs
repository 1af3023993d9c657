using System.Text;
using MiniRedis.Config;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Config;

/// <summary>CONFIG GET * and CONFIG SET against redis-server 7.0.15 started the same way.</summary>
[Trait("Category", "Differential")]
public sealed class ConfigDifferentialTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    /// <summary>Parameters whose CONFIG GET differs from Redis's, each with the reason.</summary>
    internal static readonly Dictionary<string, string> KnownDifferences = new Dictionary<string, string>
    {
        ["port"] = "each server listens on its own free port",
        ["dir"] = "each server has its own temporary directory",
    };

    [Fact]
    public void GetAll_NamesAndDefaultsMatchRedis()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        Assert.Equal(Comparable(redis), Comparable(mini));
    }

    /// <summary>CONFIG GET * without the known differences, in name order.</summary>
    internal static List<KeyValuePair<string, string>> Comparable(RespConnection connection) =>
        [.. ConfigReplies.GetAll(connection).Where(p => !KnownDifferences.ContainsKey(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal)];

    [Fact]
    public void Get_HiddenParametersAnswerOnlyToTheirExactName()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        string[] patterns = ["key-load-delay", "watchdog-period", "use-exit-on-panic", "loading-process-events-interval-bytes", "*delay*", "*panic*"];
        foreach (string pattern in patterns)
        {
            Assert.Equal(ConfigReplies.GetAll(redis, pattern).OrderBy(p => p.Key, StringComparer.Ordinal),
                ConfigReplies.GetAll(mini, pattern).OrderBy(p => p.Key, StringComparer.Ordinal));
        }
    }

    /// <summary>Failing sets change nothing, so the shared servers stay at their defaults.</summary>
    [Fact]
    public void Set_ErrorsMatchRedisAndChangeNothing()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        string[][] commands =
        [
            ["CONFIG", "SET", "nosuch", "1"],
            ["CONFIG", "SET", "maxmemory"],
            ["CONFIG", "SET", "maxmemory", "1mb", "timeout"],
            ["CONFIG", "SET", "maxmemory", "1mb", "maxmemory", "2mb"],
            ["CONFIG", "SET", "maxmemory", "1mb", "MAXMEMORY", "2mb"],
            ["CONFIG", "SET", "maxmemory", "1mb", "nosuch", "1", "databases", "2"],
            ["CONFIG", "SET", "maxmemory", "1mb", "maxmemory-policy", "bogus"],
            ["CONFIG", "SET", "maxmemory", "1mb", "databases", "4"],
            ["CONFIG", "SET", "timeout", "5", "lua-time-limit", "x", "busy-reply-threshold", "7"],
            ["CONFIG", "SET", "databases", "4"],
            ["CONFIG", "SET", "cluster-enabled", "yes"],
            ["CONFIG", "SET", "replicaof", "127.0.0.1 6379"],
            ["CONFIG", "SET", "slaveof", "no one"],
            ["CONFIG", "SET", "io-threads", "4"],
            ["CONFIG", "SET", "dir", "/tmp"],
            ["CONFIG", "SET", "dbfilename", "x.rdb"],
            ["CONFIG", "SET", "activedefrag", "yes"],
            ["CONFIG", "SET", "tls-port", "6380"],
            ["CONFIG", "SET", "maxmemory-clients", "101%"],
            ["CONFIG", "SET", "maxmemory-clients", "-1"],
            ["CONFIG", "SET", "oom-score-adj-values", "1 2"],
            ["CONFIG", "SET", "oom-score-adj-values", "1 2 3000"],
            ["CONFIG", "SET", "oom-score-adj", "sometimes"],
            ["CONFIG", "SET", "shutdown-on-sigint", "save nosave"],
            ["CONFIG", "SET", "shutdown-on-sigterm", "later"],
            ["CONFIG", "SET", "proc-title-template", "{title}"],
            ["CONFIG", "SET", "proc-title-template", "{nosuch} x"],
            ["CONFIG", "SET", "proc-title-template", "x}"],
            ["CONFIG", "SET", "cluster-announce-hostname", "a_b"],
            ["CONFIG", "SET", "cluster-announce-hostname", new string('a', 256)],
            ["CONFIG", "SET", "repl-backlog-size", "0"],
            ["CONFIG", "SET", "active-defrag-cycle-max", "100"],
            ["CONFIG", "SET", "replica-priority", "-1"],
            ["CONFIG", "SET", "slave-priority", "x"],
            ["CONFIG", "SET", "repl-diskless-load", "always"],
            ["CONFIG", "SET", "acl-pubsub-default", "some"],
            ["CONFIG", "SET", "socket-mark-id", "1"],
            ["CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"],
            ["CONFIG", "SET", "save", "100"],
            ["CONFIG", "GET", "maxmemory"], ["CONFIG", "GET", "timeout"], ["CONFIG", "GET", "busy-reply-threshold"],
        ];
        foreach (string[] command in commands)
            Assert.Equal((command, ConfigReplies.Text(redis.Call(command))), (command, ConfigReplies.Text(mini.Call(command))));
    }

    /// <summary>Every parameter Redis lists, given a word and a number far out of range: the same error on both servers.</summary>
    [Fact]
    public void Set_EveryParameterRefusesWhatRedisRefuses()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        // Changing these would cut the connections off.
        string[] unsafeToProbe = ["bind", "port", "requirepass"];
        var names = ConfigReplies.GetAll(redis).Keys.Where(name => !KnownDifferences.ContainsKey(name) && !unsafeToProbe.Contains(name));
        foreach (string name in names.Order(StringComparer.Ordinal))
        {
            string before = ConfigReplies.GetAll(redis, name)[name];
            foreach (string value in (string[])["not-a-value", "-99999999999"])
            {
                string expected = ConfigReplies.Text(redis.Call("CONFIG", "SET", name, value));
                // Values Redis takes (free-form strings) are not sent: they would change the shared servers.
                if (!expected.StartsWith('-'))
                {
                    Assert.Equal("+OK", expected);
                    Assert.Equal("+OK", ConfigReplies.Text(redis.Call("CONFIG", "SET", name, before)));
                    continue;
                }
                Assert.Equal((name, value, expected), (name, value, ConfigReplies.Text(mini.Call("CONFIG", "SET", name, value))));
            }
        }
    }

    [Fact]
    public void Set_ValuesReadBackAsRedisShowsThem()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        (string Name, string Value, string Default)[] sets =
        [
            ("hash-max-ziplist-value", "1kb", "64"), ("oom-score-adj", "relative", "no"), ("shutdown-on-sigterm", "force now SAVE", "default"),
            ("repl-backlog-size", "2mb", "1mb"), ("slave-read-only", "no", "yes"), ("cluster-link-sendbuf-limit", "1g", "0"),
            ("replica-announce-ip", "10.0.0.1", ""), ("masterauth", "secret", ""), ("oom-score-adj-values", "10 20 30", "0 200 800"),
            ("activerehashing", "no", "yes"), ("sanitize-dump-payload", "CLIENTS", "no"), ("maxmemory-clients", "5%", "0"),
        ];
        foreach (var (name, value, defaultValue) in sets)
        {
            foreach (var connection in (RespConnection[])[redis, mini])
                Assert.Equal("+OK", ConfigReplies.Text(connection.Call("CONFIG", "SET", name, value)));
            Assert.Equal(Comparable(redis), Comparable(mini));
            foreach (var connection in (RespConnection[])[redis, mini])
                Assert.Equal("+OK", ConfigReplies.Text(connection.Call("CONFIG", "SET", name, defaultValue)));
        }
    }

    /// <summary>A value that fails when applied (a port another socket holds) takes the whole CONFIG SET back.</summary>
    [Fact]
    public void Set_RollsEveryParameterBackWhenOneCannotBeApplied()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        holder.Start();
        string taken = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        string[][] commands =
        [
            ["CONFIG", "SET", "timeout", "77", "port", taken, "maxmemory-samples", "9"],
            ["CONFIG", "GET", "timeout"], ["CONFIG", "GET", "maxmemory-samples"],
        ];
        foreach (string[] command in commands)
            Assert.Equal(ConfigReplies.Text(redis.Call(command)), ConfigReplies.Text(mini.Call(command)));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.",
            ConfigReplies.Text(mini.Call(commands[0])));
        Assert.Equal("0", ConfigReplies.GetAll(mini, "timeout")["timeout"]);
    }

    [Fact]
    public void Rewrite_WithoutConfigFileFailsAsInRedis()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        Assert.Equal(ConfigReplies.Text(redis.Call("CONFIG", "REWRITE")), ConfigReplies.Text(mini.Call("CONFIG", "REWRITE")));
        Assert.Equal("-ERR The server is running without a config file", ConfigReplies.Text(mini.Call("CONFIG", "REWRITE")));
    }

    [Fact]
    public void Help_ListsRewrite()
    {
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        Assert.Equal(ConfigReplies.Text(redis.Call("CONFIG", "HELP")), ConfigReplies.Text(mini.Call("CONFIG", "HELP")));
    }
}

/// <summary>Reading CONFIG replies in tests.</summary>
internal static class ConfigReplies
{
    public static string Text(byte[] reply) => Encoding.UTF8.GetString(reply).TrimEnd('\r', '\n');

    /// <summary>CONFIG GET as name → value.</summary>
    public static Dictionary<string, string> GetAll(RespConnection connection, string pattern = "*")
    {
        connection.Send(RespConnection.EncodeCommand([.. new[] { "CONFIG", "GET", pattern }.Select(Encoding.UTF8.GetBytes)]));
        var pairs = connection.ReadReply().Children;
        var result = new Dictionary<string, string>();
        for (int i = 0; i < pairs.Count; i += 2)
            result[Bulk(pairs[i])] = Bulk(pairs[i + 1]);
        return result;
    }

    private static string Bulk(RespNode node)
    {
        int start = node.Raw.AsSpan().IndexOf("\r\n"u8) + 2;
        return Encoding.UTF8.GetString(node.Raw, start, node.Raw.Length - start - 2);
    }
}
