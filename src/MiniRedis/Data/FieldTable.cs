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

    internal sealed class Node(byte[] key, byte[]? value, uint hash, Node? next) : IChainedNode<Node>
    {
        public readonly byte[] Key = key;
        public byte[]? Value = value;
        public uint Hash { get; } = hash;
        public Node? Next = next;

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

    /// <summary>Adds the key or replaces its value; true when the key is new.</summary>
    public bool Set(ReadOnlySpan<byte> key, byte[]? value)
    {
        uint hash = Dict.HashKey(key);
        if (Find(key, hash) is { } existing)
        {
            StringBytes += ValueCost(value) - ValueCost(existing.Value);
            existing.Value = value;
            return false;
        }
        Insert(key.ToArray(), value, hash);
        return true;
    }

    /// <summary>Adds a key known to be absent, taking ownership of <paramref name="key"/>.</summary>
    public void Insert(byte[] key, byte[]? value) => Insert(key, value, Dict.HashKey(key));

    void Insert(byte[] key, byte[]? value, uint hash)
    {
        if (Count >= _buckets.Length) Resize(_buckets.Length * 2);
        ref var head = ref _buckets[hash & (_buckets.Length - 1)];
        head = new Node(key, value, hash, head);
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

    /// <summary>Keys and values are never changed in place (a new value replaces the old array), so copies share them.</summary>
    public object DeepCopy()
    {
        var copy = new FieldTable(Count);
        foreach (var (key, value) in this) copy.Insert(key, value);
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
