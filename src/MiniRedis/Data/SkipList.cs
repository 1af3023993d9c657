namespace MiniRedis.Data;

/// <summary>
/// Redis's zskiplist: elements ordered by (score, member bytes), every forward link carrying the number of
/// elements it skips (its span) so ranks are found in O(log n) like ZRANK needs.
/// </summary>
/// <remarks>
/// Nodes live in one slot array instead of being objects: a node of level L is L + 1 adjacent 16-byte slots,
/// a head slot (its score and backward link) then one slot per level (forward link, span, and a copy of the
/// forward node's score). A search step thus reads a single slot, where linked node objects cost two
/// dependent cache misses (node, then its level array) before the score could even be compared; and the slots
/// hold no references, so the collector never scans them. Nodes are named by the index of their head slot,
/// which also indexes their member in a parallel array; index 0 is the list header, which no link ever
/// targets, so 0 also means "no node". Spans fit an int because nodes are indices into one array.
/// </remarks>
public sealed class SkipList
{
    const int MaxLevel = 32;
    const int HeaderNode = 0;
    public const int None = HeaderNode;

    struct Slot
    {
        // Head slot: the node's own score, Link = backward node, Span = level count.
        // Level slot: Link = forward node (None at the end), Span, and the forward node's score.
        public double Score;
        public int Span;
        public int Link;
    }

    Slot[] _slots = new Slot[1024];
    byte[]?[] _members = new byte[1024][];
    int _usedSlots = 1 + MaxLevel;
    // Freed nodes by level, chained through their head slot's Link; a node is reused only at its own size.
    readonly int[] _freeNodes = new int[MaxLevel + 1];
    int[] _update = new int[MaxLevel];
    long[] _rank = new long[MaxLevel];
    // The predecessors of an element's new position while it is moved (UpdateScore), found alongside _update's.
    int[] _moveUpdate = new int[MaxLevel];
    long[] _moveRank = new long[MaxLevel];
    int _level = 1;

    public SkipList() => _slots[HeaderNode].Span = MaxLevel;

    public long Count { get; private set; }
    public int First => _slots[LevelSlot(HeaderNode, 0)].Link;
    public int Last { get; private set; }

    public byte[] Member(int node) => _members[node]!;
    public double Score(int node) => _slots[node].Score;
    public int Next(int node) => _slots[LevelSlot(node, 0)].Link;
    public int Previous(int node) => _slots[node].Link;

    static int LevelSlot(int node, int level) => node + 1 + level;

    /// <summary>Orders elements as Redis does: by score, ties by member bytes.</summary>
    public static int Compare(double score, ReadOnlySpan<byte> member, double otherScore, ReadOnlySpan<byte> otherMember)
        => score < otherScore ? -1 : score > otherScore ? 1 : member.SequenceCompareTo(otherMember);

    /// <summary>Whether the link's target sorts before (score, member); the link must lead somewhere.</summary>
    static bool Precedes(in Slot link, byte[]?[] members, double score, ReadOnlySpan<byte> member)
        => link.Score < score || (link.Score == score && members[link.Link].AsSpan().SequenceCompareTo(member) < 0);

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

    int Allocate(int level)
    {
        int node = _freeNodes[level];
        if (node != None)
        {
            _freeNodes[level] = _slots[node].Link;
            return node;
        }
        if (_usedSlots + level + 1 > _slots.Length)
        {
            int length = Math.Max(_slots.Length * 2, _usedSlots + level + 1);
            Array.Resize(ref _slots, length);
            Array.Resize(ref _members, length);
        }
        node = _usedSlots;
        _usedSlots += level + 1;
        return node;
    }

    void Free(int node)
    {
        int level = _slots[node].Span;
        _members[node] = null;
        _slots[node].Link = _freeNodes[level];
        _freeNodes[level] = node;
    }

    /// <summary>Fills _update with each level's last node before (score, member) and _rank with its rank.</summary>
    void FindPredecessors(double score, ReadOnlySpan<byte> member)
    {
        var slots = _slots;
        var members = _members;
        int x = HeaderNode;
        long rank = 0;
        for (int i = _level - 1; i >= 0; i--)
        {
            ref var link = ref slots[LevelSlot(x, i)];
            while (link.Link != None && Precedes(link, members, score, member))
            {
                rank += link.Span;
                x = link.Link;
                link = ref slots[LevelSlot(x, i)];
            }
            _rank[i] = rank;
            _update[i] = x;
        }
    }

    /// <summary>Inserts an element that is not present.</summary>
    public int Insert(byte[] member, double score)
    {
        FindPredecessors(score, member);
        int level = RandomLevel();
        int node = Allocate(level);
        _slots[node].Span = level;
        Link(node, member, score);
        return node;
    }

    /// <summary>Links an allocated node at the position _update/_rank describe (Redis's zslInsert after the search).</summary>
    void Link(int node, byte[] member, double score)
    {
        var slots = _slots;
        int level = slots[node].Span;
        if (level > _level)
        {
            for (int i = _level; i < level; i++)
            {
                _rank[i] = 0;
                _update[i] = HeaderNode;
                slots[LevelSlot(HeaderNode, i)].Span = (int)Count;
            }
            _level = level;
        }
        _members[node] = member;
        slots[node].Score = score;
        slots[node].Link = _update[0];
        for (int i = 0; i < level; i++)
        {
            ref var before = ref slots[LevelSlot(_update[i], i)];
            ref var own = ref slots[LevelSlot(node, i)];
            int skipped = (int)(_rank[0] - _rank[i]);
            own = before;
            own.Span = before.Span - skipped;
            before.Link = node;
            before.Score = score;
            before.Span = skipped + 1;
        }
        for (int i = level; i < _level; i++) slots[LevelSlot(_update[i], i)].Span++;
        int following = slots[LevelSlot(node, 0)].Link;
        if (following != None) slots[following].Link = node;
        else Last = node;
        Count++;
    }

    /// <summary>Removes the element with this score and member; false if it is not there.</summary>
    public bool Delete(ReadOnlySpan<byte> member, double score)
    {
        int target = Find(member, score);
        if (target == None) return false;
        Unlink(target);
        Free(target);
        return true;
    }

    /// <summary>The node holding (score, member), or None; leaves its predecessors in _update.</summary>
    int Find(ReadOnlySpan<byte> member, double score)
    {
        FindPredecessors(score, member);
        int target = _slots[LevelSlot(_update[0], 0)].Link;
        return target != None && _slots[target].Score == score && _members[target].AsSpan().SequenceEqual(member) ? target : None;
    }

    /// <summary>
    /// Moves a present element to a new score (Redis's zslUpdateScore): in place when its neighbours still
    /// bracket the new score, otherwise by relinking the same node where the score now belongs.
    /// </summary>
    public void UpdateScore(ReadOnlySpan<byte> member, double oldScore, double newScore)
    {
        FindPredecessorsOfMove(member, oldScore, newScore);
        var slots = _slots;
        int node = slots[LevelSlot(_update[0], 0)].Link;
        int backward = slots[node].Link, forward = slots[LevelSlot(node, 0)].Link;
        if ((backward == None || slots[backward].Score < newScore) && (forward == None || slots[forward].Score > newScore))
        {
            slots[node].Score = newScore;
            // The links into the node carry copies of its score.
            for (int i = 0; i < slots[node].Span; i++) slots[LevelSlot(_update[i], i)].Score = newScore;
            return;
        }
        // The new position's predecessors were found with the node still linked: where that was the node
        // itself, the node's own predecessor takes its place, and ranks past the node drop by one.
        long nodeRank = _rank[0] + 1;
        for (int i = 0; i < _level; i++)
        {
            if (_moveUpdate[i] == node)
            {
                _moveUpdate[i] = _update[i];
                _moveRank[i] = _rank[i];
            }
            else if (_moveRank[i] > nodeRank)
            {
                _moveRank[i]--;
            }
        }
        Unlink(node);
        (_update, _moveUpdate) = (_moveUpdate, _update);
        (_rank, _moveRank) = (_moveRank, _rank);
        Link(node, _members[node]!, newScore);
    }

    /// <summary>
    /// <see cref="FindPredecessors"/> for a present element's current position (into _update/_rank) and for
    /// its new score (into _moveUpdate/_moveRank) in one loop: the two walks' steps alternate, so the cache
    /// misses of one overlap the other's instead of following them (the walks are most of a ZADD's time).
    /// </summary>
    void FindPredecessorsOfMove(ReadOnlySpan<byte> member, double oldScore, double newScore)
    {
        var slots = _slots;
        var members = _members;
        int x = HeaderNode, y = HeaderNode;
        long rank = 0, moveRank = 0;
        int i = _level - 1, j = _level - 1;
        while (i >= 0 || j >= 0)
        {
            if (i >= 0)
            {
                ref var link = ref slots[LevelSlot(x, i)];
                if (link.Link != None && Precedes(link, members, oldScore, member))
                {
                    rank += link.Span;
                    x = link.Link;
                }
                else
                {
                    _rank[i] = rank;
                    _update[i] = x;
                    i--;
                }
            }
            if (j >= 0)
            {
                ref var link = ref slots[LevelSlot(y, j)];
                if (link.Link != None && Precedes(link, members, newScore, member))
                {
                    moveRank += link.Span;
                    y = link.Link;
                }
                else
                {
                    _moveRank[j] = moveRank;
                    _moveUpdate[j] = y;
                    j--;
                }
            }
        }
    }

    /// <summary>Takes a node out of every level; _update must hold its predecessors.</summary>
    void Unlink(int node)
    {
        var slots = _slots;
        for (int i = 0; i < _level; i++)
        {
            ref var before = ref slots[LevelSlot(_update[i], i)];
            if (before.Link == node)
            {
                ref var own = ref slots[LevelSlot(node, i)];
                int span = before.Span + own.Span - 1;
                before = own;
                before.Span = span;
            }
            else
            {
                before.Span--;
            }
        }
        int following = slots[LevelSlot(node, 0)].Link;
        if (following != None) slots[following].Link = slots[node].Link;
        else Last = slots[node].Link;
        while (_level > 1 && slots[LevelSlot(HeaderNode, _level - 1)].Link == None) _level--;
        Count--;
    }

    /// <summary>0-based rank of an element known to be present.</summary>
    public long RankOf(ReadOnlySpan<byte> member, double score)
    {
        var slots = _slots;
        var members = _members;
        long rank = 0;
        int x = HeaderNode;
        for (int i = _level - 1; i >= 0; i--)
        {
            ref var link = ref slots[LevelSlot(x, i)];
            while (link.Link != None && Compare(link.Score, members[link.Link], score, member) <= 0)
            {
                rank += link.Span;
                x = link.Link;
                link = ref slots[LevelSlot(x, i)];
            }
            if (x != HeaderNode && slots[x].Score == score && members[x].AsSpan().SequenceEqual(member)) return rank - 1;
        }
        return -1;
    }

    /// <summary>The node at a 0-based rank, which must be within the list.</summary>
    public int NodeAt(long rank)
    {
        var slots = _slots;
        long traversed = 0;
        int x = HeaderNode;
        rank++;
        for (int i = _level - 1; i >= 0; i--)
        {
            ref var link = ref slots[LevelSlot(x, i)];
            while (link.Link != None && traversed + link.Span <= rank)
            {
                traversed += link.Span;
                x = link.Link;
                link = ref slots[LevelSlot(x, i)];
            }
            if (traversed == rank) return x;
        }
        throw new ArgumentOutOfRangeException(nameof(rank));
    }

    /// <summary>How many elements sort before the first one for which <paramref name="isAtOrAfter"/> holds (a monotone predicate).</summary>
    public long CountBefore<TBound>(in TBound bound) where TBound : struct, IElementBound
    {
        var slots = _slots;
        var members = _members;
        long rank = 0;
        int x = HeaderNode;
        for (int i = _level - 1; i >= 0; i--)
        {
            ref var link = ref slots[LevelSlot(x, i)];
            while (link.Link != None && !bound.IsAtOrAfter(link.Score, members[link.Link]))
            {
                rank += link.Span;
                x = link.Link;
                link = ref slots[LevelSlot(x, i)];
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
