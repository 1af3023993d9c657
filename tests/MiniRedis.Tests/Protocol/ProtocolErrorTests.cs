using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Protocol;

/// <summary>
/// Malformed requests over a real socket: MiniRedis must send exactly what Redis sends (replies to
/// the good commands before the error, then the error) and close the connection.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ProtocolErrorTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    public static TheoryData<string, string> MalformedRequests => new()
    {
        { "invalid-multibulk-length", "*abc\r\n" },
        { "multibulk-count-over-int-max", "*2147483648\r\n" },
        { "invalid-bulk-length", "*1\r\n$abc\r\n" },
        { "negative-bulk-length", "*2\r\n$3\r\nGET\r\n$-1\r\n" },
        { "bulk-over-512mb", "*2\r\n$3\r\nSET\r\n$536870913\r\n" },
        { "expected-dollar", "*1\r\nx3\r\n" },
        { "unbalanced-double-quote", "SET \"abc\r\n" },
        { "unbalanced-single-quote", "SET 'abc'x\r\n" },
        { "too-big-inline", new string('a', 70_000) },
        { "too-big-mbulk-count", "*" + new string('1', 70_000) },
        { "too-big-bulk-count", "*1\r\n$" + new string('1', 70_000) },
        { "empty-bulk-length-line", "*1\r\n\r\n" },
        { "nul-hides-inline-line-end", "\0\r\n" + new string('a', 70_000) },
        { "nul-hides-bulk-line-end", "*1\r\n$4\0\r\n" + new string('a', 70_000) },
    };

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public void Error_reply_and_close_match_real_redis(string name, string malformed)
    {
        // The first commands share the malformed request's packet; they must still run.
        var request = Encoding.Latin1.GetBytes($"*3\r\n$3\r\nSET\r\n$6\r\nbefore\r\n${name.Length}\r\n{name}\r\nPING\r\n{malformed}");
        var expected = SendAndReadUntilClosed(servers.Redis, request);
        var actual = SendAndReadUntilClosed(servers.Mini, request);
        Assert.StartsWith("+OK\r\n+PONG\r\n-ERR Protocol error: ", Encoding.Latin1.GetString(expected));
        Assert.Equal(RespConnection.Escape(expected), RespConnection.Escape(actual));

        using var check = servers.Mini.Connect();
        Assert.Equal(RespConnection.Escape(Encoding.Latin1.GetBytes($"${name.Length}\r\n{name}\r\n")), RespConnection.Escape(check.Call("GET", "before")));
    }

    static byte[] SendAndReadUntilClosed(ServerProcess server, byte[] request)
    {
        using var connection = server.Connect();
        connection.Send(request);
        return connection.ReadUntilClosed();
    }

    [Fact]
    public void NUL_before_the_line_end_leaves_the_connection_waiting_like_Redis()
    {
        foreach (var server in new ServerProcess[] { servers.Redis, servers.Mini })
        {
            using var connection = RespConnection.Open(server.Port, receiveTimeoutMs: 500);
            connection.Send("\0\r\nPING\r\n");
            Assert.Throws<TimeoutException>(() => connection.ReadReply());
            using var other = server.Connect();
            Assert.Equal("+PONG\r\n", Encoding.Latin1.GetString(other.Call("PING")));
        }
    }

    [Fact]
    public void Config_set_limits_apply_to_connections_already_open()
    {
        foreach (var server in new ServerProcess[] { servers.Redis, servers.Mini })
        {
            using var open = server.Connect();
            using var admin = server.Connect();
            open.Call("PING");
            try
            {
                admin.Call("CONFIG", "SET", "proto-max-bulk-len", "1048576");
                open.Send("*2\r\n$4\r\nECHO\r\n$1048577\r\n");
                Assert.Equal("-ERR Protocol error: invalid bulk length\r\n", Encoding.Latin1.GetString(open.ReadUntilClosed()));
            }
            finally
            {
                admin.Call("CONFIG", "SET", "proto-max-bulk-len", "536870912");
            }

            using var buffering = server.Connect();
            buffering.Call("PING");
            try
            {
                admin.Call("CONFIG", "SET", "client-query-buffer-limit", "1048576");
                // A 2 MB bulk arriving: the client is closed without a reply once it holds over 1 MB.
                buffering.Send("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$2097152\r\n" + new string('x', 1_500_000));
                Assert.Empty(buffering.ReadUntilClosed());
            }
            finally
            {
                admin.Call("CONFIG", "SET", "client-query-buffer-limit", "1073741824");
            }
        }
    }

    [Fact]
    public void Announced_100MB_bulk_is_not_allocated_before_its_bytes_arrive()
    {
        var server = servers.Mini;
        using var probe = server.Connect();
        probe.Call("PING");
        long before = server.ResidentBytes();

        using var connection = server.Connect();
        string id = Encoding.Latin1.GetString(connection.Call("CLIENT", "ID"))[1..^2];
        connection.Send("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$104857600\r\nonly a few bytes");
        // The announcement was parsed (where a buffer for it would be allocated) once the server holds the
        // connection's bytes as unparsed (CLIENT LIST qbuf); a reply on another connection shows it still serves.
        Assert.True(Wait.Until(() => !Encoding.Latin1.GetString(probe.Call("CLIENT", "LIST", "ID", id)).Contains(" qbuf=0 ", StringComparison.Ordinal)),
            "the server did not read the announced bulk");
        Assert.Equal("+PONG\r\n", Encoding.Latin1.GetString(probe.Call("PING")));
        long growth = server.ResidentBytes() - before;
        Assert.True(growth < 32L * 1024 * 1024, $"RSS grew by {growth / 1024 / 1024} MB while a 100 MB bulk was only announced");
        Assert.Equal("$-1\r\n", Encoding.Latin1.GetString(probe.Call("GET", "big")));
    }
}
