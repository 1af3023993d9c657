using System.Net;
using System.Net.Sockets;
using System.Text;
using MiniRedis.Config;
using MiniRedis.Networking;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Networking;

/// <summary>
/// The event loop that reads the plain client sockets: many clients whose pipelines one wait finds
/// ready run in shared rounds and each gets its own replies in order; a command longer than one read
/// is assembled across reads; a client that half-closes gets its replies before the end of stream.
/// A request read whole while the client's read loop waits drained is taken straight from the loop's
/// buffer (no pipe); a partial one goes to the pipe, and the two ways never reorder a client's commands.
/// A client that takes the loop's slot of a closed one reads only its own.
/// </summary>
[Trait("Category", "Process")]
public sealed class SocketEventLoopTests : IAsyncDisposable
{
    readonly RedisServer _server;
    readonly Listener _listener;
    readonly int _port;

    public SocketEventLoopTests()
    {
        _server = new RedisServer(ServerConfig.Parse("port 0\nsave \"\""));
        _server.Start();
        _listener = new Listener(_server.Host);
        _listener.Start();
        _port = _listener.Endpoints[0].Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
        _server.Stop();
    }

    Socket Connect()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
        socket.Connect(IPAddress.Loopback, _port);
        return socket;
    }

    static byte[] Command(params string[] args)
    {
        var text = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args) text.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Reads until <paramref name="expected"/> bytes arrived (or the stream ended) and returns them.</summary>
    static byte[] Receive(Socket socket, int expected)
    {
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (received.Length < expected)
        {
            int n = socket.Receive(buffer);
            if (n == 0) break;
            received.Write(buffer, 0, n);
        }
        return received.ToArray();
    }

    [Fact]
    public async Task Concurrent_pipelines_each_get_their_own_replies_in_order()
    {
        const int clients = 20, commands = 300;
        var sockets = Enumerable.Range(0, clients).Select(_ => Connect()).ToArray();
        try
        {
            var expected = new byte[clients][];
            for (int c = 0; c < clients; c++)
            {
                var pipeline = new MemoryStream();
                var replies = new StringBuilder();
                for (int i = 1; i <= commands; i++)
                {
                    pipeline.Write(Command("INCR", $"counter:{c}"));
                    replies.Append(':').Append(i).Append("\r\n");
                }
                expected[c] = Encoding.ASCII.GetBytes(replies.ToString());
                sockets[c].Send(pipeline.ToArray());
            }
            var received = await Task.WhenAll(sockets.Select((s, c) => Task.Run(() => Receive(s, expected[c].Length))));
            for (int c = 0; c < clients; c++) Assert.Equal(expected[c], received[c]);
        }
        finally
        {
            foreach (var socket in sockets) socket.Dispose();
        }
    }

    /// <summary>CLIENT LIST's qbuf of the client named <paramref name="name"/>.</summary>
    static long QueryBuffer(RespConnection admin, string name)
    {
        var list = Encoding.ASCII.GetString(admin.Call("CLIENT", "LIST"));
        var line = list.Split('\n').Single(l => l.Contains($" name={name} ", StringComparison.Ordinal));
        var field = line.Split(' ').Single(f => f.StartsWith("qbuf=", StringComparison.Ordinal));
        return long.Parse(field["qbuf=".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Whole_requests_and_split_ones_alternate_in_order()
    {
        using var socket = Connect();
        using var admin = RespConnection.Open(_port);
        socket.Send(Command("CLIENT", "SETNAME", "splitter"));
        Assert.Equal("+OK\r\n"u8.ToArray(), Receive(socket, 5));
        long expected = 0;
        for (int round = 0; round < 20; round++)
        {
            // Whole: read straight from the loop's buffer.
            socket.Send(Command("INCR", "n"));
            Assert.Equal(Encoding.ASCII.GetBytes($":{++expected}\r\n"), Receive(socket, $":{expected}\r\n".Length));
            // Split: the first part waits in the pipe (qbuf shows it), then the rest comes with a whole command behind it.
            var split = Command("INCR", "n");
            // Inside a line, so the part is never all consumed (qbuf counts what is left of it and the open command's arguments).
            int cut = 1 + round % (split.Length - 2);
            if (split[cut - 1] == (byte)'\n') cut++;
            socket.Send(split.AsSpan(0, cut));
            Assert.True(Wait.Until(() => QueryBuffer(admin, "splitter") > 0), "the partial command never showed in qbuf");
            socket.Send([.. split.AsSpan(cut), .. Command("INCR", "n")]);
            var replies = $":{expected + 1}\r\n:{expected + 2}\r\n";
            expected += 2;
            Assert.Equal(Encoding.ASCII.GetBytes(replies), Receive(socket, replies.Length));
        }
        socket.Send(Command("GET", "n"));
        var last = $"${expected.ToString(System.Globalization.CultureInfo.InvariantCulture).Length}\r\n{expected}\r\n";
        Assert.Equal(Encoding.ASCII.GetBytes(last), Receive(socket, last.Length));
    }

    [Fact]
    public void A_request_sent_just_before_the_client_goes_away_still_runs()
    {
        for (int i = 1; i <= 20; i++)
        {
            using (var socket = Connect())
            {
                socket.Send(Command("INCR", "left"));
                socket.Close(0);
            }
        }
        using var checker = RespConnection.Open(_port);
        Assert.True(Wait.Until(() => checker.Call("GET", "left").SequenceEqual("$2\r\n20\r\n"u8.ToArray())), "not every request of the departed clients ran");
    }

    [Fact]
    public void Clients_that_take_the_places_of_closed_ones_each_get_their_own_replies()
    {
        // 100 clients (past the loop's first 64 slots: its table grows), every other one closes, 100 more take the freed slots.
        var first = Enumerable.Range(0, 100).Select(_ => Connect()).ToList();
        var open = new List<(Socket Socket, string Name)>();
        try
        {
            for (int i = 0; i < first.Count; i++)
            {
                if (i % 2 == 0) first[i].Close(0);
                else open.Add((first[i], $"first:{i}"));
            }
            for (int i = 0; i < 100; i++) open.Add((Connect(), $"second:{i}"));
            for (int round = 0; round < 3; round++)
            {
                foreach (var (socket, name) in open) socket.Send(Command("ECHO", $"{name}:{round}"));
                foreach (var (socket, name) in open)
                {
                    var reply = $"${name.Length + 2}\r\n{name}:{round}\r\n";
                    Assert.Equal(reply, Encoding.ASCII.GetString(Receive(socket, reply.Length)));
                }
            }
        }
        finally
        {
            foreach (var socket in first) socket.Dispose();
            foreach (var (socket, _) in open) socket.Dispose();
        }
    }

    [Fact]
    public void A_command_longer_than_one_read_is_assembled_across_reads()
    {
        using var socket = Connect();
        string value = new('v', 200_000);
        socket.Send([.. Command("SET", "big", value), .. Command("STRLEN", "big")]);
        Assert.Equal("+OK\r\n:200000\r\n"u8.ToArray(), Receive(socket, 14));
    }

    /// <summary>What the event loop's thread has allocated so far, read there.</summary>
    Task<long> LoopAllocatedBytes()
    {
        var loop = _listener.EventLoop!;
        var bytes = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.ToLoopThread().UnsafeOnCompleted(() => bytes.SetResult(GC.GetAllocatedBytesForCurrentThread()));
        return bytes.Task;
    }

    [Fact]
    public async Task A_pipeline_resumed_after_its_batches_were_held_is_read_without_piling_up()
    {
        // Elsewhere (not Linux x64) connections read through the socket engine.
        if (_listener.EventLoop is null) return;
        // The client's BLPOP blocks, so the pipeline behind it fills both batches and waits for one; the
        // executor gives them back when the block ends, which resumed the read loop on the thread pool. From
        // there it parsed and ran the commands while the loop read the rest into the pipe, where it piled up
        // in new segments and buffers (5 MB); on the loop's thread, the pipe's buffers are reused.
        const int commands = 200_000;
        using var socket = Connect();
        using var admin = RespConnection.Open(_port);
        var pipeline = new MemoryStream();
        for (int i = 0; i < commands; i++) pipeline.Write(Command("SET", "k", "v"));
        var stream = pipeline.ToArray();
        const string popped = "*2\r\n$4\r\nlist\r\n$1\r\nx\r\n";
        int expected = popped.Length + commands * "+OK\r\n".Length;

        async Task StreamBehindABlockedCommand()
        {
            socket.Send(Command("BLPOP", "list", "0"));
            Wait.ForBlockedClients(admin, 1);
            long input = admin.InfoNumber("stats", "total_net_input_bytes");
            var replies = Task.Run(() => Receive(socket, expected));
            var sent = Task.Run(() => socket.Send(stream));
            Assert.True(Wait.Until(() => admin.InfoNumber("stats", "total_net_input_bytes") > input + 8 * 1024), "the pipeline never reached the server");
            admin.Call("LPUSH", "list", "x");
            Assert.Equal(expected, (await replies).Length);
            await sent;
        }

        // Twice first: each of the two batches grows once to what was read ahead while they were held.
        await StreamBehindABlockedCommand();
        await StreamBehindABlockedCommand();
        long before = await LoopAllocatedBytes();
        await StreamBehindABlockedCommand();
        long allocated = await LoopAllocatedBytes() - before;
        Assert.True(allocated < commands, $"the loop's thread allocated {allocated} bytes for {commands} commands");
    }

    [Fact]
    public void A_half_closed_client_gets_its_replies_then_the_end_of_stream()
    {
        using var socket = Connect();
        socket.Send([.. Command("SET", "k", "v"), .. Command("GET", "k")]);
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("+OK\r\n$1\r\nv\r\n"u8.ToArray(), Receive(socket, int.MaxValue));
    }
}
