using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Protocol;

/// <summary>
/// Both servers with a password, so new clients must AUTH. It is set once they answer, as the
/// readiness check's PING would be refused.
/// </summary>
public sealed class PasswordServerPair : ServerPairFixture
{
    public PasswordServerPair()
    {
        foreach (var server in new ServerProcess[] { Redis, Mini })
        {
            using var connection = server.Connect();
            Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(connection.Call("CONFIG", "SET", "requirepass", "pw")));
        }
    }
}

/// <summary>
/// Redis's protocol limits for clients that have not authenticated (10 arguments, 16 KB bulks):
/// the same replies, the same close, and AUTH earlier in the same packet lifting them.
/// </summary>
[Trait("Category", "Differential")]
public sealed class UnauthenticatedLimitsTests(PasswordServerPair servers) : IClassFixture<PasswordServerPair>
{
    static string Multibulk(params string[] args) => $"*{args.Length}\r\n" + string.Concat(args.Select(a => $"${a.Length}\r\n{a}\r\n"));

    static readonly string[] ElevenArgs = ["MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"];

    public static TheoryData<string, string> Requests => new()
    {
        { "eleven-arguments", "*11\r\n" },
        { "bulk-over-16k", "*1\r\n$16385\r\n" },
        { "ten-arguments-of-16k", Multibulk(["DEL", .. Enumerable.Repeat(new string('a', 16384), 9)]) + "QUIT\r\n" },
        { "wrong-password-then-eleven", Multibulk("AUTH", "xx") + "*11\r\n" },
        { "noauth-then-eleven", "PING\r\n*11\r\n" },
        { "negative-count-then-eleven", "*-5\r\n*11\r\n" },
        { "auth-lifts-the-count-limit", "AUTH pw\r\n" + Multibulk(ElevenArgs) + "QUIT\r\n" },
        { "auth-lifts-the-bulk-limit", Multibulk("AUTH", "pw") + Multibulk("ECHO", new string('e', 20_000)) + "QUIT\r\n" },
        { "auth-with-user-lifts-the-limits", Multibulk("AUTH", "default", "pw") + Multibulk(ElevenArgs) + "QUIT\r\n" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void Replies_and_close_match_real_redis(string name, string request)
    {
        var expected = SendAndReadUntilClosed(servers.Redis, request);
        var actual = SendAndReadUntilClosed(servers.Mini, request);
        Assert.True(expected.Length > 0, name);
        Assert.Equal(RespConnection.Escape(expected), RespConnection.Escape(actual));
    }

    static byte[] SendAndReadUntilClosed(ServerProcess server, string request)
    {
        using var connection = server.Connect();
        connection.Send(Encoding.Latin1.GetBytes(request));
        return connection.ReadUntilClosed();
    }
}
