namespace MiniRedis.Data;

/// <summary>
/// A consumer group (Redis's streamCG): the last delivered ID, the 7.0 entries-read counter (-1 when
/// unknown), the pending entries list ordered by ID, and the consumers by name. A pending entry is
/// shared by the group's list and its consumer's list, as Redis's streamNACK is.
/// </summary>
public sealed class StreamGroup
{
    /// <summary>Redis's SCG_INVALID_ENTRIES_READ.</summary>
    public const long InvalidEntriesRead = -1;

    public StreamGroup(byte[] name, StreamId lastId, long entriesRead)
    {
        Name = name;
        LastId = lastId;
        EntriesRead = entriesRead;
    }

    public byte[] Name { get; }
    public StreamId LastId;
    public long EntriesRead;
    public readonly SortedDictionary<StreamId, PendingEntry> Pending = [];
    public readonly SortedDictionary<byte[], StreamConsumer> Consumers = new(StreamValue.ByteOrder.Instance);

    /// <summary>The consumer found last: a reader is found again without a key array.</summary>
    StreamConsumer? _lastFound;

    public StreamConsumer? FindConsumer(ReadOnlySpan<byte> name)
    {
        if (_lastFound is { } last && name.SequenceEqual(last.Name)) return last;
        if (!Consumers.TryGetValue(name.ToArray(), out var consumer)) return null;
        return _lastFound = consumer;
    }

    /// <summary>Adds a consumer; null when one of that name exists.</summary>
    public StreamConsumer? CreateConsumer(ReadOnlySpan<byte> name, long nowMs)
    {
        var key = name.ToArray();
        if (Consumers.ContainsKey(key)) return null;
        var consumer = new StreamConsumer(key, nowMs);
        Consumers.Add(key, consumer);
        return consumer;
    }

    /// <summary>Removes a consumer and its pending entries from the group (Redis's streamDelConsumer).</summary>
    public void DeleteConsumer(StreamConsumer consumer)
    {
        foreach (var id in consumer.Pending.Keys) Pending.Remove(id);
        Consumers.Remove(consumer.Name);
        _lastFound = null;
    }

    /// <summary>Removes a pending entry from the group and its owner.</summary>
    public void Acknowledge(PendingEntry entry)
    {
        Pending.Remove(entry.Id);
        entry.Consumer?.Pending.Remove(entry.Id);
    }

    /// <summary>Moves a pending entry to <paramref name="consumer"/>.</summary>
    public static void Assign(PendingEntry entry, StreamConsumer consumer)
    {
        if (entry.Consumer == consumer) return;
        entry.Consumer?.Pending.Remove(entry.Id);
        consumer.Pending[entry.Id] = entry;
        entry.Consumer = consumer;
    }

    public StreamGroup Copy()
    {
        var copy = new StreamGroup(Name, LastId, EntriesRead);
        foreach (var (name, consumer) in Consumers) copy.Consumers.Add(name, new StreamConsumer(name, consumer.SeenTime));
        foreach (var (id, entry) in Pending)
        {
            var owner = entry.Consumer is null ? null : copy.Consumers[entry.Consumer.Name];
            var clone = new PendingEntry(id, entry.DeliveryTime, entry.DeliveryCount) { Consumer = owner };
            copy.Pending.Add(id, clone);
            owner?.Pending.Add(id, clone);
        }
        return copy;
    }
}

/// <summary>A consumer of a group (Redis's streamConsumer): its last seen time and its pending entries.</summary>
public sealed class StreamConsumer(byte[] name, long seenTime)
{
    public byte[] Name { get; } = name;
    public long SeenTime = seenTime;
    public readonly SortedDictionary<StreamId, PendingEntry> Pending = [];
}

/// <summary>A delivered, not yet acknowledged entry (Redis's streamNACK).</summary>
public sealed class PendingEntry(StreamId id, long deliveryTime, long deliveryCount)
{
    public StreamId Id { get; } = id;
    public long DeliveryTime = deliveryTime;
    public long DeliveryCount = deliveryCount;
    public StreamConsumer? Consumer;
}
