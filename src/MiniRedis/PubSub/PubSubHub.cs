using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.PubSub;

/// <summary>
/// Redis's pubsub.c: who listens to which channel, pattern and shard channel, and delivery of
/// published messages into the subscribers' reply buffers. Both sides are indexed as Redis does
/// (server: channel → clients in subscription order; client: its own sets), so a PUBLISH costs one
/// lookup plus one pattern test per subscribed pattern, and a disconnect frees exactly what its
/// client held. Delivered messages go out with the round's replies: the executor is told which
/// sessions received something. Runs on the executor thread only.
/// </summary>
public sealed class PubSubHub
{
    static readonly byte[] MessageKind = "$7\r\nmessage\r\n"u8.ToArray();
    static readonly byte[] PatternMessageKind = "$8\r\npmessage\r\n"u8.ToArray();
    static readonly byte[] ShardMessageKind = "$8\r\nsmessage\r\n"u8.ToArray();

    readonly Executor _executor;
    readonly Dictionary<byte[], PatternSubscribers> _patternsByText = new(ByteArrayComparer.Instance);
    // The same patterns as a dense array, walked by every PUBLISH; removal swaps the last one in.
    PatternSubscribers[] _patterns = [];
    // Beside it, each pattern's first literal bytes: most patterns fail on them without a look at the pattern itself.
    PatternPrefix[] _prefixes = [];
    int _patternCount;
    // A published message's channel and payload bulks, encoded once and copied to every receiver.
    readonly ReplyBuffer _body = new();

    internal PubSubHub(Executor executor) => _executor = executor;

    /// <summary>Global channels (SUBSCRIBE, PUBLISH).</summary>
    public ChannelSpace Channels { get; } = new(shard: false);

    /// <summary>Shard channels (SSUBSCRIBE, SPUBLISH): a space of their own, as in Redis.</summary>
    public ChannelSpace ShardChannels { get; } = new(shard: true);

    /// <summary>Patterns with at least one subscriber (INFO pubsub_patterns, PUBSUB NUMPAT).</summary>
    public int PatternCount => _patternCount;

    /// <summary>Adds <paramref name="pattern"/> to the client's patterns; false when it already had it.</summary>
    public bool SubscribePattern(ClientSession client, byte[] pattern)
    {
        var own = client.Subscriptions ??= new ClientSubscriptions();
        if (!own.Patterns.Add(pattern)) return false;
        if (!_patternsByText.TryGetValue(pattern, out var entry))
        {
            entry = new PatternSubscribers(pattern, _patternCount);
            _patternsByText[pattern] = entry;
            if (_patternCount == _patterns.Length)
            {
                Array.Resize(ref _patterns, Math.Max(16, _patternCount * 2));
                Array.Resize(ref _prefixes, _patterns.Length);
            }
            _prefixes[_patternCount] = PatternPrefix.Of(pattern, entry.LiteralPrefix);
            _patterns[_patternCount++] = entry;
        }
        entry.Clients.Add(client);
        return true;
    }

    /// <summary>Removes <paramref name="pattern"/> from the client's patterns; false when it did not have it.</summary>
    public bool UnsubscribePattern(ClientSession client, byte[] pattern)
    {
        if (client.Subscriptions is not { } own || !own.Patterns.Remove(pattern)) return false;
        var entry = _patternsByText[pattern];
        entry.Clients.Remove(client);
        if (entry.Clients.Count == 0)
        {
            _patternsByText.Remove(pattern);
            var last = _patterns[--_patternCount];
            _patterns[entry.Index] = last;
            _prefixes[entry.Index] = _prefixes[_patternCount];
            last.Index = entry.Index;
            _patterns[_patternCount] = null!;
        }
        ForgetIfEmpty(client);
        return true;
    }

    /// <summary>
    /// Delivers <paramref name="message"/> to the subscribers of <paramref name="channel"/> and of every
    /// pattern matching it (Redis's pubsubPublishMessage); returns how many receptions there were.
    /// </summary>
    public int Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        var direct = Channels.SubscribersOf(channel);
        if (direct is null && _patternCount == 0) return 0;
        var body = EncodeBody(channel, message);
        int receivers = 0;
        if (direct is not null)
        {
            foreach (var client in direct) Deliver(client, 3, MessageKind, default, body);
            receivers += direct.Count;
        }
        ulong head = PatternPrefix.Head(channel);
        for (int i = 0; i < _patternCount; i++)
        {
            if ((head & _prefixes[i].Mask) != _prefixes[i].Bytes) continue;
            var entry = _patterns[i];
            if (!entry.Matches(channel)) continue;
            foreach (var client in entry.Clients) Deliver(client, 4, PatternMessageKind, entry.Pattern, body);
            receivers += entry.Clients.Count;
        }
        _body.Clear();
        return receivers;
    }

    /// <summary>SPUBLISH: delivers to the shard channel's subscribers only (patterns do not see shard messages).</summary>
    public int PublishShard(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        if (ShardChannels.SubscribersOf(channel) is not { } clients) return 0;
        var body = EncodeBody(channel, message);
        foreach (var client in clients) Deliver(client, 3, ShardMessageKind, default, body);
        _body.Clear();
        return clients.Count;
    }

    ReadOnlySpan<byte> EncodeBody(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        _body.Bulk(channel);
        _body.Bulk(message);
        return _body.ContiguousSpan();
    }

    /// <summary>Writes one message frame (a RESP3 push, or a RESP2 array) and has the client's replies sent this round.</summary>
    void Deliver(ClientSession client, int elements, byte[] kind, ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> body)
    {
        var reply = client.Reply;
        reply.PushHeader(elements);
        reply.Raw(kind);
        if (elements == 4) reply.Bulk(pattern);
        reply.Raw(body);
        _executor.MarkReplies(client);
    }

    /// <summary>Drops every subscription of a client without replying (disconnect, RESET).</summary>
    public void UnsubscribeAll(ClientSession client)
    {
        if (client.Subscriptions is not { } own) return;
        foreach (var channel in own.Channels.ToArray()) Channels.Unsubscribe(client, channel);
        foreach (var channel in own.ShardChannels.ToArray()) ShardChannels.Unsubscribe(client, channel);
        foreach (var pattern in own.Patterns.ToArray()) UnsubscribePattern(client, pattern);
    }

    /// <summary>A client with no subscription left holds no sets (and is out of subscribed mode).</summary>
    internal static void ForgetIfEmpty(ClientSession client)
    {
        if (client.Subscriptions is { Total: 0 }) client.Subscriptions = null;
    }

    /// <summary>The pattern names, for PUBSUB NUMPAT-style listings and tests.</summary>
    public IEnumerable<byte[]> Patterns => _patternsByText.Keys;

    sealed class PatternSubscribers
    {
        public PatternSubscribers(byte[] pattern, int index)
        {
            Pattern = pattern;
            Index = index;
            LiteralPrefix = pattern.AsSpan().IndexOfAny("*?[\\"u8) is var special and >= 0 ? special : pattern.Length;
        }

        public byte[] Pattern { get; }
        public int Index { get; set; }
        public List<ClientSession> Clients { get; } = [];

        // Bytes before the first glob character must equal the channel's own: a cheap test that
        // rejects most channels before the full match (a plain-text pattern needs no glob at all).
        public int LiteralPrefix { get; }

        public bool Matches(ReadOnlySpan<byte> channel)
        {
            if (!channel.StartsWith(Pattern.AsSpan(0, LiteralPrefix))) return false;
            if (LiteralPrefix == Pattern.Length) return channel.Length == Pattern.Length;
            return GlobPattern.Match(Pattern, channel);
        }
    }
}

/// <summary>
/// Up to the first 8 bytes of a pattern's literal prefix, as a word and the mask of the bytes it holds:
/// a channel whose first 8 bytes (<see cref="Head"/>) differ under the mask cannot match. A filter
/// only (a channel shorter than the prefix reads as zeros): what passes is matched in full.
/// </summary>
readonly record struct PatternPrefix(ulong Bytes, ulong Mask)
{
    public static PatternPrefix Of(byte[] pattern, int literalPrefix)
    {
        int length = Math.Min(literalPrefix, sizeof(ulong));
        ulong mask = length == sizeof(ulong) ? ulong.MaxValue : (1UL << (length * 8)) - 1;
        return new PatternPrefix(Head(pattern.AsSpan(0, length)), mask);
    }

    /// <summary>The first 8 bytes of <paramref name="text"/>, little-endian, zeros past its end.</summary>
    public static ulong Head(ReadOnlySpan<byte> text)
    {
        if (text.Length >= sizeof(ulong)) return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(text);
        ulong head = 0;
        for (int i = text.Length - 1; i >= 0; i--) head = (head << 8) | text[i];
        return head;
    }
}

/// <summary>
/// One space of channels (global or shard): channel → subscribed clients in subscription order,
/// mirrored by each client's own set.
/// </summary>
public sealed class ChannelSpace
{
    readonly bool _shard;
    readonly Dictionary<byte[], List<ClientSession>> _subscribers = new(ByteArrayComparer.Instance);

    internal ChannelSpace(bool shard) => _shard = shard;

    /// <summary>Channels with at least one subscriber.</summary>
    public int Count => _subscribers.Count;

    public IEnumerable<byte[]> Names => _subscribers.Keys;

    HashSet<byte[]> Own(ClientSubscriptions own) => _shard ? own.ShardChannels : own.Channels;

    /// <summary>Adds the channel to the client's subscriptions; false when it already had it.</summary>
    public bool Subscribe(ClientSession client, byte[] channel)
    {
        var own = client.Subscriptions ??= new ClientSubscriptions();
        if (!Own(own).Add(channel)) return false;
        if (!_subscribers.TryGetValue(channel, out var clients)) _subscribers[channel] = clients = [];
        clients.Add(client);
        return true;
    }

    /// <summary>Removes the channel from the client's subscriptions; false when it did not have it.</summary>
    public bool Unsubscribe(ClientSession client, byte[] channel)
    {
        if (client.Subscriptions is not { } own || !Own(own).Remove(channel)) return false;
        var clients = _subscribers[channel];
        clients.Remove(client);
        if (clients.Count == 0) _subscribers.Remove(channel);
        PubSubHub.ForgetIfEmpty(client);
        return true;
    }

    internal List<ClientSession>? SubscribersOf(ReadOnlySpan<byte> channel)
        => _subscribers.Count > 0 && _subscribers.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(channel, out var clients) ? clients : null;

    /// <summary>How many clients listen to <paramref name="channel"/> (PUBSUB NUMSUB).</summary>
    public int SubscriberCount(ReadOnlySpan<byte> channel) => SubscribersOf(channel)?.Count ?? 0;
}
