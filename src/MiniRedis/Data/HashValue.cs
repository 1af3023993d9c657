namespace MiniRedis.Data;

/// <summary>When a compact listpack value must become a hash table (hash-max-listpack-entries/-value).</summary>
public readonly record struct ListpackLimits(long MaxEntries, long MaxValueLength);

/// <summary>
/// The hash type over a key's entry, hiding its encoding (Redis's hashType* functions). A small
/// hash is a listpack of field, value, field, value... stored directly as the entry's value
/// (a byte[], no wrapper object: a million small hashes must stay close to Redis's memory); a big
/// one is a <see cref="FieldTable"/>. The one conversion, listpack → table, happens in
/// <see cref="Set"/> when a limit is crossed, never back, as in Redis.
/// </summary>
public static class HashValue
{
    public static KeyEntry Add(Database db, ReadOnlySpan<byte> key) => db.Add(key, Listpack.Create(), RedisType.Hash, ObjectEncoding.Listpack);

    public static int Length(KeyEntry hash) => hash.Value is byte[] lp ? Listpack.Count(lp) / 2 : ((FieldTable)hash.Value).Count;

    /// <summary>Offset of <paramref name="field"/>'s entry in a listpack hash, or -1.</summary>
    static int FindField(byte[] lp, ReadOnlySpan<byte> field)
    {
        int first = Listpack.First(lp);
        return first < 0 ? -1 : Listpack.Find(lp, first, field, skip: 1);
    }

    public static bool TryGet(KeyEntry hash, ReadOnlySpan<byte> field, out ListpackEntry value)
    {
        if (hash.Value is byte[] lp)
        {
            int p = FindField(lp, field);
            value = p < 0 ? default : Listpack.Get(lp, Listpack.Next(lp, p));
            return p >= 0;
        }
        bool found = ((FieldTable)hash.Value).TryGetValue(field, out var bytes);
        value = found ? new ListpackEntry(bytes) : default;
        return found;
    }

    public static bool Contains(KeyEntry hash, ReadOnlySpan<byte> field) =>
        hash.Value is byte[] lp ? FindField(lp, field) >= 0 : ((FieldTable)hash.Value).Contains(field);

    /// <summary>Sets <paramref name="field"/> to <paramref name="value"/>; true when the field is new.</summary>
    public static bool Set(KeyEntry hash, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, ListpackLimits limits)
    {
        if (hash.Value is byte[] lp)
        {
            if (field.Length <= limits.MaxValueLength && value.Length <= limits.MaxValueLength)
            {
                int p = FindField(lp, field);
                if (p >= 0)
                {
                    hash.Value = Listpack.Replace(lp, Listpack.Next(lp, p), value);
                    return false;
                }
                lp = Listpack.AppendPair(lp, field, value);
                hash.Value = lp;
                if (Listpack.Count(lp) / 2 > limits.MaxEntries) ConvertToTable(hash);
                return true;
            }
            ConvertToTable(hash);
        }
        return ((FieldTable)hash.Value).Set(field, value.ToArray());
    }

    public static bool Delete(KeyEntry hash, ReadOnlySpan<byte> field)
    {
        if (hash.Value is not byte[] lp) return ((FieldTable)hash.Value).Remove(field);
        int p = FindField(lp, field);
        if (p < 0) return false;
        hash.Value = Listpack.Delete(lp, p, 2);
        return true;
    }

    static void ConvertToTable(KeyEntry hash)
    {
        var lp = (byte[])hash.Value;
        var table = new FieldTable(Listpack.Count(lp) / 2);
        for (var e = new Enumerator(hash); e.MoveNext();) table.Insert(e.Field.ToArray(), e.Value.ToArray());
        hash.Value = table;
        hash.Encoding = ObjectEncoding.Hashtable;
    }

    /// <summary>The field and value at position <paramref name="index"/> of the hash's iteration order (random picks).</summary>
    public static void GetAt(KeyEntry hash, int index, out ListpackEntry field, out ListpackEntry value)
    {
        var lp = (byte[])hash.Value;
        int p = Listpack.Seek(lp, 2L * index);
        field = Listpack.Get(lp, p);
        value = Listpack.Get(lp, Listpack.Next(lp, p));
    }

    /// <summary>A uniformly random field and its value of a non-empty hash.</summary>
    public static void Random(KeyEntry hash, out ListpackEntry field, out ListpackEntry value)
    {
        if (hash.Value is byte[])
        {
            GetAt(hash, System.Random.Shared.Next(Length(hash)), out field, out value);
            return;
        }
        var (key, bytes) = ((FieldTable)hash.Value).Random();
        field = new ListpackEntry(key);
        value = new ListpackEntry(bytes);
    }

    /// <summary>Walks the fields and values; the hash must not change meanwhile.</summary>
    public ref struct Enumerator
    {
        readonly byte[]? _listpack;
        FieldTable.Enumerator _table;
        int _offset;

        public Enumerator(KeyEntry hash)
        {
            if (hash.Value is byte[] lp)
            {
                _listpack = lp;
                _offset = -2;
            }
            else _table = ((FieldTable)hash.Value).GetEnumerator();
        }

        public ListpackEntry Field { get; private set; }
        public ListpackEntry Value { get; private set; }

        public bool MoveNext()
        {
            if (_listpack is null)
            {
                if (!_table.MoveNext()) return false;
                Field = new ListpackEntry(_table.Current.Key);
                Value = new ListpackEntry(_table.Current.Value);
                return true;
            }
            _offset = _offset == -2 ? Listpack.First(_listpack) : Listpack.Next(_listpack, Listpack.Next(_listpack, _offset));
            if (_offset < 0) return false;
            Field = Listpack.Get(_listpack, _offset);
            Value = Listpack.Get(_listpack, Listpack.Next(_listpack, _offset));
            return true;
        }
    }
}
