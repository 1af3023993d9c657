using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.PubSub;

/// <summary>
/// PUBLISH's delivery path: it writes into the subscribers' reply buffers without allocating per
/// message in steady state (channel subscribers in RESP2 and RESP3, pattern subscribers, many
/// subscribers), and the end of the round sends the replies of the clients whose commands ran before
/// the output of those that only received messages, as Redis writes its pending clients newest first:
/// a pipelined publisher is answered before its subscribers are written to. Patterns are filtered on
/// their first literal bytes before the full match: the filter never drops a pattern that matches.
/// </summary>
[Trait("Category", "Unit")]
public sealed class PublishDeliveryTests : IDisposable
{
    readonly RedisServer _server = InProcessClient.StartServer();

    public void Dispose() => _server.Stop();

    /// <summary>Subscribers made with <paramref name="setup"/>, then what 10,000 PUBLISH calls allocate; each subscriber's messages are cleared after a call (sent).</summary>
    long AllocatedBy10000Publishes(int subscribers, params string[] setup)
    {
        var receivers = new List<InProcessClient>();
        for (int i = 0; i < subscribers; i++)
        {
            var subscriber = new InProcessClient(_server);
            foreach (var line in setup) subscriber.Run(line);
            receivers.Add(subscriber);
        }
        var publisher = new InProcessClient(_server);
        int delivered = 0;
        long allocated = AllocationProbe.BytesFor10000Calls(_server, publisher, () =>
        {
            foreach (var subscriber in receivers)
            {
                if (subscriber.Session.Reply.Length > 0) delivered++;
                subscriber.Session.Reply.Clear();
            }
        }, "PUBLISH", "news.1", "hello-world");
        // Every call reached every subscriber (1,000 warm-up calls, then the 10,000 measured).
        Assert.Equal(11_000 * subscribers, delivered);
        return allocated;
    }

    [Theory]
    [InlineData(1, "", "SUBSCRIBE news.1")]
    [InlineData(1, "HELLO 3", "SUBSCRIBE news.1")]
    [InlineData(1, "", "PSUBSCRIBE news.*")]
    [InlineData(50, "", "SUBSCRIBE news.1")]
    public void Publish_to_subscribers_allocates_nothing_per_message(int subscribers, string hello, string subscribe)
    {
        string[] setup = hello.Length > 0 ? [hello, subscribe] : [subscribe];
        long allocated = AllocatedBy10000Publishes(subscribers, setup);
        Assert.True(allocated < 10_000, $"10,000 PUBLISH calls to {subscribers} subscriber(s) ({hello} {subscribe}) allocated {allocated} bytes");
    }

    [Fact]
    public void A_publisher_is_answered_before_its_subscribers_are_written_to()
    {
        var events = new RecordingDisk();
        var subscriber = new RecordingConnection(_server, events, "subscriber");
        var publisher = new RecordingConnection(_server, events, "publisher");
        _server.Executor.InvokeAsync(() => _server.PubSub.Channels.Subscribe(subscriber.Session, "news"u8.ToArray())).GetAwaiter().GetResult();

        Assert.Equal([":1\r\n", ":1\r\n"], publisher.Pipeline(["PUBLISH", "news", "a"], ["PUBLISH", "news", "b"]));

        Assert.Equal("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$1\r\na\r\n*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$1\r\nb\r\n", subscriber.TakeSent());
        // Both sends happened in the round that ran the batch, the subscriber's last.
        Assert.Equal(["publisher", "subscriber"], events.Events);
    }

    [Fact]
    public void Pattern_subscribers_receive_exactly_what_the_glob_matcher_matches()
    {
        // Prefixes shorter and longer than the 8-byte filter, none at all, escapes, a zero byte, classes
        // (written as redis-cli quotes them: \x00 is a zero byte, \\ one backslash).
        string[] patterns = ["*", "a", "a*", "abcdefgh", "abcdefgh*", "abcdefghi*", "abcdefghij", "ab\\x00*", "\\\\*x", "a?c", "[ab]bc", "news.*", "n", "?"];
        string[] channels = ["", "a", "ab", "ab\\x00", "ab\\x00z", "abc", "bbc", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghij", "abcdefghijk", "*x", "news.1", "n"];
        var subscribers = patterns.Select(pattern =>
        {
            var client = new InProcessClient(_server);
            client.Run($"PSUBSCRIBE \"{pattern}\"");
            return client;
        }).ToArray();
        var publisher = new InProcessClient(_server);
        void AssertDeliveries(IEnumerable<string> active)
        {
            foreach (var channel in channels)
            {
                var bytes = Unescape(channel);
                int expected = active.Count(pattern => MiniRedis.Data.GlobPattern.Match(Unescape(pattern), bytes));
                Assert.Equal($":{expected}\r\n", publisher.Run($"PUBLISH \"{channel}\" m"));
            }
        }
        AssertDeliveries(patterns);
        // Leaving moves the last pattern into the hole, with its prefix.
        for (int i = 0; i < patterns.Length; i += 3) subscribers[i].Run("PUNSUBSCRIBE");
        AssertDeliveries(patterns.Where((_, i) => i % 3 != 0));
    }

    /// <summary>The bytes redis-cli quoting gives: \x00 is a zero byte, \\ a backslash.</summary>
    static byte[] Unescape(string text) => System.Text.Encoding.Latin1.GetBytes(text.Replace("\\x00", "\0").Replace("\\\\", "\\"));
}
