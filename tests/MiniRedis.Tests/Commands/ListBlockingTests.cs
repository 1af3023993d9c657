using System.Diagnostics;
using System.Text;
using MiniRedis.Tests.Support;
using StackExchange.Redis;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// Blocking list commands with several real clients: every scenario runs against real Redis 7.0.15 and
/// MiniRedis and must produce the replies written here. Blocked clients use raw RESP connections
/// (StackExchange.Redis 1.2.6 cannot block on its multiplexer); StackExchange.Redis is the pusher.
/// </summary>
[Trait("Category", "Differential")]
public sealed partial class ListBlockingTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    /// <summary>Runs <paramref name="scenario"/> on a flushed real Redis, then on a flushed MiniRedis.</summary>
    void OnBoth(Action<ServerProcess, IDatabase> scenario)
    {
        foreach (var server in new ServerProcess[] { servers.Redis, servers.Mini })
        {
            using (var connection = server.Connect()) connection.Call("FLUSHALL");
            var options = new ConfigurationOptions { AbortOnConnectFail = true, ConnectTimeout = 15_000, SyncTimeout = 15_000 };
            options.EndPoints.Add("127.0.0.1", server.Port);
            using var multiplexer = ConnectionMultiplexer.Connect(options);
            try
            {
                scenario(server, multiplexer.GetDatabase());
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidOperationException($"Scenario failed on {server.GetType().Name}: {e.Message}", e);
            }
        }
    }

    /// <summary>Sends a command on a new connection and waits until the server has blocked it.</summary>
    static RespConnection Block(ServerProcess server, int blockedAfter, params string[] command)
    {
        var connection = server.Connect();
        connection.Send(RespConnection.EncodeCommand(command.Select(Encoding.UTF8.GetBytes).ToArray()));
        Wait.ForBlockedClients(server, blockedAfter);
        return connection;
    }

    static string Reply(RespConnection connection) => connection.ReadReply().ToString();

    static string Bulks(params string[] values)
        => RespConnection.Escape(Encoding.UTF8.GetBytes($"*{values.Length}\r\n" + string.Concat(values.Select(v => $"${v.Length}\r\n{v}\r\n"))));

    [Fact]
    public void Blpop_is_served_by_a_push_from_another_client()
    {
        OnBoth((server, pusher) =>
        {
            using var blocked = Block(server, 1, "BLPOP", "nothing", "q", "0");
            Assert.Equal(2, pusher.ListRightPush("q", ["a", "b"]));
            Assert.Equal(Bulks("q", "a"), Reply(blocked));
            Assert.Equal(["b"], pusher.ListRange("q").Select(v => (string)v!).ToArray());
            Assert.Equal(0, Wait.BlockedClients(server));
        });
    }

    [Fact]
    public void Blocked_clients_are_served_first_come_first_served()
    {
        OnBoth((server, pusher) =>
        {
            using var first = Block(server, 1, "BRPOP", "q", "0");
            using var second = Block(server, 2, "BLPOP", "q", "0");
            using var third = Block(server, 3, "BLMPOP", "0", "1", "q", "LEFT", "COUNT", "2");
            pusher.ListRightPush("q", "a");
            Assert.Equal(Bulks("q", "a"), Reply(first));
            Wait.ForBlockedClients(server, 2);
            pusher.ListRightPush("q", ["b", "c", "d", "e"]);
            Assert.Equal(Bulks("q", "b"), Reply(second));
            Assert.Equal(RespConnection.Escape("*2\r\n$1\r\nq\r\n*2\r\n$1\r\nc\r\n$1\r\nd\r\n"u8), Reply(third));
            Assert.Equal(["e"], pusher.ListRange("q").Select(v => (string)v!).ToArray());
        });
    }

    [Fact]
    public void Timeouts_reply_null_array_or_null_bulk()
    {
        OnBoth((server, _) =>
        {
            using var connection = server.Connect();
            var watch = Stopwatch.StartNew();
            Assert.Equal("\"*-1\\r\\n\"", RespConnection.Escape(connection.Call("BLPOP", "q", "0.2")));
            Assert.InRange(watch.ElapsedMilliseconds, 150, 5000);
            // Every list block times out with a null array, BLMOVE too (though it replies a null bulk when it cannot block).
            Assert.Equal("\"*-1\\r\\n\"", RespConnection.Escape(connection.Call("BLMOVE", "q", "d", "LEFT", "LEFT", "0.05")));
            Assert.Equal("\"*-1\\r\\n\"", RespConnection.Escape(connection.Call("BRPOPLPUSH", "q", "d", "0.05")));
            Assert.Equal("\"*-1\\r\\n\"", RespConnection.Escape(connection.Call("BLMPOP", "0.05", "1", "q", "RIGHT")));
            connection.Call("HELLO", "3");
            Assert.Equal("\"_\\r\\n\"", RespConnection.Escape(connection.Call("BRPOP", "q", "0.05")));
            Assert.Equal("\"_\\r\\n\"", RespConnection.Escape(connection.Call("BLMOVE", "q", "d", "LEFT", "LEFT", "0.05")));
        });
    }

    [Fact]
    public void A_transaction_wakes_the_client_from_the_first_key_it_filled()
    {
        OnBoth((server, _) =>
        {
            using var blocked = Block(server, 1, "BLPOP", "k1", "k2", "0");
            using var writer = server.Connect();
            writer.Send("MULTI\r\nRPUSH k2 x\r\nRPUSH k1 y\r\nEXEC\r\n");
            for (int i = 0; i < 4; i++) writer.ReadReply();
            Assert.Equal(Bulks("k2", "x"), Reply(blocked));
            Assert.Equal(Bulks("y"), RespConnection.Escape(writer.Call("LRANGE", "k1", "0", "-1")));
        });
    }

    [Fact]
    public void A_key_filled_and_emptied_in_one_transaction_serves_nobody()
    {
        OnBoth((server, pusher) =>
        {
            using var blocked = Block(server, 1, "BLPOP", "q", "0");
            using var writer = server.Connect();
            writer.Send("MULTI\r\nLPUSH q a\r\nDEL q\r\nEXEC\r\n");
            for (int i = 0; i < 4; i++) writer.ReadReply();
            Assert.Equal(1, Wait.BlockedClients(server));
            pusher.ListLeftPush("q", "b");
            Assert.Equal(Bulks("q", "b"), Reply(blocked));
        });
    }

    [Fact]
    public void A_disconnected_client_stops_waiting_and_takes_nothing()
    {
        OnBoth((server, pusher) =>
        {
            var blocked = Block(server, 1, "BLPOP", "q", "0");
            blocked.Dispose();
            Wait.ForBlockedClients(server, 0);
            pusher.ListRightPush("q", "a");
            Assert.Equal(1, pusher.ListLength("q"));
        });
    }

    [Fact]
    public void Blmove_into_a_list_another_client_waits_on_serves_both()
    {
        OnBoth((server, pusher) =>
        {
            using var mover = Block(server, 1, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0");
            using var popper = Block(server, 2, "BRPOPLPUSH", "dst", "end", "0");
            pusher.ListRightPush("src", ["a", "b"]);
            Assert.Equal(RespConnection.Escape("$1\r\nb\r\n"u8), Reply(mover));
            Assert.Equal(RespConnection.Escape("$1\r\nb\r\n"u8), Reply(popper));
            Assert.Equal(["a"], pusher.ListRange("src").Select(v => (string)v!).ToArray());
            Assert.False(pusher.KeyExists("dst"));
            Assert.Equal(["b"], pusher.ListRange("end").Select(v => (string)v!).ToArray());
        });
    }

    [Fact]
    public void A_pipelined_command_after_a_blocking_one_waits_for_it()
    {
        OnBoth((server, pusher) =>
        {
            using var blocked = server.Connect();
            blocked.Send("BLPOP q 0\r\nLLEN q\r\nPING\r\n");
            Wait.ForBlockedClients(server, 1);
            pusher.ListRightPush("q", ["a", "b"]);
            Assert.Equal(Bulks("q", "a"), Reply(blocked));
            Assert.Equal(RespConnection.Escape(":1\r\n"u8), Reply(blocked));
            Assert.Equal(RespConnection.Escape("+PONG\r\n"u8), Reply(blocked));
        });
    }

    [Fact]
    public void A_wrong_type_source_keeps_the_client_blocked()
    {
        OnBoth((server, pusher) =>
        {
            using var blocked = Block(server, 1, "BLPOP", "q", "0");
            pusher.StringSet("q", "text");
            pusher.KeyDelete("q");
            pusher.ListRightPush("q", "a");
            Assert.Equal(Bulks("q", "a"), Reply(blocked));
        });
    }

    [Fact]
    public void Blmove_to_a_wrong_type_destination_fails_when_served()
    {
        OnBoth((server, pusher) =>
        {
            using var blocked = Block(server, 1, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0");
            pusher.StringSet("dst", "text");
            pusher.ListRightPush("src", "a");
            Assert.Equal(RespConnection.Escape("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"u8), Reply(blocked));
            Assert.Equal(1, pusher.ListLength("src"));
        });
    }

    [Fact]
    public void Redis_cli_blpop_waits_for_a_push()
    {
        OnBoth((server, pusher) =>
        {
            var info = new ProcessStartInfo(RealRedisProcess.ExecutablePath("redis-cli"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in (string[])["-p", server.Port.ToString(), "BLPOP", "q", "5"]) info.ArgumentList.Add(arg);
            using var cli = Process.Start(info)!;
            var output = cli.StandardOutput.ReadToEndAsync();
            Wait.ForBlockedClients(server, 1);
            pusher.ListRightPush("q", "hello");
            Assert.True(cli.WaitForExit(10_000), "redis-cli did not finish");
            Assert.Equal(0, cli.ExitCode);
            Assert.Equal("q\nhello\n", output.Result);
        });
    }
}
