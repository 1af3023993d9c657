using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.PubSub;

/// <summary>
/// The end of a round sends the replies of the clients whose commands ran before the output of those
/// that only received messages, as Redis writes its pending clients newest first: a pipelined
/// publisher is answered before its subscribers are written to.
/// </summary>
[Trait("Category", "Unit")]
public sealed class DeliveryOrderTests : IDisposable
{
    readonly RedisServer _server = InProcessClient.StartServer();

    public void Dispose() => _server.Stop();

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
}
