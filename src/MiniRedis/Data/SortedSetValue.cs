using System.Runtime.InteropServices;

namespace MiniRedis.Data;

/// <summary>
/// A sorted set (Redis's zset), ordered by (score, member bytes). Small sets are kept compact — members and
/// scores in parallel sorted arrays, what Redis calls the listpack encoding — and become a skiplist plus a
/// member→score dictionary once they outgrow zset-max-listpack-entries/-value (never back, except for the
/// new values store commands build). Positions are 0-based ranks in ascending order.
/// </summary>
public sealed class SortedSetValue : ICopyableValue
{
    // Compact form (when _list is null).
    byte[][] _members;
    double[] _scores;
    int _count;

    // Skiplist form.
    SkipList? _list;
    // The member→score dictionary (null Dictionary in the compact form), held as its span lookup: taking the
    // lookup checks the comparer's interfaces (a type cast) on every call, a few percent of a GEOADD.
    Dictionary<byte[], double>.AlternateLookup<ReadOnlySpan<byte>> _dict;

    /// <summary>
    /// What the elements take in Redis's layout, for memory accounting: listpack entries (member and score)
    /// in the compact form, the members' sds strings in the skiplist form. Kept as elements come and go.
    /// </summary>
    public long ElementBytes { get; private set; }

    static long CompactCost(ReadOnlySpan<byte> member, double score)
    {
        Span<byte> digits = stackalloc byte[RedisNumbers.MaxDoubleLength];
        return new ListpackValue(member).EntrySize + new ListpackValue(digits[..RedisNumbers.FormatDouble(score, digits)]).EntrySize;
    }

    static long SkiplistCost(byte[] member) => AllocationModel.Sds(member.Length);

    public SortedSetValue(int capacity = 4)
    {
        _members = new byte[capacity][];
        _scores = new double[capacity];
    }

    public long Count => _list?.Count ?? _count;

    public ObjectEncoding Encoding => _list is null ? ObjectEncoding.Listpack : ObjectEncoding.Skiplist;

    public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
    {
        if (_dict.Dictionary is not null) return _dict.TryGetValue(member, out score);
        int index = IndexOfMember(member);
        score = index >= 0 ? _scores[index] : 0;
        return index >= 0;
    }

    int IndexOfMember(ReadOnlySpan<byte> member)
    {
        for (int i = 0; i < _count; i++)
        {
            if (_members[i].AsSpan().SequenceEqual(member)) return i;
        }
        return -1;
    }

    /// <summary>
    /// Adds a member that is not present, first turning a compact set into a skiplist when one more element
    /// or this member's length would pass the limits (Redis's zsetAdd).
    /// </summary>
    public void Insert(ReadOnlySpan<byte> member, double score, long maxCompactEntries, long maxCompactValue)
    {
        if (_list is null && (_count + 1 > maxCompactEntries || member.Length > maxCompactValue)) ConvertToSkiplist();
        var bytes = member.ToArray();
        if (_list is not null)
        {
            _list.Insert(bytes, score);
            _dict.Dictionary.Add(bytes, score);
            ElementBytes += SkiplistCost(bytes);
            return;
        }
        InsertCompact(bytes, score);
    }

    /// <summary>Places an element in the compact arrays at its rank.</summary>
    void InsertCompact(byte[] member, double score)
    {
        // The listpack keeps integral scores as integers, so -0 reads back as 0.
        if (score == 0) score = 0;
        if (_count == _members.Length)
        {
            Array.Resize(ref _members, _count * 2);
            Array.Resize(ref _scores, _count * 2);
        }
        int at = CompactCountBefore(new ElementBound(score, member));
        Array.Copy(_members, at, _members, at + 1, _count - at);
        Array.Copy(_scores, at, _scores, at + 1, _count - at);
        _members[at] = member;
        _scores[at] = score;
        _count++;
        ElementBytes += CompactCost(member, score);
    }

    /// <summary>Changes the score of a present member.</summary>
    public void UpdateScore(ReadOnlySpan<byte> member, double oldScore, double newScore)
    {
        if (_list is not null)
        {
            CollectionsMarshal.GetValueRefOrNullRef(_dict, member) = newScore;
            _list.UpdateScore(member, oldScore, newScore);
            return;
        }
        int index = IndexOfMember(member);
        var bytes = _members[index];
        RemoveCompactAt(index);
        InsertCompact(bytes, newScore);
    }

    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (_list is not null)
        {
            if (!_dict.Remove(member, out _, out double score)) return false;
            _list.Delete(member, score);
            ElementBytes -= AllocationModel.Sds(member.Length);
            return true;
        }
        int index = IndexOfMember(member);
        if (index < 0) return false;
        RemoveCompactAt(index);
        return true;
    }

    void RemoveCompactAt(int index)
    {
        ElementBytes -= CompactCost(_members[index], _scores[index]);
        _count--;
        Array.Copy(_members, index + 1, _members, index, _count - index);
        Array.Copy(_scores, index + 1, _scores, index, _count - index);
        _members[_count] = null!;
    }

    /// <summary>Removes the elements with ranks in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public void RemoveRange(long start, long end)
    {
        if (end <= start) return;
        if (_list is null)
        {
            int from = (int)start, removed = (int)(end - start);
            for (int i = from; i < from + removed; i++) ElementBytes -= CompactCost(_members[i], _scores[i]);
            Array.Copy(_members, from + removed, _members, from, _count - from - removed);
            Array.Copy(_scores, from + removed, _scores, from, _count - from - removed);
            Array.Clear(_members, _count - removed, removed);
            _count -= removed;
            return;
        }
        int node = _list.NodeAt(start);
        for (long i = start; i < end; i++)
        {
            int next = _list.Next(node);
            var member = _list.Member(node);
            _dict.Dictionary.Remove(member);
            _list.Delete(member, _list.Score(node));
            ElementBytes -= SkiplistCost(member);
            node = next;
        }
    }

    /// <summary>The 0-based ascending rank of a member, or -1 when absent.</summary>
    public long RankOf(ReadOnlySpan<byte> member)
    {
        if (_list is null) return IndexOfMember(member);
        return TryGetScore(member, out double score) ? _list.RankOf(member, score) : -1;
    }

    /// <summary>How many elements sort before <paramref name="bound"/>; with two bounds this gives a range of ranks.</summary>
    public long CountBefore<TBound>(in TBound bound) where TBound : struct, IElementBound
        => _list?.CountBefore(bound) ?? CompactCountBefore(bound);

    int CompactCountBefore<TBound>(in TBound bound) where TBound : struct, IElementBound
    {
        int low = 0, high = _count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (bound.IsAtOrAfter(_scores[middle], _members[middle])) high = middle;
            else low = middle + 1;
        }
        return low;
    }

    /// <summary>A cursor on the element at <paramref name="rank"/>, stepping towards higher ranks or, if <paramref name="reverse"/>, lower ones.</summary>
    public Cursor At(long rank, bool reverse = false)
        => _list is null ? new Cursor(this, null, (int)rank, reverse)
            : new Cursor(this, _list, rank == _list.Count - 1 ? _list.Last : _list.NodeAt(rank), reverse);

    /// <summary>Walks elements in rank order; stepping past either end is the caller's to avoid.</summary>
    public struct Cursor
    {
        readonly SortedSetValue _set;
        readonly SkipList? _list;
        readonly bool _reverse;
        // A skiplist node when _list is set, else an index into the compact arrays.
        int _position;

        internal Cursor(SortedSetValue set, SkipList? list, int position, bool reverse)
        {
            _set = set;
            _list = list;
            _position = position;
            _reverse = reverse;
        }

        public readonly byte[] Member => _list?.Member(_position) ?? _set._members[_position];
        public readonly double Score => _list?.Score(_position) ?? _set._scores[_position];

        public void Advance()
        {
            if (_list is not null) _position = _reverse ? _list.Previous(_position) : _list.Next(_position);
            else _position += _reverse ? -1 : 1;
        }
    }

    /// <summary>Every member with its score, in no particular order (ZSCAN, set operations).</summary>
    public IEnumerable<(byte[] Member, double Score)> Elements()
    {
        if (_list is null)
        {
            for (int i = 0; i < _count; i++) yield return (_members[i], _scores[i]);
            yield break;
        }
        for (int node = _list.First; node != SkipList.None; node = _list.Next(node)) yield return (_list.Member(node), _list.Score(node));
    }

    public void ConvertToSkiplist()
    {
        if (_list is not null) return;
        var list = new SkipList();
        var dict = new Dictionary<byte[], double>(_count, ByteArrayComparer.Instance);
        long elementBytes = 0;
        for (int i = 0; i < _count; i++)
        {
            list.Insert(_members[i], _scores[i]);
            dict.Add(_members[i], _scores[i]);
            elementBytes += SkiplistCost(_members[i]);
        }
        ElementBytes = elementBytes;
        _list = list;
        _dict = dict.GetAlternateLookup<ReadOnlySpan<byte>>();
        _members = [];
        _scores = [];
        _count = 0;
    }

    /// <summary>
    /// Turns a skiplist back into the compact form when it fits (Redis's zsetConvertToListpackIfNeeded, which
    /// store commands apply to the results they build as skiplists).
    /// </summary>
    public void ConvertToCompactIfFits(long maxCompactEntries, long maxCompactValue)
    {
        if (_list is null || _list.Count > maxCompactEntries) return;
        for (int node = _list.First; node != SkipList.None; node = _list.Next(node))
        {
            if (_list.Member(node).Length > maxCompactValue) return;
        }
        var list = _list;
        _list = null;
        _dict = default;
        _members = new byte[Math.Max(list.Count, 4)][];
        _scores = new double[_members.Length];
        ElementBytes = 0;
        for (int node = list.First; node != SkipList.None; node = list.Next(node)) Insert(list.Member(node), list.Score(node), maxCompactEntries, maxCompactValue);
    }

    public object DeepCopy()
    {
        var copy = new SortedSetValue(Math.Max(_count, 4));
        if (_list is null)
        {
            for (int i = 0; i < _count; i++)
            {
                copy._members[i] = (byte[])_members[i].Clone();
                copy._scores[i] = _scores[i];
            }
            copy._count = _count;
            copy.ElementBytes = ElementBytes;
            return copy;
        }
        copy.ConvertToSkiplist();
        for (int node = _list.First; node != SkipList.None; node = _list.Next(node))
        {
            var member = (byte[])_list.Member(node).Clone();
            double score = _list.Score(node);
            copy._list!.Insert(member, score);
            copy._dict.Dictionary.Add(member, score);
        }
        copy.ElementBytes = ElementBytes;
        return copy;
    }
}

/// <summary>The position of one element, (score, member): IsAtOrAfter holds for it and everything after it.</summary>
public readonly struct ElementBound(double score, byte[] member) : IElementBound
{
    public bool IsAtOrAfter(double elementScore, ReadOnlySpan<byte> element) => SkipList.Compare(elementScore, element, score, member) >= 0;
}

/// <summary>A score bound: before or after the elements scoring exactly <paramref name="score"/>.</summary>
public readonly struct ScoreBound(double score, bool afterEqual) : IElementBound
{
    public bool IsAtOrAfter(double elementScore, ReadOnlySpan<byte> element) => afterEqual ? elementScore > score : elementScore >= score;
}

/// <summary>
/// A lex bound (ZRANGEBYLEX): "-" is before everything, "+" after everything, otherwise before or after
/// members equal to <paramref name="member"/>. Meaningful when all scores are equal, as in Redis.
/// </summary>
public readonly struct LexBound(byte[]? member, bool afterEqual, bool isPlus) : IElementBound
{
    public bool IsAtOrAfter(double elementScore, ReadOnlySpan<byte> element)
    {
        if (member is null) return !isPlus;
        int comparison = element.SequenceCompareTo(member);
        return afterEqual ? comparison > 0 : comparison >= 0;
    }
}
