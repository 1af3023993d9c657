using System.Runtime.CompilerServices;

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
    /// <summary>
    /// What every new hash starts as, shared: a listpack is only written in place when an entry is replaced
    /// by one of the same size, and this one has none, so each first write makes the hash its own array
    /// without leaving an empty one behind per new hash.
    /// </summary>
    static readonly byte[] EmptyListpack = Listpack.Create();

    public static KeyEntry Add(Database db, ReadOnlySpan<byte> key) => db.Add(key, EmptyListpack, RedisType.Hash, ObjectEncoding.Listpack);

    /// <summary>
    /// The hash's listpack, or null when it is a table (its value is one or the other): the test for the sealed table
    /// is one compare, where one for byte[] goes through the runtime's cast helper (arrays are covariant).
    /// </summary>
    static byte[]? ListpackOf(KeyEntry hash) => hash.Value is FieldTable ? null : Unsafe.As<byte[]>(hash.Value);

    public static int Length(KeyEntry hash) => ListpackOf(hash) is { } lp ? Listpack.Count(lp) / 2 : ((FieldTable)hash.Value).Count;

    /// <summary>Offset of <paramref name="field"/>'s entry in a listpack hash, or -1.</summary>
    static int FindField(byte[] lp, ReadOnlySpan<byte> field)
    {
        int first = Listpack.First(lp);
        return first < 0 ? -1 : Listpack.Find(lp, first, field, skip: 1);
    }

    public static bool TryGet(KeyEntry hash, ReadOnlySpan<byte> field, out ListpackEntry value)
    {
        if (ListpackOf(hash) is { } lp)
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
        ListpackOf(hash) is { } lp ? FindField(lp, field) >= 0 : ((FieldTable)hash.Value).Contains(field);

    /// <summary>Sets <paramref name="field"/> to <paramref name="value"/>; true when the field is new.</summary>
    public static bool Set(KeyEntry hash, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, ListpackLimits limits)
    {
        if (ListpackOf(hash) is { } lp)
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
        return ((FieldTable)hash.Value).Set(field, value);
    }

    /// <summary>
    /// HSET's pairs (field, value, field, value...) set in order, as <see cref="Set"/> one by one would;
    /// the number of new fields. A listpack that stays one gets its new fields in one allocation rather
    /// than one per pair: each discarded intermediate array was garbage, and a bulk load's garbage that
    /// outlives a young collection stays as free space in the old generation (1M five-field hashes left
    /// ~30 MB of it).
    /// </summary>
    public static int SetPairs<TPairs>(KeyEntry hash, in TPairs pairs, ListpackLimits limits) where TPairs : StreamValue.IFieldList, allows ref struct
    {
        if (ListpackOf(hash) is { } lp && AllFit(pairs, limits.MaxValueLength))
        {
            int added = 0, addedBytes = 0;
            for (int i = 0; i < pairs.Count; i += 2)
            {
                if (!IsNewField(lp, pairs, i)) continue;
                added++;
                addedBytes += new ListpackValue(pairs[i]).EntrySize + new ListpackValue(pairs[LastValueOf(pairs, i)]).EntrySize;
            }
            if (Listpack.Count(lp) / 2 + added <= limits.MaxEntries)
            {
                // Fields already there take their new values in place (in order: the last one wins)...
                for (int i = 0; i < pairs.Count; i += 2)
                {
                    int p = FindField(lp, pairs[i]);
                    if (p >= 0) lp = Listpack.Replace(lp, Listpack.Next(lp, p), pairs[i + 1]);
                }
                // ...then the new ones follow in the order they first appear, each with its last value.
                if (added > 0)
                {
                    // The grown array's room is unwritten until the loop ends: fields are looked up in the old one.
                    var grown = Listpack.GrowAtEnd(lp, addedBytes, 2 * added);
                    int at = Listpack.EndOffset(grown) - addedBytes;
                    for (int i = 0; i < pairs.Count; i += 2)
                    {
                        if (!IsNewField(lp, pairs, i)) continue;
                        var field = new ListpackValue(pairs[i]);
                        var value = new ListpackValue(pairs[LastValueOf(pairs, i)]);
                        field.Write(grown.AsSpan(at));
                        at += field.EntrySize;
                        value.Write(grown.AsSpan(at));
                        at += value.EntrySize;
                    }
                    lp = grown;
                }
                hash.Value = lp;
                return added;
            }
        }
        int created = 0;
        for (int i = 0; i < pairs.Count; i += 2)
        {
            if (Set(hash, pairs[i], pairs[i + 1], limits)) created++;
        }
        return created;
    }

    static bool AllFit<TPairs>(in TPairs pairs, long maxLength) where TPairs : StreamValue.IFieldList, allows ref struct
    {
        for (int i = 0; i < pairs.Count; i++)
        {
            if (pairs[i].Length > maxLength) return false;
        }
        return true;
    }

    /// <summary>Whether pair <paramref name="i"/>'s field is in neither the listpack nor an earlier pair.</summary>
    static bool IsNewField<TPairs>(byte[] lp, in TPairs pairs, int i) where TPairs : StreamValue.IFieldList, allows ref struct =>
        FindField(lp, pairs[i]) < 0 && !EarlierField(pairs, i);

    static bool EarlierField<TPairs>(in TPairs pairs, int i) where TPairs : StreamValue.IFieldList, allows ref struct
    {
        for (int j = 0; j < i; j += 2)
        {
            if (pairs[j].SequenceEqual(pairs[i])) return true;
        }
        return false;
    }

    /// <summary>The index of the value the field of pair <paramref name="i"/> ends with: its last pair's.</summary>
    static int LastValueOf<TPairs>(in TPairs pairs, int i) where TPairs : StreamValue.IFieldList, allows ref struct
    {
        int last = i + 1;
        for (int j = i + 2; j < pairs.Count; j += 2)
        {
            if (pairs[j].SequenceEqual(pairs[i])) last = j + 1;
        }
        return last;
    }

    public static bool Delete(KeyEntry hash, ReadOnlySpan<byte> field)
    {
        if (ListpackOf(hash) is not { } lp) return ((FieldTable)hash.Value).Remove(field);
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
        if (ListpackOf(hash) is not null)
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
            if (ListpackOf(hash) is { } lp)
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
