using MiniRedis.Data;

namespace MiniRedis.Execution;

/// <summary>
/// A client's own subscriptions (Redis's c->pubsub_channels, c->pubsub_patterns, c->pubsubshard_channels):
/// part of its session, kept by PubSub.PubSubHub.
/// </summary>
public sealed class ClientSubscriptions
{
    public HashSet<byte[]> Channels { get; } = new(ByteArrayComparer.Instance);
    public HashSet<byte[]> Patterns { get; } = new(ByteArrayComparer.Instance);
    public HashSet<byte[]> ShardChannels { get; } = new(ByteArrayComparer.Instance);

    /// <summary>Channels plus patterns: the count SUBSCRIBE and PSUBSCRIBE replies show (Redis's clientSubscriptionsCount).</summary>
    public int Count => Channels.Count + Patterns.Count;

    /// <summary>Everything, shard channels included: while above zero the client is in subscribed mode.</summary>
    public int Total => Count + ShardChannels.Count;
}
