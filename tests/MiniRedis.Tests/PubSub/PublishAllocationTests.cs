using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.PubSub;

/// <summary>
/// PUBLISH delivers into the subscribers' reply buffers without allocating per message in steady
/// state: to channel subscribers (RESP2 arrays, RESP3 pushes), to pattern subscribers, and to many.
/// </summary>
[Trait("Category", "Unit")]
public sealed class PublishAllocationTests : IDisposable
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
}
