namespace MiniRedis.Data;

/// <summary>
/// The set type over a key's entry, hiding its encoding (Redis 7.0's setType* functions). A set of
/// integers is an <see cref="Intset"/> blob stored directly as the entry's value while it has at most
/// set-max-intset-entries members; anything else is a <see cref="FieldTable"/> of members (no values).
/// Redis 7.0 has no listpack sets (that came in 7.2). The conversion happens only in <see cref="Add"/>.
/// Members are handed out as <see cref="ListpackEntry"/>: an integer for intsets, bytes otherwise.
/// </summary>
public static class SetValue
{
    /// <summary>A new set of the encoding Redis picks for its first member (setTypeCreate).</summary>
    public static KeyEntry Add(Database db, ReadOnlySpan<byte> key, ReadOnlySpan<byte> firstMember) =>
        RedisNumbers.TryParseInt64(firstMember, out _)
            ? db.Add(key, Intset.Create(), RedisType.Set, ObjectEncoding.Intset)
            : db.Add(key, new FieldTable(), RedisType.Set, ObjectEncoding.Hashtable);

    public static int Count(KeyEntry set) => set.Value is byte[] intset ? Intset.Count(intset) : ((FieldTable)set.Value).Count;

    public static bool Contains(KeyEntry set, ReadOnlySpan<byte> member)
    {
        if (set.Value is not byte[] intset) return ((FieldTable)set.Value).Contains(member);
        return RedisNumbers.TryParseInt64(member, out long value) && Intset.Contains(intset, value);
    }

    /// <summary>Membership of an element read from another set, comparing integers directly where both sides are intsets.</summary>
    public static bool Contains(KeyEntry set, ListpackEntry member)
    {
        if (member.IsInteger && set.Value is byte[] intset) return Intset.Contains(intset, member.Integer);
        Span<byte> scratch = stackalloc byte[RedisNumbers.MaxInt64Length];
        return Contains(set, member.AsBytes(scratch));
    }

    public static bool Add(KeyEntry set, ListpackEntry member, long maxIntsetEntries)
    {
        Span<byte> scratch = stackalloc byte[RedisNumbers.MaxInt64Length];
        return Add(set, member.AsBytes(scratch), maxIntsetEntries);
    }

    /// <summary>Adds <paramref name="member"/>; true when it was not there.</summary>
    public static bool Add(KeyEntry set, ReadOnlySpan<byte> member, long maxIntsetEntries)
    {
        if (set.Value is byte[] intset)
        {
            if (RedisNumbers.TryParseInt64(member, out long value))
            {
                set.Value = intset = Intset.Add(intset, value, out bool added);
                if (added && Intset.Count(intset) > maxIntsetEntries) ConvertToTable(set);
                return added;
            }
            ConvertToTable(set);
        }
        return ((FieldTable)set.Value).Add(member);
    }

    public static bool Remove(KeyEntry set, ReadOnlySpan<byte> member)
    {
        if (set.Value is not byte[] intset) return ((FieldTable)set.Value).Remove(member);
        if (!RedisNumbers.TryParseInt64(member, out long value)) return false;
        set.Value = Intset.Remove(intset, value, out bool removed);
        return removed;
    }

    static void ConvertToTable(KeyEntry set)
    {
        var intset = (byte[])set.Value;
        int count = Intset.Count(intset);
        var table = new FieldTable(count);
        Span<byte> digits = stackalloc byte[RedisNumbers.MaxInt64Length];
        for (int i = 0; i < count; i++) table.Insert(digits[..RedisNumbers.FormatInt64(Intset.Get(intset, i), digits)].ToArray(), null);
        set.Value = table;
        set.Encoding = ObjectEncoding.Hashtable;
    }

    /// <summary>A uniformly random member of a non-empty set.</summary>
    public static ListpackEntry Random(KeyEntry set)
    {
        if (set.Value is byte[] intset) return new ListpackEntry(Intset.Get(intset, System.Random.Shared.Next(Intset.Count(intset))));
        return new ListpackEntry(((FieldTable)set.Value).Random().Key);
    }

    /// <summary>An empty set outside any database, to build an SINTERSTORE/SUNIONSTORE/SDIFFSTORE result in before storing it.</summary>
    public static KeyEntry CreateDetached() => new([], Intset.Create(), RedisType.Set, ObjectEncoding.Intset);

    /// <summary>Walks the members (intsets in ascending order); the set must not change meanwhile.</summary>
    public ref struct Enumerator
    {
        readonly byte[]? _intset;
        FieldTable.Enumerator _table;
        int _index;

        public Enumerator(KeyEntry set)
        {
            _index = -1;
            if (set.Value is byte[] intset) _intset = intset;
            else _table = ((FieldTable)set.Value).GetEnumerator();
        }

        public ListpackEntry Current { get; private set; }

        public bool MoveNext()
        {
            if (_intset is null)
            {
                if (!_table.MoveNext()) return false;
                Current = new ListpackEntry(_table.Current.Key);
                return true;
            }
            if (++_index >= Intset.Count(_intset)) return false;
            Current = new ListpackEntry(Intset.Get(_intset, _index));
            return true;
        }
    }
}
