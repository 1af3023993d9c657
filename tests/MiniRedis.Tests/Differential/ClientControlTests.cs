using System.Text;
using System.Text.RegularExpressions;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// MONITOR, CLIENT REPLY, CLIENT PAUSE/UNPAUSE, CLIENT UNBLOCK and CLIENT NO-EVICT against real Redis
/// 7.0.15: each scenario runs on both servers and what the clients (and monitors) receive is compared,
/// with only the clock, client ports and ids masked.
/// </summary>
[Trait("Category", "Differential")]
public sealed partial class ClientControlTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    const string EndMarker = "client-control-end";

    [GeneratedRegex(@"^\+\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\]")]
    private static partial Regex MonitorPrefix();

    [GeneratedRegex(@"^\+\d+\.\d{6} \[(\d+) lua\]")]
    private static partial Regex ScriptPrefix();

    static string Text(byte[] reply) => RespConnection.Escape(reply);

    /// <summary>One text per scenario, so a failure shows the whole difference.</summary>
    static string Joined(IEnumerable<string> seen) => string.Join("\n", seen);

    static string Joined((List<string> Client, List<string> Monitor) seen) => Joined(seen.Client) + "\n---\n" + Joined(seen.Monitor);

    /// <summary>A monitor line with its time and client port masked: <c>[db client] "cmd" ...</c>.</summary>
    static string MaskMonitorLine(string line)
    {
        line = MonitorPrefix().Replace(line, "[$1 client]");
        return ScriptPrefix().Replace(line, "[$1 lua]");
    }

    /// <summary>Replies read until the echo of <see cref="EndMarker"/> (replies dropped by CLIENT REPLY leave no gap to wait for).</summary>
    static List<string> RepliesUntilEnd(RespConnection connection)
    {
        var replies = new List<string>();
        while (true)
        {
            var reply = connection.ReadReply();
            if (reply.Type == (byte)'$' && reply.Text.Contains(EndMarker, StringComparison.Ordinal)) return replies;
            replies.Add(reply.ToString());
        }
    }

    static void SendAll(RespConnection connection, IEnumerable<string[]> commands)
    {
        foreach (var command in commands) connection.Send(RespConnection.EncodeCommand(command.Select(Encoding.Latin1.GetBytes).ToArray()));
    }

    // One client's commands while another monitors; every kind of line Redis shows or hides.
    static readonly string[][] MonitoredCommands =
    [
        ["SET", "mon:a", "1"],
        ["GET", "mon:a"],
        ["SET", "mon:bin", "a\0b\x7f\x80\"\\", "\t\r\n\a\b\x01 "],
        ["LPUSH", "mon:a", "x"],
        ["NOSUCHCOMMAND", "x"],
        ["GET"],
        ["AUTH", "foo"],
        ["AUTH", "user", "pass"],
        ["AUTH", "a", "b", "c"],
        ["HELLO", "2", "AUTH", "nobody", "wrong"],
        ["HELLO", "x", "AUTH", "a", "b"],
        ["CONFIG", "GET", "databases"],
        ["CLIENT", "LIST", "TYPE", "master"],
        ["CLIENT", "GETNAME"],
        ["SELECT", "3"],
        ["SET", "mon:db3", "v"],
        ["EVAL", "redis.call('set', KEYS[1], 'x\\n\"y'); return redis.call('incr', 'mon:n')", "1", "mon:lua"],
        ["EVALSHA", "abc", "0"],
        ["EVAL", "return redis.call('get', 'mon:lua')", "0"],
        ["MULTI"],
        ["SET", "mon:m", "1"],
        ["INCR", "mon:m"],
        ["EXEC"],
        ["MULTI"],
        ["GET", "mon:m"],
        ["DISCARD"],
        ["MULTI"],
        ["NOSUCH"],
        ["EXEC"],
        ["BLPOP", "mon:empty", "0.01"],
        ["SELECT", "0"],
        ["CLIENT", "REPLY", "ON"],
        ["MONITOR"],
        ["ECHO", EndMarker],
    ];

    [Fact]
    public void Monitor_shows_commands_as_redis_does()
    {
        Assert.Equal(Joined(MonitorScenario(servers.Redis)), Joined(MonitorScenario(servers.Mini)));
    }

    static (List<string> Client, List<string> Monitor) MonitorScenario(ServerProcess server)
    {
        using var monitor = server.Connect();
        using var client = server.Connect();
        client.Call("FLUSHALL");
        Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(monitor.Call("MONITOR")));
        SendAll(client, MonitoredCommands);
        var replies = RepliesUntilEnd(client);
        var lines = new List<string>();
        while (true)
        {
            var line = monitor.ReadReply().Text;
            lines.Add(MaskMonitorLine(line));
            if (line.Contains(EndMarker, StringComparison.Ordinal)) break;
        }
        return (replies, lines);
    }

    [Fact]
    public void Monitor_client_own_commands_and_reset_as_redis()
    {
        Assert.Equal(Joined(MonitorOwnCommands(servers.Redis)), Joined(MonitorOwnCommands(servers.Mini)));
    }

    static List<string> MonitorOwnCommands(ServerProcess server)
    {
        using var monitor = server.Connect();
        using var other = server.Connect();
        string Line() => MaskMonitorLine(monitor.ReadReply().Text);
        var seen = new List<string>
        {
            Text(monitor.Call("MULTI")),
            Text(monitor.Call("MONITOR")),
            Text(monitor.Call("EXEC")),
            Text(monitor.Call("MONITOR")),
        };
        // Its own PING: the reply, then its line.
        seen.Add(Text(monitor.Call("PING")));
        seen.Add(Line());
        seen.Add(Text(monitor.Call("GET", "k")));
        seen.Add(Text(monitor.Call("SET", "k", "v")));
        seen.Add(Text(monitor.Call("CLIENT", "NO-EVICT", "ON")));
        seen.Add(Regex.Match(Encoding.Latin1.GetString(monitor.Call("CLIENT", "INFO")), @"flags=\S+").Value);
        seen.Add(Line());
        seen.Add(Regex.Match(Encoding.Latin1.GetString(other.Call("CLIENT", "INFO")), @"flags=\S+").Value);
        seen.Add(Line());
        // MONITOR again answers nothing: the next reply is ECHO's, then ECHO's line.
        SendAll(monitor, [["MONITOR"], ["ECHO", "after-monitor"]]);
        seen.Add(monitor.ReadReply().ToString());
        seen.Add(Line());
        seen.Add(Text(monitor.Call("RESET")));
        seen.Add(Text(other.Call("SET", "mon:after-reset", "1")));
        seen.Add(Text(monitor.Call("ECHO", EndMarker)));
        seen.Add(Text(monitor.Call("GET", "mon:after-reset")));
        return seen;
    }

    // CLIENT REPLY in one pipeline: what arrives is compared, up to the final ECHO.
    static readonly string[][] ReplyModeCommands =
    [
        ["CLIENT", "REPLY", "OFF"],
        ["SET", "reply:k", "1"],
        ["GET", "reply:k"],
        ["NOSUCH"],
        ["CLIENT", "REPLY", "SKIP"],
        ["CLIENT", "REPLY", "ON"],
        ["GET", "reply:k"],
        ["CLIENT", "REPLY", "SKIP"],
        ["INCR", "reply:k"],
        ["GET", "reply:k"],
        ["CLIENT", "REPLY", "SKIP"],
        ["CLIENT", "REPLY", "SKIP"],
        ["ECHO", "skipped"],
        ["ECHO", "shown"],
        ["CLIENT", "REPLY", "SKIP"],
        ["HSET", "reply:k", "f", "v"],
        ["CLIENT", "REPLY", "bogus"],
        ["CLIENT", "REPLY"],
        ["CLIENT", "REPLY", "ON", "extra"],
        ["CLIENT", "REPLY", "OFF"],
        ["BLPOP", "reply:list", "0.01"],
        ["CLIENT", "REPLY", "ON"],
        ["BLPOP", "reply:list", "0.01"],
        ["ECHO", EndMarker],
    ];

    [Fact]
    public void Client_reply_on_off_skip_as_redis()
    {
        Assert.Equal(Joined(ReplyModeScenario(servers.Redis)), Joined(ReplyModeScenario(servers.Mini)));
    }

    static List<string> ReplyModeScenario(ServerProcess server)
    {
        using var client = server.Connect();
        client.Call("DEL", "reply:k");
        client.Call("CONFIG", "RESETSTAT");
        SendAll(client, ReplyModeCommands);
        var replies = RepliesUntilEnd(client);
        using var other = server.Connect();
        replies.Add(Regex.Match(Encoding.Latin1.GetString(other.Call("INFO", "errorstats")), @"errorstat_WRONGTYPE:count=\d+").Value);
        return replies;
    }

    static readonly string[][] BadArguments =
    [
        ["CLIENT", "PAUSE", "abc"],
        ["CLIENT", "PAUSE", "-1"],
        ["CLIENT", "PAUSE", "abc", "foo"],
        ["CLIENT", "PAUSE", "100", "foo"],
        ["CLIENT", "PAUSE", "100", "write", "x"],
        ["CLIENT", "PAUSE", "9223372036854775807"],
        ["CLIENT", "PAUSE"],
        ["CLIENT", "UNPAUSE", "x"],
        ["CLIENT", "UNBLOCK", "x", "foo"],
        ["CLIENT", "UNBLOCK", "x"],
        ["CLIENT", "UNBLOCK", "999999", "timeout", "x"],
        ["CLIENT", "UNBLOCK", "999999"],
        ["CLIENT", "UNBLOCK", "999999", "ERROR"],
        ["CLIENT", "NO-EVICT", "maybe"],
        ["CLIENT", "NO-EVICT"],
        ["MONITOR", "x"],
    ];

    [Fact]
    public void Client_control_argument_errors_as_redis()
    {
        Assert.Equal(Joined(Replies(servers.Redis, BadArguments)), Joined(Replies(servers.Mini, BadArguments)));
    }

    static List<string> Replies(ServerProcess server, string[][] commands)
    {
        using var client = server.Connect();
        return [.. commands.Select(command => Text(client.Call(command)))];
    }

    [Fact]
    public void Client_unblock_releases_blocking_commands_as_redis()
    {
        Assert.Equal(Joined(UnblockScenario(servers.Redis)), Joined(UnblockScenario(servers.Mini)));
    }

    static List<string> UnblockScenario(ServerProcess server)
    {
        using var admin = server.Connect();
        using var blocked = server.Connect();
        var id = Encoding.ASCII.GetString(blocked.Call("CLIENT", "ID"))[1..^2];
        admin.Call("CONFIG", "RESETSTAT");
        var seen = new List<string> { Text(admin.Call("CLIENT", "UNBLOCK", id)) };
        string[][][] blockingCommands =
        [
            [["BLPOP", "unblock:l", "0"], ["TIMEOUT"]],
            [["BLMOVE", "unblock:l", "unblock:m", "LEFT", "LEFT", "0"], ["ERROR"]],
            [["BZPOPMIN", "unblock:z", "0"], ["timeout"]],
            [["BRPOPLPUSH", "unblock:l", "unblock:m", "0"], []],
            [["BLMPOP", "0", "1", "unblock:l", "LEFT"], ["error"]],
        ];
        foreach (var pair in blockingCommands)
        {
            // The blocked client pipelines a PING behind its blocking command: it runs once released.
            SendAll(blocked, [pair[0], ["PING"]]);
            WaitUntilBlocked(admin, id);
            seen.Add(Text(admin.Call([.. new[] { "CLIENT", "UNBLOCK", id }.Concat(pair[1]).Select(Encoding.ASCII.GetBytes)])));
            seen.Add(blocked.ReadReply().ToString());
            seen.Add(blocked.ReadReply().ToString());
        }
        var stats = Encoding.Latin1.GetString(admin.Call("INFO", "errorstats"));
        seen.Add(Regex.Match(stats, @"errorstat_UNBLOCKED:count=\d+").Value);
        return seen;
    }

    /// <summary>Polls CLIENT LIST until the client shows the b flag (it waits in a blocking command, or a pause holds it).</summary>
    static void WaitUntilBlocked(RespConnection admin, string id)
    {
        for (int attempt = 0; attempt < 500; attempt++)
        {
            var list = Encoding.Latin1.GetString(admin.Call("CLIENT", "LIST", "ID", id));
            if (Regex.IsMatch(list, @"flags=\S*b")) return;
            Thread.Sleep(10);
        }
        Assert.Fail($"client {id} never blocked");
    }

    [Fact]
    public void Client_pause_write_holds_writes_and_expiry_until_unpause_as_redis()
    {
        Assert.Equal(Joined(PauseWriteScenario(servers.Redis)), Joined(PauseWriteScenario(servers.Mini)));
    }

    static List<string> PauseWriteScenario(ServerProcess server)
    {
        using var admin = server.Connect();
        using var writer = server.Connect();
        using var scripter = server.Connect();
        var id = Encoding.ASCII.GetString(writer.Call("CLIENT", "ID"))[1..^2];
        var scripterId = Encoding.ASCII.GetString(scripter.Call("CLIENT", "ID"))[1..^2];
        admin.Call("FLUSHALL");
        // The TTL outlasts the step to the pause (so neither server's active cycle takes the key first, even on a
        // loaded machine: 150 ms was once too short) but not the wait after it.
        admin.Call("SET", "pause:volatile", "v", "PX", "1000");
        var seen = new List<string> { Text(admin.Call("CLIENT", "PAUSE", "100000", "WRITE")) };
        // Paused, the expired key reads as missing but is not deleted.
        Thread.Sleep(1200);
        seen.Add(Text(writer.Call("GET", "pause:volatile")));
        seen.Add(Text(writer.Call("EXISTS", "pause:volatile")));
        seen.Add(Text(writer.Call("DBSIZE")));
        // A write (and what the client pipelines behind it, even a read) waits.
        SendAll(writer, [["SET", "pause:k", "1"], ["GET", "pause:k"]]);
        WaitUntilBlocked(admin, id);
        // A script without a shebang may write: it waits too.
        SendAll(scripter, [["EVAL", "return redis.call('incr', 'pause:k')", "0"]]);
        WaitUntilBlocked(admin, scripterId);
        seen.Add(Text(admin.Call("GET", "pause:k")));
        seen.Add(Regex.Match(Encoding.Latin1.GetString(admin.Call("INFO", "clients")), @"blocked_clients:\d+").Value);
        seen.Add(Text(admin.Call("CLIENT", "UNPAUSE")));
        seen.Add(writer.ReadReply().ToString());
        seen.Add(writer.ReadReply().ToString());
        seen.Add(scripter.ReadReply().ToString());
        seen.Add(Text(admin.Call("GET", "pause:volatile")));
        seen.Add(Text(admin.Call("DBSIZE")));
        return seen;
    }

    const string PauseLibrary = "#!lua name=pauselib\n" +
        "redis.register_function{function_name='pause_ro', callback=function() return 'ro' end, flags={'no-writes'}}\n" +
        "redis.register_function('pause_rw', function() return 'rw' end)";

    [Fact]
    public void Client_pause_write_judges_scripts_by_their_declared_flags_as_redis()
    {
        Assert.Equal(Joined(PauseScriptFlagsScenario(servers.Redis)), Joined(PauseScriptFlagsScenario(servers.Mini)));
    }

    /// <summary>
    /// Under CLIENT PAUSE WRITE, EVAL/EVALSHA/FCALL are judged by the flags their script or function
    /// declares (Redis's getCommandFlags): no-writes ones run, as do the _RO forms and a transaction
    /// of them; a script with a shebang but no no-writes flag, a function without flags, and a script
    /// without a shebang wait, each on its own client, until the pause ends.
    /// </summary>
    static List<string> PauseScriptFlagsScenario(ServerProcess server)
    {
        using var admin = server.Connect();
        using var reader = server.Connect();
        admin.Call("FLUSHALL");
        admin.Call("SET", "pause:k", "v");
        var seen = new List<string> { Text(admin.Call("FUNCTION", "LOAD", "REPLACE", PauseLibrary)) };
        string readOnlySha = Encoding.ASCII.GetString(admin.Call("SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])"))[5..^2];
        seen.Add(Text(admin.Call("CLIENT", "PAUSE", "100000", "WRITE")));
        string[][] running =
        [
            ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "pause:k"],
            ["EVALSHA", readOnlySha, "1", "pause:k"],
            ["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "pause:k"],
            ["EVALSHA_RO", readOnlySha, "1", "pause:k"],
            ["FCALL", "pause_ro", "0"],
            ["FCALL_RO", "pause_ro", "0"],
            ["MULTI"],
            ["EVAL", "#!lua flags=no-writes\nreturn 'in multi'", "0"],
            ["FCALL", "pause_ro", "0"],
            ["EXEC"],
        ];
        seen.AddRange(running.Select(command => Text(reader.Call(command))));
        string[][] held =
        [
            ["EVAL", "#!lua\nreturn 'declared, may write'", "0"],
            ["EVAL_RO", "#!lua\nreturn 'declared, may write'", "0"],
            ["FCALL", "pause_rw", "0"],
            ["EVAL", "return 'no shebang'", "0"],
        ];
        var waiting = new List<RespConnection>();
        try
        {
            foreach (var command in held)
            {
                var client = server.Connect();
                waiting.Add(client);
                var clientId = Encoding.ASCII.GetString(client.Call("CLIENT", "ID"))[1..^2];
                SendAll(client, [command]);
                WaitUntilBlocked(admin, clientId);
            }
            seen.Add(Regex.Match(Encoding.Latin1.GetString(admin.Call("INFO", "clients")), @"blocked_clients:\d+").Value);
            seen.Add(Text(admin.Call("CLIENT", "UNPAUSE")));
            seen.AddRange(waiting.Select(client => client.ReadReply().ToString()));
        }
        finally
        {
            foreach (var client in waiting) client.Dispose();
            admin.Call("FUNCTION", "DELETE", "pauselib");
        }
        return seen;
    }

    [Fact]
    public void Client_pause_all_holds_every_client_but_a_monitor_as_redis()
    {
        Assert.Equal(Joined(PauseAllScenario(servers.Redis)), Joined(PauseAllScenario(servers.Mini)));
    }

    static List<string> PauseAllScenario(ServerProcess server)
    {
        using var monitor = server.Connect();
        using var pauser = server.Connect();
        using var other = server.Connect();
        var pauserId = Encoding.ASCII.GetString(pauser.Call("CLIENT", "ID"))[1..^2];
        var otherId = Encoding.ASCII.GetString(other.Call("CLIENT", "ID"))[1..^2];
        monitor.Call("MONITOR");
        var seen = new List<string> { Text(pauser.Call("CLIENT", "PAUSE", "100000", "ALL")) };
        SendAll(pauser, [["PING"], ["CLIENT", "UNPAUSE"]]);
        SendAll(other, [["CLIENT", "ID"]]);
        // The monitor is never paused: it can look and end the pause.
        WaitUntilBlocked(monitor, pauserId);
        WaitUntilBlocked(monitor, otherId);
        seen.Add(Text(monitor.Call("CLIENT", "UNPAUSE")));
        seen.Add(pauser.ReadReply().ToString());
        seen.Add(pauser.ReadReply().ToString());
        seen.Add(other.ReadReply().ToString() == $":{otherId}\r\n" ? "other released" : "other wrong reply");
        // The monitor saw the pause, then the held commands once they ran.
        var lines = new List<string>();
        while (lines.Count < 2) lines.Add(MaskMonitorLine(monitor.ReadReply().Text));
        seen.AddRange(lines.Order(StringComparer.Ordinal));
        return seen;
    }
}
