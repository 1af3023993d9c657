namespace MiniRedis.Data;

/// <summary>
/// Redis's zskiplist: elements ordered by (score, member bytes), every forward link carrying the number of
/// elements it skips (its span) so ranks are found in O(log n) like ZRANK needs.
/// </summary>
public sealed class SkipList
{
    const int MaxLevel = 32;

    internal struct Level
    {
        public Node? Forward;
        public long Span;
    }

    public sealed class Node
    {
        internal Node(byte[] member, double score, int level)
        {
            Member = member;
            Score = score;
            Levels = new Level[level];
        }

        public byte[] Member { get; }
        public double Score { get; internal set; }
        public Node? Backward { get; internal set; }
        // One array of (link, span) pairs keeps a node at two allocations and its links together in memory.
        internal readonly Level[] Levels;

        public Node? Next => Levels[0].Forward;
    }

    readonly Node _header = new([], 0, MaxLevel);
    readonly Node[] _update = new Node[MaxLevel];
    readonly long[] _rank = new long[MaxLevel];
    int _level = 1;

    public long Count { get; private set; }
    public Node? First => _header.Levels[0].Forward;
    public Node? Last { get; private set; }

    /// <summary>Orders elements as Redis does: by score, ties by member bytes.</summary>
    public static int Compare(double score, ReadOnlySpan<byte> member, double otherScore, ReadOnlySpan<byte> otherMember)
        => score < otherScore ? -1 : score > otherScore ? 1 : member.SequenceCompareTo(otherMember);

    static bool Precedes(Node node, double score, ReadOnlySpan<byte> member) => Compare(node.Score, node.Member, score, member) < 0;

    ulong _randomState = (ulong)Random.Shared.NextInt64() | 1;

    int RandomLevel()
    {
        // xorshift64: the executor thread alone uses a list, so no shared random generator is needed.
        _randomState ^= _randomState << 13;
        _randomState ^= _randomState >> 7;
        _randomState ^= _randomState << 17;
        // p = 1/4 per extra level (Redis's ZSKIPLIST_P): two random bits per level.
        int level = 1 + Math.Min(System.Numerics.BitOperations.TrailingZeroCount(_randomState | (1UL << 62)) / 2, MaxLevel - 1);
        return level;
    }

    /// <summary>Inserts an element that is not present.</summary>
    public Node Insert(byte[] member, double score)
    {
        var x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            _rank[i] = i == _level - 1 ? 0 : _rank[i + 1];
            while (x.Levels[i].Forward is { } next && Precedes(next, score, member))
            {
                _rank[i] += x.Levels[i].Span;
                x = next;
            }
            _update[i] = x;
        }
        int level = RandomLevel();
        if (level > _level)
        {
            for (int i = _level; i < level; i++)
            {
                _rank[i] = 0;
                _update[i] = _header;
                _update[i].Levels[i].Span = Count;
            }
            _level = level;
        }
        var node = new Node(member, score, level);
        for (int i = 0; i < level; i++)
        {
            node.Levels[i].Forward = _update[i].Levels[i].Forward;
            _update[i].Levels[i].Forward = node;
            node.Levels[i].Span = _update[i].Levels[i].Span - (_rank[0] - _rank[i]);
            _update[i].Levels[i].Span = _rank[0] - _rank[i] + 1;
        }
        for (int i = level; i < _level; i++) _update[i].Levels[i].Span++;
        node.Backward = _update[0] == _header ? null : _update[0];
        if (node.Levels[0].Forward is { } following) following.Backward = node;
        else Last = node;
        Count++;
        return node;
    }

    /// <summary>Removes the element with this score and member; false if it is not there.</summary>
    public bool Delete(ReadOnlySpan<byte> member, double score)
    {
        var x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Forward is { } next && Precedes(next, score, member)) x = next;
            _update[i] = x;
        }
        var target = x.Levels[0].Forward;
        if (target is null || target.Score != score || !target.Member.AsSpan().SequenceEqual(member)) return false;
        Unlink(target);
        return true;
    }

    void Unlink(Node node)
    {
        for (int i = 0; i < _level; i++)
        {
            if (_update[i].Levels[i].Forward == node)
            {
                _update[i].Levels[i].Span += node.Levels[i].Span - 1;
                _update[i].Levels[i].Forward = node.Levels[i].Forward;
            }
            else
            {
                _update[i].Levels[i].Span--;
            }
        }
        if (node.Levels[0].Forward is { } following) following.Backward = node.Backward;
        else Last = node.Backward;
        while (_level > 1 && _header.Levels[_level - 1].Forward is null) _level--;
        Count--;
    }

    /// <summary>0-based rank of an element known to be present.</summary>
    public long RankOf(ReadOnlySpan<byte> member, double score)
    {
        long rank = 0;
        var x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Forward is { } next && Compare(next.Score, next.Member, score, member) <= 0)
            {
                rank += x.Levels[i].Span;
                x = next;
            }
            if (x != _header && x.Score == score && x.Member.AsSpan().SequenceEqual(member)) return rank - 1;
        }
        return -1;
    }

    /// <summary>The node at a 0-based rank, which must be within the list.</summary>
    public Node NodeAt(long rank)
    {
        long traversed = 0;
        var x = _header;
        rank++;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Forward is { } next && traversed + x.Levels[i].Span <= rank)
            {
                traversed += x.Levels[i].Span;
                x = next;
            }
            if (traversed == rank) return x;
        }
        throw new ArgumentOutOfRangeException(nameof(rank));
    }

    /// <summary>How many elements sort before the first one for which <paramref name="isAtOrAfter"/> holds (a monotone predicate).</summary>
    public long CountBefore<TBound>(in TBound bound) where TBound : struct, IElementBound
    {
        long rank = 0;
        var x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Forward is { } next && !bound.IsAtOrAfter(next.Score, next.Member))
            {
                rank += x.Levels[i].Span;
                x = next;
            }
        }
        return rank;
    }
}

/// <summary>A position in (score, member) order: elements are before it, or at-or-after it.</summary>
public interface IElementBound
{
    bool IsAtOrAfter(double elementScore, ReadOnlySpan<byte> element);
}
