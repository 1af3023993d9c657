namespace MiniRedis.Data;

/// <summary>A node of a chained hash table: its cached hash and the next node of its bucket.</summary>
public interface IChainedNode<TNode> where TNode : class, IChainedNode<TNode>
{
    uint Hash { get; }
    TNode? Next { get; set; }
}

/// <summary>
/// What the keyspace table (<see cref="Dict"/>) and the hash/set table (<see cref="FieldTable"/>)
/// share: a power-of-two array of bucket chains, rehashed, sampled and walked the same way. Each
/// table keeps its own lookup (its keys compare differently) and its own growth policy.
/// </summary>
public static class ChainedBuckets
{
    /// <summary>A new bucket array of <paramref name="size"/> (a power of two) holding every node of <paramref name="buckets"/>.</summary>
    public static TNode?[] Rehash<TNode>(TNode?[] buckets, int size) where TNode : class, IChainedNode<TNode> => Rehash(buckets, new TNode?[size]);

    /// <summary>Moves every node of <paramref name="buckets"/> into <paramref name="resized"/> (empty, its length a power of two); returns it.</summary>
    public static TNode?[] Rehash<TNode>(TNode?[] buckets, TNode?[] resized) where TNode : class, IChainedNode<TNode>
    {
        int size = resized.Length;
        foreach (var head in buckets)
        {
            for (var node = head; node is not null;)
            {
                var next = node.Next;
                ref var slot = ref resized[node.Hash & (size - 1)];
                node.Next = slot;
                slot = node;
                node = next;
            }
        }
        return resized;
    }

    /// <summary>A node of a non-empty table: a random non-empty bucket, then a random member of its chain (so not uniform: see <see cref="FairRandomNode"/>).</summary>
    public static TNode RandomNode<TNode>(TNode?[] buckets) where TNode : class, IChainedNode<TNode>
    {
        TNode? head;
        do head = buckets[Random.Shared.Next(buckets.Length)];
        while (head is null);
        return RandomInChain(head);
    }

    /// <summary>How many nodes <see cref="FairRandomNode"/> gathers, as Redis's GETFAIR_NUM_ENTRIES.</summary>
    const int FairSampleSize = 15;

    /// <summary>
    /// Redis's dictGetFairRandomKey: up to 15 nodes gathered from consecutive buckets at a random place
    /// (dictGetSomeKeys), one of them chosen uniformly. With <see cref="RandomNode"/> a node sharing its bucket
    /// comes up half as often as one alone; here a table of at most 15 nodes is gathered whole (exactly
    /// uniform) and a larger one is as fair as Redis's. <paramref name="count"/> is the table's node count.
    /// </summary>
    public static TNode FairRandomNode<TNode>(TNode?[] buckets, int count) where TNode : class, IChainedNode<TNode>
    {
        var sample = FairSample<TNode>.Buffer ??= new TNode[FairSampleSize];
        int wanted = Math.Min(count, FairSampleSize);
        int mask = buckets.Length - 1;
        int bucket = Random.Shared.Next(buckets.Length);
        int stored = 0;
        int emptyRun = 0;
        for (int steps = wanted * 10; stored < wanted && steps > 0; steps--)
        {
            var node = buckets[bucket];
            if (node is null)
            {
                // Past a run of empty buckets longer than the sample, start again elsewhere.
                if (++emptyRun >= 5 && emptyRun > wanted)
                {
                    bucket = Random.Shared.Next(buckets.Length);
                    emptyRun = 0;
                }
            }
            else
            {
                emptyRun = 0;
                for (; node is not null && stored < wanted; node = node.Next) sample[stored++] = node;
            }
            bucket = (bucket + 1) & mask;
        }
        if (stored == 0) return RandomNode(buckets);
        var picked = sample[Random.Shared.Next(stored)];
        // The buffer must not keep removed nodes alive.
        sample.AsSpan(0, stored).Clear();
        return picked;
    }

    static class FairSample<TNode>
    {
        [ThreadStatic] internal static TNode[]? Buffer;
    }

    /// <summary>A uniformly chosen node of the chain starting at <paramref name="head"/>.</summary>
    public static TNode RandomInChain<TNode>(TNode head) where TNode : class, IChainedNode<TNode>
    {
        int length = 0;
        for (var node = head; node is not null; node = node.Next) length++;
        for (int pick = Random.Shared.Next(length); pick > 0; pick--) head = head.Next!;
        return head;
    }

    /// <summary>Walks every node of <paramref name="buckets"/>, then of <paramref name="more"/> if given; the table must not change meanwhile.</summary>
    public struct Enumerator<TNode>(TNode?[] buckets, TNode?[]? more = null) where TNode : class, IChainedNode<TNode>
    {
        TNode?[] _buckets = buckets;
        TNode?[]? _more = more;
        int _bucket = -1;
        TNode? _current;

        public readonly TNode Current => _current!;

        public bool MoveNext()
        {
            if (_current?.Next is { } next)
            {
                _current = next;
                return true;
            }
            while (true)
            {
                while (++_bucket < _buckets.Length)
                {
                    if (_buckets[_bucket] is { } head)
                    {
                        _current = head;
                        return true;
                    }
                }
                if (_more is null) return false;
                _buckets = _more;
                _more = null;
                _bucket = -1;
            }
        }
    }
}
