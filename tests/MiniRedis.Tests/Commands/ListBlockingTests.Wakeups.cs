using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// Keys that become ready by any way a key appears (RENAME, MOVE, COPY, SWAPDB, RESTORE, LMOVE, a
/// transaction) serve the clients blocked on them, as Redis's signalKeyAsReady in dbAdd does; a key of
/// another type than the one waited for leaves them waiting.
/// </summary>
public sealed partial class ListBlockingTests
{
    static string Call(RespConnection connection, params string[] args) => RespConnection.Escape(connection.Call(args));

    /// <summary>The bytes of a bulk reply ($len CRLF bytes CRLF).</summary>
    static byte[] BulkContent(byte[] reply)
    {
        int start = Array.IndexOf(reply, (byte)'\n') + 1;
        return reply[start..^2];
    }

    [Fact]
    public void Rename_onto_a_waited_key_serves_the_client()
    {
        OnBoth((server, _) =>
        {
            using var blocked = Block(server, 1, "BLPOP", "foo", "0");
            using var writer = server.Connect();
            writer.Call("RPUSH", "bob", "a", "b");
            Assert.Equal("\"+OK\\r\\n\"", Call(writer, "RENAME", "bob", "foo"));
            Assert.Equal(Bulks("foo", "a"), Reply(blocked));
            Assert.Equal(Bulks("b"), Call(writer, "LRANGE", "foo", "0", "-1"));
        });
    }

    [Fact]
    public void Move_copy_and_lmove_into_a_waited_key_serve_the_clients()
    {
        OnBoth((server, _) =>
        {
            using var first = Block(server, 1, "BLPOP", "moved", "0");
            using var second = Block(server, 2, "BRPOP", "copied", "0");
            using var third = Block(server, 3, "BLMOVE", "lmoved", "out", "LEFT", "RIGHT", "0");
            using var writer = server.Connect();
            writer.Call("SELECT", "1");
            writer.Call("RPUSH", "moved", "m");
            Assert.Equal("\":1\\r\\n\"", Call(writer, "MOVE", "moved", "0"));
            Assert.Equal(Bulks("moved", "m"), Reply(first));
            writer.Call("SELECT", "0");
            writer.Call("RPUSH", "src", "c1", "c2");
            Assert.Equal("\":1\\r\\n\"", Call(writer, "COPY", "src", "copied"));
            Assert.Equal(Bulks("copied", "c2"), Reply(second));
            Assert.Equal(Bulks("c1", "c2"), Call(writer, "LRANGE", "src", "0", "-1"));
            Assert.Equal("\"$2\\r\\nc1\\r\\n\"", Call(writer, "LMOVE", "src", "lmoved", "LEFT", "LEFT"));
            Assert.Equal("\"$2\\r\\nc1\\r\\n\"", Reply(third));
            Assert.Equal(Bulks("c1"), Call(writer, "LRANGE", "out", "0", "-1"));
            Assert.Equal(0, Wait.BlockedClients(server));
        });
    }

    [Fact]
    public void Swapdb_serves_clients_waiting_in_either_database()
    {
        OnBoth((server, _) =>
        {
            using var inZero = Block(server, 1, "BLPOP", "k", "0");
            using var inOne = server.Connect();
            inOne.Call("SELECT", "1");
            inOne.Send(RespConnection.EncodeCommand([.. new[] { "BZPOPMIN", "z", "0" }.Select(Encoding.UTF8.GetBytes)]));
            Wait.ForBlockedClients(server, 2);
            using var writer = server.Connect();
            writer.Call("SELECT", "1");
            writer.Call("RPUSH", "k", "x");
            writer.Call("SELECT", "0");
            writer.Call("ZADD", "z", "5", "m");
            Assert.Equal("\"+OK\\r\\n\"", Call(writer, "SWAPDB", "0", "1"));
            Assert.Equal(Bulks("k", "x"), Reply(inZero));
            Assert.Equal(Bulks("z", "m", "5"), Reply(inOne));
        });
    }

    [Fact]
    public void Restore_into_a_waited_key_serves_the_client()
    {
        OnBoth((server, _) =>
        {
            using var blocked = Block(server, 1, "BZPOPMAX", "restored", "0");
            using var writer = server.Connect();
            writer.Call("ZADD", "src", "1", "a", "2", "b");
            var payload = BulkContent(writer.Call("DUMP", "src"));
            Assert.Equal("\"+OK\\r\\n\"", RespConnection.Escape(writer.Call([.. new[] { "RESTORE", "restored", "0" }.Select(Encoding.UTF8.GetBytes), payload])));
            Assert.Equal(Bulks("restored", "b", "2"), Reply(blocked));
        });
    }

    [Fact]
    public void A_key_renamed_inside_a_transaction_is_served_after_exec()
    {
        OnBoth((server, _) =>
        {
            using var blocked = Block(server, 1, "BLPOP", "foo", "0");
            using var writer = server.Connect();
            writer.Send("MULTI\r\nRPUSH bob a\r\nRENAME bob foo\r\nLLEN foo\r\nEXEC\r\n");
            for (int i = 0; i < 4; i++) writer.ReadReply();
            Assert.Equal("\"*3\\r\\n:1\\r\\n+OK\\r\\n:1\\r\\n\"", writer.ReadReply().ToString());
            Assert.Equal(Bulks("foo", "a"), Reply(blocked));
        });
    }

    [Fact]
    public void A_key_of_another_type_leaves_the_client_waiting()
    {
        OnBoth((server, _) =>
        {
            using var blocked = Block(server, 1, "BLPOP", "foo", "0");
            using var writer = server.Connect();
            writer.Call("ZADD", "z", "1", "a");
            writer.Call("RENAME", "z", "foo");
            writer.Call("SET", "s", "v");
            writer.Call("COPY", "s", "foo", "REPLACE");
            Assert.Equal(1, Wait.BlockedClients(server));
            writer.Call("DEL", "foo");
            writer.Call("RPUSH", "l", "x");
            writer.Call("RENAME", "l", "foo");
            Assert.Equal(Bulks("foo", "x"), Reply(blocked));
        });
    }
}
