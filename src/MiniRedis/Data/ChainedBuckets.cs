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
    public static TNode?[] Rehash<TNode>(TNode?[] buckets, int size) where TNode : class, IChainedNode<TNode>
    {
        var resized = new TNode?[size];
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

    /// <summary>A node of a non-empty table with roughly uniform probability: a random non-empty bucket, then a random chain member.</summary>
    public static TNode RandomNode<TNode>(TNode?[] buckets) where TNode : class, IChainedNode<TNode>
    {
        TNode? head;
        do head = buckets[Random.Shared.Next(buckets.Length)];
        while (head is null);
        return RandomInChain(head);
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
