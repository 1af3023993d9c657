using System.Net.Sockets;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Networking;

/// <summary>
/// How connections end and how much a server keeps for them: each behaviour is checked on a
/// MiniRedis process, and where Redis's behaviour is the reference, on real Redis too.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ConnectionLifecycleTests
{
    const int MiB = 1024 * 1024;

    static IEnumerable<ServerProcess> BothServers(params string[] directives)
    {
        yield return new RealRedisProcess(directives);
        yield return new MiniRedisProcess(directives);
    }

    /// <summary>Log lines reach the output asynchronously: waits a few seconds for <paramref name="text"/>.</summary>
    static void AssertLogged(ServerProcess server, string text)
    {
        for (int i = 0; i < 100 && !server.Output.Contains(text, StringComparison.Ordinal); i++) Thread.Sleep(50);
        Assert.Contains(text, server.Output);
    }

    static int OpenFds(ServerProcess server) => Directory.GetFiles($"/proc/{server.ProcessId}/fd").Length;

    [Fact]
    public void IdleClient_KeepsItsOpenCommandAndWorksAfterItsBuffersAreGivenBack()
    {
        using var server = new MiniRedisProcess();
        using var client = server.Connect();
        // A pipeline grows the batches; the cron gives a client's batch arrays back after 2 s idle.
        string value = new('v', 100);
        client.Send(string.Concat(Enumerable.Range(0, 200).Select(i => $"SET k{i} {value}\r\n")));
        for (int i = 0; i < 200; i++) Assert.Equal("+OK\r\n", client.ReadReply().Text);
        // Half a command stays open while the client is idle: its batch must not be given back.
        client.Send("*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n");
        Thread.Sleep(3500);
        client.Send("$5\r\nvalue\r\n");
        Assert.Equal("+OK\r\n", client.ReadReply().Text);
        // Idle with nothing open: the arrays go back, and the next commands grow them again.
        Thread.Sleep(3500);
        Assert.Equal("$5\r\nvalue\r\n"u8.ToArray(), client.Call("GET", "half"));
        Assert.Equal(Encoding.ASCII.GetBytes($"$100\r\n{value}\r\n"), client.Call("GET", "k199"));
    }

    [Fact]
    public void HalfCloseAfterSet_GetsTheReplyThenEndOfFile()
    {
        foreach (var server in BothServers())
        {
            using (server)
            using (var client = server.Connect())
            {
                client.Send(RespConnection.EncodeCommand([.. new[] { "SET", "k", "v" }.Select(Encoding.ASCII.GetBytes)]));
                client.FinishSending();
                Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(client.ReadUntilClosed()));
            }
        }
    }

    /// <summary>
    /// A blocked client whose later commands arrive in separate packets holds both of its batches; when
    /// it then disconnects, the server must notice and free it, as Redis does (it once stayed in CLIENT
    /// LIST, flags=b, for good). The same for a client held by CLIENT PAUSE.
    /// </summary>
    [Theory]
    [InlineData("BLPOP q 0")]
    [InlineData("PAUSE")]
    public void WaitingClientWithAPipelineBehind_IsFreedWhenItDisconnects(string wait)
    {
        foreach (var server in BothServers())
        {
            using (server)
            using (var control = server.Connect())
            {
                // WRITE: the control connection's INFO still runs.
                if (wait == "PAUSE") control.Call("CLIENT", "PAUSE", "100000", "WRITE");
                var client = server.Connect();
                client.Send(wait == "PAUSE" ? "SET a 1\r\n" : wait + "\r\n");
                for (int i = 0; i < 4; i++)
                {
                    Thread.Sleep(100);
                    client.Send("PING\r\n");
                }
                Assert.Equal("2", InfoField(control, "connected_clients"));
                client.Dispose();
                for (int i = 0; i < 100 && InfoField(control, "connected_clients") != "1"; i++) Thread.Sleep(50);
                Assert.Equal("1", InfoField(control, "connected_clients"));
                Assert.Equal("0", InfoField(control, "blocked_clients"));
                if (wait == "PAUSE") control.Call("CLIENT", "UNPAUSE");
            }
        }
    }

    static string InfoField(RespConnection connection, string field) =>
        connection.InfoField("clients", field) ?? throw new InvalidOperationException($"INFO clients has no {field}");

    [Fact]
    public void ClientOverQueryBufferLimit_IsDisconnected()
    {
        using var server = new MiniRedisProcess();
        using var client = server.Connect();
        // Lowered after the client connected: limits apply to open connections.
        using (var admin = server.Connect())
            Assert.Equal("+OK\r\n"u8.ToArray(), admin.Call("CONFIG", "SET", "client-query-buffer-limit", "1mb"));
        // One unfinished 4 MB argument: the query buffer passes the 1 MB limit.
        client.Send("*2\r\n$3\r\nGET\r\n$4194304\r\n");
        var chunk = new byte[64 * 1024];
        try
        {
            for (int sent = 0; sent < 4 * MiB; sent += chunk.Length) client.Send(chunk);
        }
        catch (SocketException)
        {
            // Closed while sending: what the test expects.
        }
        Assert.Empty(client.ReadUntilClosed());
        AssertLogged(server, "Closing client that reached max query buffer length");
    }

    [Fact]
    public void ConfigSetTimeout_ClosesConnectionsAlreadyIdle()
    {
        foreach (var server in BothServers())
        {
            using (server)
            using (var idle = server.Connect())
            {
                Assert.Equal("+PONG\r\n"u8.ToArray(), idle.Call("PING"));
                using (var admin = server.Connect())
                    Assert.Equal("+OK\r\n"u8.ToArray(), admin.Call("CONFIG", "SET", "timeout", "1"));
                // Within the 10 s receive timeout the idle client must see end of file.
                Assert.Empty(idle.ReadUntilClosed());
            }
        }
    }

    /// <summary>
    /// The idle timeout spares clients that wait by design, as Redis does: a subscriber, a monitor and a
    /// client held by CLIENT PAUSE stay connected past it while a plain idle client is closed.
    /// </summary>
    [Fact]
    public void Timeout_SparesSubscribersMonitorsAndPausedClients()
    {
        foreach (var server in BothServers("--timeout", "1"))
        {
            using (server)
            using (var idle = server.Connect())
            using (var subscriber = server.Connect())
            using (var monitor = server.Connect())
            using (var paused = server.Connect())
            {
                Assert.Equal("+PONG\r\n"u8.ToArray(), idle.Call("PING"));
                subscriber.Call("SUBSCRIBE", "news");
                monitor.Send("MONITOR\r\n");
                Assert.Equal("+OK\r\n", monitor.ReadReply().Text);
                using (var admin = server.Connect()) admin.Call("CLIENT", "PAUSE", "100000", "WRITE");
                paused.Send("SET k v\r\n");
                Assert.Empty(idle.ReadUntilClosed());
                // Well past the timeout for the others too (the cron checks them in the same pass).
                Thread.Sleep(1500);
                using var late = server.Connect();
                late.Call("CLIENT", "UNPAUSE");
                Assert.Equal("+OK\r\n", paused.ReadReply().Text);
                Assert.Equal(":1\r\n"u8.ToArray(), late.Call("PUBLISH", "news", "hello"));
                var list = Encoding.ASCII.GetString(late.Call("CLIENT", "LIST"));
                Assert.True(4 == list.Split('\n').Count(line => line.StartsWith("id=", StringComparison.Ordinal)), list);
            }
        }
    }

    [Fact]
    public void ConnectionChurn_LeavesNoSocketsOpen()
    {
        using var server = new MiniRedisProcess();
        using (var warmUp = server.Connect()) warmUp.Call("PING");
        int fdsBefore = OpenFds(server);
        long rssBefore = server.ResidentBytes();
        int peak = fdsBefore;
        for (int i = 1; i <= 10_000; i++)
        {
            using (var client = server.Connect())
                Assert.Equal("+PONG\r\n"u8.ToArray(), client.Call("PING"));
            if (i % 250 == 0) peak = Math.Max(peak, OpenFds(server));
        }
        // The last closes may still be in flight.
        using (var last = server.Connect()) last.Call("PING");
        Wait.Until(() => OpenFds(server) <= fdsBefore + 10);
        int fdsAfter = OpenFds(server);

        Assert.InRange(peak, 0, fdsBefore + 50);
        Assert.InRange(fdsAfter, 0, fdsBefore + 10);
        Assert.InRange(server.ResidentBytes(), 0, rssBefore + 100L * MiB);
    }

    [Fact]
    public void PipelinedLargeReplies_AreDeliveredInFull()
    {
        using var server = new MiniRedisProcess();
        using var client = server.Connect();
        var value = new byte[MiB];
        Random.Shared.NextBytes(value);
        Assert.Equal("+OK\r\n"u8.ToArray(), client.Call([.. new[] { "SET"u8.ToArray(), "big"u8.ToArray(), value }]));
        const int gets = 200;
        var get = RespConnection.EncodeCommand([.. new[] { "GET", "big" }.Select(Encoding.ASCII.GetBytes)]);
        client.Send([.. Enumerable.Range(0, gets).SelectMany(_ => get)]);
        byte[] expected = [.. Encoding.ASCII.GetBytes($"${MiB}\r\n"), .. value, .. "\r\n"u8];
        for (int i = 0; i < gets; i++) Assert.Equal(expected, client.ReadReply().Raw);
    }

    [Fact]
    public void ClientOverOutputBufferLimit_IsClosed()
    {
        foreach (var server in BothServers("--client-output-buffer-limit", "normal 10mb 0 0"))
        {
            using (server)
            {
                using (var writer = server.Connect())
                    writer.Call([.. new[] { "SET"u8.ToArray(), "big"u8.ToArray(), new byte[MiB] }]);
                using var client = server.Connect();
                // 200 MB of replies to a client that reads nothing until it is closed.
                var get = RespConnection.EncodeCommand([.. new[] { "GET", "big" }.Select(Encoding.ASCII.GetBytes)]);
                client.Send([.. Enumerable.Range(0, 200).SelectMany(_ => get)]);
                Thread.Sleep(500);
                long received = client.ReadUntilClosed().Length;
                Assert.InRange(received, 0, 100L * MiB);
                using var other = server.Connect();
                Assert.Equal("+PONG\r\n"u8.ToArray(), other.Call("PING"));
                AssertLogged(server, "scheduled to be closed ASAP for overcoming of output buffer limits.");
            }
        }
    }

    [Fact]
    public void ConfigSetPort_ListensOnTheNewPort_AndAnswersRedissErrorWhenItIsTaken()
    {
        using var redis = new RealRedisProcess();
        using var mini = new MiniRedisProcess();
        using (var toRedis = redis.Connect())
        using (var toMini = mini.Connect())
        {
            // Each server's port is taken by the other.
            var expected = toRedis.Call("CONFIG", "SET", "port", mini.Port.ToString());
            Assert.StartsWith("-ERR CONFIG SET failed (possibly related to argument 'port')", Encoding.ASCII.GetString(expected));
            Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(toMini.Call("CONFIG", "SET", "port", redis.Port.ToString())));
            Assert.Equal(Encoding.ASCII.GetString(toRedis.Call("CONFIG", "SET", "bind", "192.0.2.1")),
                Encoding.ASCII.GetString(toMini.Call("CONFIG", "SET", "bind", "192.0.2.1")));
            Assert.Equal($"*2\r\n$4\r\nport\r\n${mini.Port.ToString().Length}\r\n{mini.Port}\r\n", Encoding.ASCII.GetString(toMini.Call("CONFIG", "GET", "port")));

            int newPort = ServerProcess.FreePort();
            Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(toMini.Call("CONFIG", "SET", "port", newPort.ToString())));
            // Open connections stay; new ones go to the new port only.
            Assert.Equal("+PONG\r\n"u8.ToArray(), toMini.Call("PING"));
            using (var moved = RespConnection.Open(newPort))
                Assert.Equal("+PONG\r\n"u8.ToArray(), moved.Call("PING"));
            Assert.Throws<SocketException>(() => RespConnection.Open(mini.Port).Dispose());
        }
    }

    [Fact]
    public void MaxClientsBeyondTheOpenFileLimit_IsLoweredAsRedisDoes()
    {
        const string requested = "2000000";
        using var redis = new RealRedisProcess("--maxclients", requested);
        using var mini = new MiniRedisProcess("--maxclients", requested);
        using var toRedis = redis.Connect();
        using var toMini = mini.Connect();
        var expected = toRedis.Call("CONFIG", "GET", "maxclients");
        Assert.NotEqual($"*2\r\n$10\r\nmaxclients\r\n$7\r\n{requested}\r\n", Encoding.ASCII.GetString(expected));
        Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(toMini.Call("CONFIG", "GET", "maxclients")));
        // At run time the same limit makes CONFIG SET fail with the value that would fit.
        Assert.Equal(Encoding.ASCII.GetString(toRedis.Call("CONFIG", "SET", "maxclients", requested)),
            Encoding.ASCII.GetString(toMini.Call("CONFIG", "SET", "maxclients", requested)));
        Assert.Equal(Encoding.ASCII.GetString(expected), Encoding.ASCII.GetString(toMini.Call("CONFIG", "GET", "maxclients")));
        AssertLogged(mini, "You requested maxclients of 2000000 requiring at least 2000032 max file descriptors.");
        AssertLogged(mini, "maxclients has been reduced to");
    }
}
