using System.Text;
using MiniRedis.Config;
using MiniRedis.Execution;
using MiniRedis.Networking;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Execution;

/// <summary>
/// The net under the executor: a handler that throws (here a test handler put in place of a real
/// command) costs only its own command: an error reply, no propagation, one log line with the
/// stack, counted in INFO; the connection, the transaction around it and the server go on.
/// </summary>
[Trait("Category", "Process")]
public sealed class HandlerExceptionTests : IDisposable
{
    const string AppendError = "-ERR internal error executing 'append': InvalidOperationException\r\n";

    readonly CollectingLogger _log = new();
    readonly RedisServer _server;
    Listener? _listener;

    public HandlerExceptionTests()
    {
        _server = new RedisServer(ServerConfig.Parse("save \"\""), _log);
        InstallThrowingHandlers(_server);
        _server.Start();
    }

    public void Dispose()
    {
        _listener?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _server.Stop();
    }

    /// <summary>Starts accepting clients over TCP; the port.</summary>
    int Listen()
    {
        _listener = new Listener(_server.Host);
        _listener.Start();
        return _listener.Endpoints[0].Port;
    }

    /// <summary>Puts the throwing handlers in place of APPEND's and BLPOP's.</summary>
    static unsafe void InstallThrowingHandlers(RedisServer server)
    {
        server.Commands.Add("append", &HalfAppliedThenThrow);
        server.Commands.Add("blpop", &BlockThenThrow);
    }

    /// <summary>Changes a key, begins a propagation record and a reply, then fails as a bug would.</summary>
    static void HalfAppliedThenThrow(CommandContext ctx)
    {
        ctx.Db.SetString(ctx.Arg(1), "half"u8);
        ctx.KeyModified(ctx.Arg(1));
        ctx.Propagate().Arg("SET"u8).Arg(ctx.Arg(1));
        ctx.Reply.ArrayHeader(2);
        ctx.Reply.Bulk("partial"u8);
        throw new InvalidOperationException("bug under test");
    }

    /// <summary>Blocks on its key; throws when served, or at once for the key FAILNOW.</summary>
    static void BlockThenThrow(CommandContext ctx)
    {
        ctx.BlockForKeys([ctx.Arg(1).ToArray()], 0, BlockedReply.NullArray);
        if (ctx.IsRetry || ctx.ArgIs(1, "FAILNOW"u8)) throw new InvalidOperationException("bug under test");
    }

    static byte[] Command(params string[] args) => RespConnection.EncodeCommand([.. args.Select(Encoding.ASCII.GetBytes)]);

    static string Text(byte[] reply) => Encoding.Latin1.GetString(reply);

    List<string> LogLinesNaming(string command)
    {
        lock (_log.Lines) return _log.Lines.Where(l => l.Contains($"'{command}'", StringComparison.Ordinal)).ToList();
    }

    [Fact]
    public void A_throwing_command_gets_an_error_and_the_connection_and_the_stats_go_on()
    {
        using var connection = RespConnection.Open(Listen());

        // Pipelined: the commands after the failing one in the same batch run too.
        connection.Send(Command("APPEND", "k", "x"));
        connection.Send(Command("PING"));
        Assert.Equal(AppendError, connection.ReadReply().Text);
        Assert.Equal("+PONG\r\n", connection.ReadReply().Text);
        Assert.Equal("$4\r\nhalf\r\n", Text(connection.Call("GET", "k")));

        var errorStats = Text(connection.Call("INFO", "errorstats"));
        Assert.Contains("errorstat_ERR:count=1\r\n", errorStats, StringComparison.Ordinal);
        var commandStats = Text(connection.Call("INFO", "commandstats"));
        Assert.Matches(@"cmdstat_append:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=1\r\n", commandStats);
        Assert.Contains("total_error_replies:1\r\n", Text(connection.Call("INFO", "stats")), StringComparison.Ordinal);

        var logged = Assert.Single(LogLinesNaming("append"));
        Assert.Contains(nameof(InvalidOperationException), logged, StringComparison.Ordinal);
        Assert.Contains(nameof(HalfAppliedThenThrow), logged, StringComparison.Ordinal);
    }

    [Fact]
    public void Inside_exec_the_failing_command_is_one_error_element_and_only_the_others_propagate()
    {
        using var recorder = new PropagationRecorder();
        var client = recorder.Client;
        client.OnExecutor(() =>
        {
            InstallThrowingHandlers(recorder.Server);
            return true;
        });
        Assert.Empty(recorder.Logged("APPEND alone x"));

        client.Run("MULTI");
        client.Run("SET a 1");
        client.Run("APPEND k x");
        client.Run("SET b 2");
        string reply = "";
        var records = recorder.Logged(() => reply = client.Run("EXEC"));
        Assert.Equal("*3\r\n+OK\r\n" + AppendError + "+OK\r\n", reply);
        Assert.Equal(["0: MULTI", "0: SET a 1", "0: SET b 2", "-1: EXEC"], records);
        Assert.Equal("+PONG\r\n", client.Run("PING"));
    }

    [Fact]
    public void A_blocking_command_that_throws_when_served_or_at_once_leaves_its_client_unblocked()
    {
        int port = Listen();
        using var waiter = RespConnection.Open(port);
        using var pusher = RespConnection.Open(port);

        Assert.Equal("-ERR internal error executing 'blpop': InvalidOperationException\r\n", Text(waiter.Call("BLPOP", "FAILNOW", "0")));
        Assert.Equal("+PONG\r\n", Text(waiter.Call("PING")));

        waiter.Send(Command("BLPOP", "q", "0"));
        waiter.Send(Command("PING"));
        // Once the waiter is blocked, the push serves it: the retry throws.
        Wait.ForBlockedClients(pusher, 1);
        Assert.Equal(":1\r\n", Text(pusher.Call("RPUSH", "q", "v")));
        Assert.Equal("-ERR internal error executing 'blpop': InvalidOperationException\r\n", waiter.ReadReply().Text);
        Assert.Equal("+PONG\r\n", waiter.ReadReply().Text);
        Assert.Contains("blocked_clients:0\r\n", Text(pusher.Call("INFO", "clients")), StringComparison.Ordinal);
        Assert.Equal(2, LogLinesNaming("blpop").Count);
    }

    [Fact]
    public void While_loading_the_aof_an_exception_fails_the_load()
    {
        var dir = Directory.CreateTempSubdirectory("handler-exception-").FullName;
        var log = new CollectingLogger();
        var server = new RedisServer(ServerConfig.Parse($"dir {dir}\nappendonly yes"), log);
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "appendonly.aof"), Command("APPEND", "k", "x"));
            InstallThrowingHandlers(server);
            server.Start();
            var done = new TaskCompletionSource<bool>();
            server.Persistence.LoadAtStart(done.SetResult);
            Assert.True(done.Task.Wait(TimeSpan.FromSeconds(60)));
            Assert.False(done.Task.Result);
            lock (log.Lines) Assert.Contains(log.Lines, l => l.StartsWith("Error replaying 'append' from the append only file ", StringComparison.Ordinal) && l.Contains("InvalidOperationException: bug under test", StringComparison.Ordinal));
        }
        finally
        {
            server.Stop();
            Directory.Delete(dir, true);
        }
    }
}
