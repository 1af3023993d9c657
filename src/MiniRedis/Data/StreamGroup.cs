using System.Diagnostics.CodeAnalysis;

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
    public readonly PendingList Pending = new();
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

    /// <summary>Removes the pending entry with this ID from the group and its owner (XACK); false when none is pending.</summary>
    public bool Acknowledge(StreamId id)
    {
        if (!Pending.Remove(id, out var entry)) return false;
        entry.Consumer?.Pending.Remove(id);
        return true;
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
    public readonly PendingList Pending = new();
}

/// <summary>A delivered, not yet acknowledged entry (Redis's streamNACK).</summary>
public sealed class PendingEntry(StreamId id, long deliveryTime, long deliveryCount)
{
    public StreamId Id { get; } = id;
    public long DeliveryTime = deliveryTime;
    public long DeliveryCount = deliveryCount;
    public StreamConsumer? Consumer;
}

/// <summary>
/// A pending entries list: entries ordered by ID, as Redis's rax keyed by the big-endian ID. Held as
/// sorted chunks of at most <see cref="ChunkSize"/> entries, their descriptors in one array and the
/// first ID of each in another: a lookup is a binary search over those IDs and one within a chunk, over
/// contiguous memory (a red-black tree of a million acknowledgements-to-be spent XACK in cache misses;
/// chunks as objects of their own cost one more miss per lookup, to reach the chunk's arrays). Delivery
/// appends at the end nearly always; a full chunk splits in two. A removal (XACK) leaves a tombstone,
/// its ID with no entry, instead of shifting the rest of the chunk down: a chunk is compacted once half
/// of it is tombstones (acknowledgements in delivery order shift each chunk once, not once per entry),
/// and an ID added again where its tombstone is takes its slot back. A compacted chunk is merged with a
/// neighbour when both fit in half a chunk: acknowledgements that thin a long list out leave few chunks
/// (and a lookup's few cache lines) rather than as many as the list once had.
/// </summary>
public sealed class PendingList : IEnumerable<KeyValuePair<StreamId, PendingEntry>>
{
    const int ChunkSize = 128;

    struct Chunk(int capacity)
    {
        public StreamId[] Ids = new StreamId[capacity];
        /// <summary>Null at a tombstone.</summary>
        public PendingEntry?[] Entries = new PendingEntry?[capacity];
        /// <summary>Slots in use, tombstones included.</summary>
        public int Count;
        /// <summary>Slots holding an entry.</summary>
        public int Live;

        public readonly int Search(StreamId id) => BinarySearch(Ids.AsSpan(0, Count), id);

        public void Insert(int at, StreamId id, PendingEntry entry)
        {
            InsertPair(ref Ids, ref Entries, Count, at, id, entry, Math.Min(ChunkSize, Ids.Length * 2));
            Count++;
            Live++;
        }

        /// <summary>Drops the tombstones, keeping the entries' order.</summary>
        public void Compact()
        {
            int kept = 0;
            for (int i = 0; i < Count; i++)
            {
                if (Entries[i] is null) continue;
                Ids[kept] = Ids[i];
                Entries[kept++] = Entries[i];
            }
            Array.Clear(Entries, kept, Count - kept);
            Count = kept;
        }

        /// <summary>Appends the entries of <paramref name="next"/> (all above this chunk's IDs), without its tombstones.</summary>
        public void Absorb(in Chunk next)
        {
            if (Ids.Length < ChunkSize)
            {
                Array.Resize(ref Ids, ChunkSize);
                Array.Resize(ref Entries, ChunkSize);
            }
            for (int i = 0; i < next.Count; i++)
            {
                if (next.Entries[i] is not { } entry) continue;
                Ids[Count] = next.Ids[i];
                Entries[Count++] = entry;
            }
            Live = Count;
        }
    }

    Chunk[] _chunks = [];
    StreamId[] _firsts = [];
    int _chunkCount;
    int _version;

    public int Count { get; private set; }

    /// <summary>The chunk that holds or would hold <paramref name="id"/>: the last whose first ID is not above it (0 before all).</summary>
    int ChunkFor(StreamId id)
    {
        int found = BinarySearch(_firsts.AsSpan(0, _chunkCount), id);
        return found >= 0 ? found : Math.Max(0, ~found - 1);
    }

    /// <summary>Span.BinarySearch without its boxing of the ID (it takes an IComparable): the index, or the complement of where it would go.</summary>
    static int BinarySearch(ReadOnlySpan<StreamId> ids, StreamId id)
    {
        int low = 0, high = ids.Length - 1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            var at = ids[middle];
            if (at.Ms == id.Ms && at.Seq == id.Seq) return middle;
            if (at.Ms < id.Ms || (at.Ms == id.Ms && at.Seq < id.Seq)) low = middle + 1;
            else high = middle - 1;
        }
        return ~low;
    }

    void InsertChunk(int index, Chunk chunk, StreamId first)
    {
        InsertPair(ref _chunks, ref _firsts, _chunkCount, index, chunk, first, Math.Max(4, _chunks.Length * 2));
        _chunkCount++;
    }

    /// <summary>
    /// Inserts a pair at <paramref name="at"/> into two parallel arrays with <paramref name="count"/> slots in use,
    /// both grown to <paramref name="grownCapacity"/> first when full (a chunk's IDs and entries, the chunks and their first IDs).
    /// </summary>
    static void InsertPair<TFirst, TSecond>(ref TFirst[] firsts, ref TSecond[] seconds, int count, int at, TFirst first, TSecond second, int grownCapacity)
    {
        if (count == firsts.Length)
        {
            Array.Resize(ref firsts, grownCapacity);
            Array.Resize(ref seconds, grownCapacity);
        }
        Array.Copy(firsts, at, firsts, at + 1, count - at);
        Array.Copy(seconds, at, seconds, at + 1, count - at);
        firsts[at] = first;
        seconds[at] = second;
    }

    void RemoveChunk(int index)
    {
        _chunkCount--;
        Array.Copy(_chunks, index + 1, _chunks, index, _chunkCount - index);
        Array.Copy(_firsts, index + 1, _firsts, index, _chunkCount - index);
        _chunks[_chunkCount] = default;
    }

    public bool TryGetValue(StreamId id, [MaybeNullWhen(false)] out PendingEntry entry)
    {
        entry = null;
        if (Count == 0) return false;
        ref var chunk = ref _chunks[ChunkFor(id)];
        int at = chunk.Search(id);
        if (at < 0) return false;
        entry = chunk.Entries[at];
        return entry is not null;
    }

    public bool ContainsKey(StreamId id) => TryGetValue(id, out _);

    public bool TryAdd(StreamId id, PendingEntry entry)
    {
        if (Count == 0)
        {
            var first = new Chunk(4);
            first.Insert(0, id, entry);
            InsertChunk(0, first, id);
            Count = 1;
            _version++;
            return true;
        }
        int index = ChunkFor(id);
        ref var chunk = ref _chunks[index];
        int at = chunk.Search(id);
        if (at >= 0)
        {
            if (chunk.Entries[at] is not null) return false;
            chunk.Entries[at] = entry;
            chunk.Live++;
            Count++;
            _version++;
            return true;
        }
        at = ~at;
        if (chunk.Count == ChunkSize && chunk.Live < ChunkSize)
        {
            // A chunk is never half tombstones (Remove compacts it then), so entries stay.
            chunk.Compact();
            _firsts[index] = chunk.Ids[0];
            at = ~chunk.Search(id);
        }
        if (chunk.Count == ChunkSize)
        {
            // Appending past a full last chunk starts a new one; elsewhere the chunk splits in halves.
            if (index == _chunkCount - 1 && at == ChunkSize)
            {
                var tail = new Chunk(4);
                tail.Insert(0, id, entry);
                InsertChunk(_chunkCount, tail, id);
                Count++;
                _version++;
                return true;
            }
            var upper = new Chunk(ChunkSize);
            int half = ChunkSize / 2;
            Array.Copy(chunk.Ids, half, upper.Ids, 0, half);
            Array.Copy(chunk.Entries, half, upper.Entries, 0, half);
            Array.Clear(chunk.Entries, half, half);
            upper.Count = half;
            upper.Live = half;
            chunk.Count = half;
            chunk.Live = half;
            InsertChunk(index + 1, upper, upper.Ids[0]);
            if (at > half)
            {
                index++;
                at -= half;
            }
            chunk = ref _chunks[index];
        }
        chunk.Insert(at, id, entry);
        if (at == 0) _firsts[index] = id;
        Count++;
        _version++;
        return true;
    }

    public void Add(StreamId id, PendingEntry entry)
    {
        if (!TryAdd(id, entry)) throw new ArgumentException($"pending entry {id} is already listed");
    }

    public PendingEntry this[StreamId id]
    {
        get => TryGetValue(id, out var entry) ? entry : throw new KeyNotFoundException(id.ToString());
        set
        {
            if (TryAdd(id, value)) return;
            ref var chunk = ref _chunks[ChunkFor(id)];
            chunk.Entries[chunk.Search(id)] = value;
        }
    }

    public bool Remove(StreamId id) => Remove(id, out _);

    public bool Remove(StreamId id, [MaybeNullWhen(false)] out PendingEntry entry)
    {
        entry = null;
        if (Count == 0) return false;
        int index = ChunkFor(id);
        ref var chunk = ref _chunks[index];
        int at = chunk.Search(id);
        if (at < 0 || chunk.Entries[at] is not { } found) return false;
        entry = found;
        chunk.Entries[at] = null;
        chunk.Live--;
        if (chunk.Live == 0) RemoveChunk(index);
        else if (chunk.Live * 2 <= chunk.Count)
        {
            chunk.Compact();
            _firsts[index] = chunk.Ids[0];
            if (index + 1 < _chunkCount) TryMerge(index);
            if (index > 0) TryMerge(index - 1);
        }
        Count--;
        _version++;
        return true;
    }

    /// <summary>Merges chunk <paramref name="index"/> + 1 into chunk <paramref name="index"/> when their entries fill at most half a chunk.</summary>
    void TryMerge(int index)
    {
        ref var chunk = ref _chunks[index];
        ref var next = ref _chunks[index + 1];
        if (chunk.Live + next.Live > ChunkSize / 2) return;
        chunk.Compact();
        chunk.Absorb(next);
        _firsts[index] = chunk.Ids[0];
        RemoveChunk(index + 1);
    }

    /// <summary>The lowest and highest IDs listed (the list must not be empty).</summary>
    public StreamId FirstId
    {
        get
        {
            ref var chunk = ref _chunks[0];
            int i = 0;
            while (chunk.Entries[i] is null) i++;
            return chunk.Ids[i];
        }
    }

    public StreamId LastId
    {
        get
        {
            ref var chunk = ref _chunks[_chunkCount - 1];
            int i = chunk.Count - 1;
            while (chunk.Entries[i] is null) i--;
            return chunk.Ids[i];
        }
    }

    public IEnumerable<StreamId> Keys => this.Select(pair => pair.Key);
    public IEnumerable<PendingEntry> Values => this.Select(pair => pair.Value);

    public IEnumerator<KeyValuePair<StreamId, PendingEntry>> GetEnumerator()
    {
        int version = _version;
        for (int c = 0; c < _chunkCount; c++)
        {
            for (int i = 0; i < _chunks[c].Count; i++)
            {
                if (version != _version) throw new InvalidOperationException("the pending entries list changed during the enumeration");
                if (_chunks[c].Entries[i] is { } entry) yield return new(_chunks[c].Ids[i], entry);
            }
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
