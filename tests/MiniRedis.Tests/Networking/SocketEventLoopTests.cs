using System.Net;
using System.Net.Sockets;
using System.Text;
using MiniRedis.Config;
using MiniRedis.Networking;

namespace MiniRedis.Tests.Networking;

/// <summary>
/// The event loop that reads the plain client sockets: many clients whose pipelines one wait finds
/// ready run in shared rounds and each gets its own replies in order; a command longer than one read
/// is assembled across reads; a client that half-closes gets its replies before the end of stream.
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

    [Fact]
    public void A_command_longer_than_one_read_is_assembled_across_reads()
    {
        using var socket = Connect();
        string value = new('v', 200_000);
        socket.Send([.. Command("SET", "big", value), .. Command("STRLEN", "big")]);
        Assert.Equal("+OK\r\n:200000\r\n"u8.ToArray(), Receive(socket, 14));
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
