using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MiniRedis.Data;

/// <summary>
/// The "hashtable" encoding of hashes (field → value) and sets (member, no value): chained buckets
/// over a power-of-two array. Our own rather than Dictionary because HSCAN/SSCAN need Redis's
/// reverse-binary bucket cursor, which returns every element present for the whole scan even when
/// the table grows or shrinks between calls, and SRANDMEMBER/SPOP need random buckets.
/// </summary>
public sealed class FieldTable : ICopyableValue
{
    const int MinBuckets = 4;

    internal sealed class Node(byte[] key, byte[]? value, uint hash, Node? next, bool ownsValue) : IChainedNode<Node>
    {
        public readonly byte[] Key = key;
        public byte[]? Value = value;
        public uint Hash { get; } = hash;
        public Node? Next = next;
        /// <summary>No copy of the table shares <see cref="Value"/>'s array, so a new value of its length may overwrite it.</summary>
        public bool OwnsValue = ownsValue;

        Node? IChainedNode<Node>.Next { get => Next; set => Next = value; }
    }

    Node?[] _buckets;

    public FieldTable(int capacity = 0)
    {
        int size = MinBuckets;
        while (size < capacity) size <<= 1;
        _buckets = new Node?[size];
    }

    public int Count { get; private set; }

    public int BucketCount => _buckets.Length;

    /// <summary>What Redis would allocate for the elements' sds strings (keys and values), kept as elements come and go.</summary>
    public long StringBytes { get; private set; }

    Node? Find(ReadOnlySpan<byte> key) => Find(key, Dict.HashKey(key));

    Node? Find(ReadOnlySpan<byte> key, uint hash)
    {
        for (var n = _buckets[hash & (_buckets.Length - 1)]; n is not null; n = n.Next)
        {
            if (n.Hash == hash && key.SequenceEqual(n.Key)) return n;
        }
        return null;
    }

    /// <summary>
    /// A pipelined batch's look-ahead for an element (<see cref="KeyPrefetch"/>'s stages, one table level
    /// down): the bucket of <paramref name="hash"/>, then its first node, then that node's key bytes.
    /// </summary>
    public void PrefetchBucket(uint hash) => Prefetch.Bytes(ref Unsafe.As<Node?, byte>(ref _buckets[hash & (_buckets.Length - 1)]));

    /// <inheritdoc cref="PrefetchBucket"/>
    public void PrefetchNode(uint hash) => Prefetch.Object(_buckets[hash & (_buckets.Length - 1)]);

    /// <summary>The last stage: the first node's key bytes when its hash matches, else the node after it (where a third of a full table's lookups go on to).</summary>
    public void PrefetchKey(uint hash)
    {
        var head = _buckets[hash & (_buckets.Length - 1)];
        if (head is null) return;
        if (head.Hash == hash) Prefetch.Bytes(ref MemoryMarshal.GetArrayDataReference(head.Key));
        else Prefetch.Object(head.Next);
    }

    public bool Contains(ReadOnlySpan<byte> key) => Find(key) is not null;

    public bool TryGetValue(ReadOnlySpan<byte> key, out byte[]? value)
    {
        var node = Find(key);
        value = node?.Value;
        return node is not null;
    }

    /// <summary>
    /// Adds the key with a copy of <paramref name="value"/> or replaces its value; true when the key is new. A value
    /// of the old one's length is written over it when no copy shares it (as Redis's hashTypeSet reuses the sds
    /// when it fits), so overwriting a field allocates nothing.
    /// </summary>
    public bool Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        uint hash = Dict.HashKey(key);
        if (Find(key, hash) is { } existing)
        {
            if (existing.OwnsValue && existing.Value!.Length == value.Length)
            {
                value.CopyTo(existing.Value);
                return false;
            }
            StringBytes += AllocationModel.Sds(value.Length) - ValueCost(existing.Value);
            existing.Value = value.ToArray();
            existing.OwnsValue = true;
            return false;
        }
        Insert(key.ToArray(), value.ToArray(), hash, ownsValue: true);
        return true;
    }

    /// <summary>Adds the key without a value (a set's member); true when it is new.</summary>
    public bool Add(ReadOnlySpan<byte> key)
    {
        uint hash = Dict.HashKey(key);
        if (Find(key, hash) is not null) return false;
        Insert(key.ToArray(), null, hash, ownsValue: true);
        return true;
    }

    /// <summary>Adds a key known to be absent, taking ownership of <paramref name="key"/> and <paramref name="value"/>.</summary>
    public void Insert(byte[] key, byte[]? value) => Insert(key, value, Dict.HashKey(key), ownsValue: true);

    void Insert(byte[] key, byte[]? value, uint hash, bool ownsValue)
    {
        if (Count >= _buckets.Length) Resize(_buckets.Length * 2);
        ref var head = ref _buckets[hash & (_buckets.Length - 1)];
        head = new Node(key, value, hash, head, ownsValue);
        Count++;
        StringBytes += AllocationModel.Sds(key.Length) + ValueCost(value);
    }

    public bool Remove(ReadOnlySpan<byte> key)
    {
        uint hash = Dict.HashKey(key);
        ref var link = ref _buckets[hash & (_buckets.Length - 1)];
        while (link is not null && (link.Hash != hash || !key.SequenceEqual(link.Key))) link = ref link.Next;
        if (link is null) return false;
        StringBytes -= AllocationModel.Sds(link.Key.Length) + ValueCost(link.Value);
        link = link.Next;
        Count--;
        // Redis's htNeedsResize: shrink below 10% fill.
        if (_buckets.Length > MinBuckets && Count * 10 < _buckets.Length) Resize(Math.Max(MinBuckets, (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, Count))));
        return true;
    }

    static long ValueCost(byte[]? value) => value is null ? 0 : AllocationModel.Sds(value.Length);

    void Resize(int size) => _buckets = ChainedBuckets.Rehash(_buckets, size);

    /// <summary>Visits one bucket and returns the next cursor (0 when done), as Redis's dictScan.</summary>
    public ulong Scan(ulong cursor, List<(byte[] Key, byte[]? Value)> found)
    {
        ulong mask = (ulong)_buckets.Length - 1;
        for (var n = _buckets[cursor & mask]; n is not null; n = n.Next) found.Add((n.Key, n.Value));
        return Dict.NextScanCursor(cursor, mask);
    }

    /// <summary>A random element of a non-empty table, as fair as Redis's dictGetFairRandomKey.</summary>
    public (byte[] Key, byte[]? Value) Random()
    {
        var node = ChainedBuckets.FairRandomNode(_buckets, Count);
        return (node.Key, node.Value);
    }

    /// <summary>
    /// Copies share the keys, which never change, and the values, which from then on neither table writes over
    /// (the next value of each field, in either, is a new array).
    /// </summary>
    public object DeepCopy()
    {
        var copy = new FieldTable(Count);
        for (var nodes = new ChainedBuckets.Enumerator<Node>(_buckets); nodes.MoveNext();)
        {
            var node = nodes.Current;
            node.OwnsValue = false;
            copy.Insert(node.Key, node.Value, node.Hash, ownsValue: false);
        }
        return copy;
    }

    public Enumerator GetEnumerator() => new(_buckets);

    /// <summary>Walks every element; the table must not change meanwhile.</summary>
    public struct Enumerator
    {
        ChainedBuckets.Enumerator<Node> _nodes;

        internal Enumerator(Node?[] buckets) => _nodes = new(buckets);

        public readonly (byte[] Key, byte[]? Value) Current => (_nodes.Current.Key, _nodes.Current.Value);

        public bool MoveNext() => _nodes.MoveNext();
    }
}
