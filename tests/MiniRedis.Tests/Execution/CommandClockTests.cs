using System.Net;
using System.Net.Sockets;
using System.Text;
using MiniRedis.Config;
using MiniRedis.Networking;

namespace MiniRedis.Tests.Execution;

/// <summary>
/// Inside a pipelined batch a command's clock reading is the end of the command before it (one read per
/// command): a fast command after a slow one is timed from the slow one's end, not from the batch's start,
/// and a command after the batch reads the clock afresh.
/// </summary>
[Trait("Category", "Process")]
public sealed class CommandClockTests : IAsyncDisposable
{
    readonly RedisServer _server;
    readonly Listener _listener;
    readonly Socket _socket;

    public CommandClockTests()
    {
        _server = new RedisServer(ServerConfig.Parse("port 0\nsave \"\"\nenable-debug-command yes\nslowlog-log-slower-than 1000000"));
        _server.Start();
        _listener = new Listener(_server.Host);
        _listener.Start();
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
        _socket.Connect(IPAddress.Loopback, _listener.Endpoints[0].Port);
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _listener.DisposeAsync();
        _server.Stop();
    }

    static byte[] Commands(params string[][] commands)
    {
        var text = new StringBuilder();
        foreach (var args in commands)
        {
            text.Append('*').Append(args.Length).Append("\r\n");
            foreach (var arg in args) text.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Sends the commands in one write (one batch) and reads until the replies end with <paramref name="end"/>.</summary>
    string Exchange(string end, params string[][] commands)
    {
        _socket.Send(Commands(commands));
        var received = new StringBuilder();
        var buffer = new byte[64 * 1024];
        while (!received.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            int n;
            try
            {
                n = _socket.Receive(buffer);
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"No reply ending with {end} after {received}", e);
            }
            if (n == 0) break;
            received.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }
        return received.ToString();
    }

    [Fact]
    public void A_fast_command_after_a_slow_one_in_the_same_batch_is_not_timed_with_it()
    {
        Assert.Equal("+OK\r\n+OK\r\n+PONG\r\n+OK\r\n:1\r\n",
            Exchange("+OK\r\n+OK\r\n+PONG\r\n+OK\r\n:1\r\n", ["SLOWLOG", "RESET"], ["DEBUG", "SLEEP", "2"], ["PING"], ["SET", "k", "v"], ["SLOWLOG", "LEN"]));
        // Only DEBUG SLEEP (2 s) passed the 1 s threshold; the commands after it (and the next batch) did not, which they
        // would if their time started where the batch did. The margin leaves a loaded machine's preemptions far below it.
        Assert.Equal(":1\r\n", Exchange(":1\r\n", ["SLOWLOG", "LEN"]));
        // The entry's client name (empty) ends it.
        var entry = Exchange("$0\r\n\r\n", ["SLOWLOG", "GET"]);
        Assert.StartsWith("*1\r\n", entry, StringComparison.Ordinal);
        Assert.Contains("$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$1\r\n2\r\n", entry, StringComparison.Ordinal);
    }

    [Fact]
    public void Commandstats_count_each_command_of_a_batch_once()
    {
        Exchange("+OK\r\n+OK\r\n+OK\r\n+OK\r\n", ["CONFIG", "RESETSTAT"], ["SET", "a", "1"], ["SET", "b", "2"], ["SET", "c", "3"]);
        var info = Exchange("\r\n\r\n", ["INFO", "commandstats"]);
        Assert.Contains("cmdstat_set:calls=3,", info, StringComparison.Ordinal);
    }
}
