using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MiniRedis.Config;
using MiniRedis.Data;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// The per-type decoders (Redis's rdbLoadObject): strings, lists (plain, ziplist, quicklist 1 and 2),
/// sets (plain, intset, listpack), sorted sets (text and binary scores, ziplist, listpack) and hashes
/// (plain, zipmap, ziplist, listpack), each converted to the encoding our config's thresholds give.
/// The input layer they read through (buffer, lengths, strings, checksum) is in RdbReader.cs.
/// </summary>
public sealed partial class RdbReader
{
    /// <summary>Reads a value of <paramref name="rdbType"/>; false for an empty collection (skipped, as Redis does).</summary>
    bool TryReadValue(RdbType rdbType, out object value, out RedisType type, out ObjectEncoding encoding)
    {
        value = null!;
        encoding = default;
        switch (rdbType)
        {
            case RdbType.String:
                var bytes = ReadStringArray();
                (value, type, encoding) = (bytes, RedisType.String, StringEncoding.Of(bytes));
                return true;
            case RdbType.List or RdbType.ListQuicklist or RdbType.ListQuicklist2 or RdbType.ListZiplist:
                type = RedisType.List;
                encoding = ListValue.Encoding;
                var list = ReadList(rdbType);
                value = list;
                return list.Count > 0;
            case RdbType.Set or RdbType.SetIntset:
                type = RedisType.Set;
                return rdbType == RdbType.Set ? TryReadSet(out value, out encoding) : TryReadIntset(out value, out encoding);
            case RdbType.ZSet or RdbType.ZSet2:
                type = RedisType.ZSet;
                return TryReadSortedSet(rdbType, out value, out encoding);
            case RdbType.ZSetListpack or RdbType.ZSetZiplist:
                type = RedisType.ZSet;
                return TryReadPackedSortedSet(rdbType, out value, out encoding);
            case RdbType.Hash:
                type = RedisType.Hash;
                return TryReadHash(out value, out encoding);
            case RdbType.HashListpack or RdbType.HashZiplist or RdbType.HashZipmap:
                type = RedisType.Hash;
                return TryReadPackedHash(rdbType, out value, out encoding);
            case RdbType.StreamListpacks or RdbType.StreamListpacks2:
                (value, type, encoding) = (ReadStream(rdbType), RedisType.Stream, ObjectEncoding.Stream);
                return true;
            case RdbType.ModulePreGa or RdbType.Module2:
                throw Corrupt($"The RDB file contains module data I can't load: no matching module type '{ModuleName(ReadLength(out _))}' (modules are not supported)");
            default:
                throw Corrupt($"Unknown RDB encoding type {(int)rdbType}");
        }
    }

    /// <summary>A module type's 9-character name, packed 6 bits a character above its 10-bit version (moduleTypeNameByID).</summary>
    static string ModuleName(ulong id)
    {
        const string charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var name = new char[9];
        for (int i = 0; i < name.Length; i++) name[i] = charset[(int)((id >> (64 - 6 * (i + 1))) & 63)];
        return new string(name);
    }

    ListValue ReadList(RdbType rdbType)
    {
        var list = new ListValue();
        if (rdbType == RdbType.ListZiplist)
        {
            var blob = ReadStringScratch(ref _scratch);
            _listpack.Reset();
            if (!Ziplist.TryConvert(blob, _listpack)) throw Corrupt("List ziplist integrity check failed.");
            _listpack.Finish();
            PushAll(list, _listpack.Buffer);
            return list;
        }
        long count = ReadCount();
        if (rdbType == RdbType.List)
        {
            for (long i = 0; i < count; i++) list.Push(ReadStringScratch(ref _scratch), head: false);
            return list;
        }
        for (long node = 0; node < count; node++)
        {
            ulong container = rdbType == RdbType.ListQuicklist2 ? ReadLength(out _) : RdbFormat.QuicklistPacked;
            if (container is not (RdbFormat.QuicklistPacked or RdbFormat.QuicklistPlain)) throw Corrupt("Quicklist integrity check failed.");
            if (container == RdbFormat.QuicklistPlain)
            {
                var element = ReadStringScratch(ref _scratch);
                if (element.IsEmpty) throw Corrupt("Quicklist integrity check failed.");
                list.Push(element, head: false);
                continue;
            }
            var blob = ReadStringScratch(ref _scratch);
            if (blob.IsEmpty) throw Corrupt("Quicklist integrity check failed.");
            if (rdbType == RdbType.ListQuicklist2)
            {
                if (!Listpack.IsValid(blob)) throw Corrupt("Listpack integrity check failed.");
                PushAll(list, _scratch!);
            }
            else
            {
                _listpack.Reset();
                if (!Ziplist.TryConvert(blob, _listpack)) throw Corrupt("Ziplist integrity check failed.");
                _listpack.Finish();
                PushAll(list, _listpack.Buffer);
            }
        }
        return list;
    }

    /// <summary>Appends the entries of a validated listpack lying at the start of <paramref name="listpack"/> (a scratch or the builder's buffer).</summary>
    static void PushAll(ListValue list, byte[] listpack)
    {
        Span<byte> scratch = stackalloc byte[RedisNumbers.MaxInt64Length];
        int bytes = 0;
        for (int p = Listpack.First(listpack); p >= 0; p = Listpack.Next(listpack, p)) bytes += ListValue.EncodedSize(Listpack.Get(listpack, p).AsBytes(scratch).Length);
        list.ReserveTail(bytes);
        for (int p = Listpack.First(listpack); p >= 0; p = Listpack.Next(listpack, p)) list.Push(Listpack.Get(listpack, p).AsBytes(scratch), head: false);
    }

    /// <summary>
    /// Type 2 (rdbLoadObject): more members than set-max-intset-entries go to a hash table at once;
    /// otherwise an intset until a member is not an integer.
    /// </summary>
    bool TryReadSet(out object value, out ObjectEncoding encoding)
    {
        long count = ReadCount();
        value = null!;
        encoding = ObjectEncoding.Intset;
        if (count == 0) return false;
        FieldTable? table = count > Math.Min(_config.SetMaxIntsetEntries, 1 << 30) ? new FieldTable(CapacityHint(count)) : null;
        _integers.Clear();
        for (long i = 0; i < count; i++)
        {
            if (table is null)
            {
                var member = ReadStringScratch(ref _scratch);
                if (RedisNumbers.TryParseInt64(member, out long integer))
                {
                    _integers.Add(integer);
                    continue;
                }
                table = TableOf(_integers, CapacityHint(count));
                AddMember(table, member.ToArray());
                continue;
            }
            AddMember(table, ReadStringArray());
        }
        if (table is not null)
        {
            (value, encoding) = (table, ObjectEncoding.Hashtable);
            return true;
        }
        value = BuildIntset(_integers);
        return true;
    }

    void AddMember(FieldTable table, byte[] member)
    {
        if (table.Contains(member)) throw Corrupt("Duplicate set members detected");
        table.Insert(member, null);
    }

    FieldTable TableOf(List<long> integers, int capacity)
    {
        var table = new FieldTable(capacity);
        Span<byte> digits = stackalloc byte[RedisNumbers.MaxInt64Length];
        foreach (long integer in integers) AddMember(table, digits[..RedisNumbers.FormatInt64(integer, digits)].ToArray());
        return table;
    }

    /// <summary>An intset blob of the integers: sorted, at the narrowest width that holds them all.</summary>
    byte[] BuildIntset(List<long> integers)
    {
        integers.Sort();
        int width = sizeof(short);
        for (int i = 0; i < integers.Count; i++)
        {
            if (i > 0 && integers[i] == integers[i - 1]) throw Corrupt("Duplicate set members detected");
            width = Math.Max(width, Intset.WidthFor(integers[i]));
        }
        var set = new byte[Intset.HeaderSize + integers.Count * width];
        BinaryPrimitives.WriteUInt32LittleEndian(set, (uint)width);
        BinaryPrimitives.WriteUInt32LittleEndian(set.AsSpan(4), (uint)integers.Count);
        var data = set.AsSpan(Intset.HeaderSize);
        foreach (long integer in integers)
        {
            if (width == 2) BinaryPrimitives.WriteInt16LittleEndian(data, (short)integer);
            else if (width == 4) BinaryPrimitives.WriteInt32LittleEndian(data, (int)integer);
            else BinaryPrimitives.WriteInt64LittleEndian(data, integer);
            data = data[width..];
        }
        return set;
    }

    bool TryReadIntset(out object value, out ObjectEncoding encoding)
    {
        var intset = ReadStringArray();
        if (!Intset.IsValid(intset) || Intset.Count(intset) == 0) throw Corrupt("Intset integrity check failed.");
        value = intset;
        encoding = ObjectEncoding.Intset;
        if (Intset.Count(intset) <= _config.SetMaxIntsetEntries) return true;
        _integers.Clear();
        for (int i = 0; i < Intset.Count(intset); i++) _integers.Add(Intset.Get(intset, i));
        (value, encoding) = (TableOf(_integers, Intset.Count(intset)), ObjectEncoding.Hashtable);
        return true;
    }

    /// <summary>Types 3 and 5: loaded in any order, compact when within zset-max-listpack-entries and -value.</summary>
    bool TryReadSortedSet(RdbType rdbType, out object value, out ObjectEncoding encoding)
    {
        long count = ReadCount();
        var zset = new SortedSetValue();
        value = zset;
        encoding = default;
        if (count == 0) return false;
        if (count > _config.ZsetMaxListpackEntries) zset.ConvertToSkiplist();
        for (long i = 0; i < count; i++)
        {
            var member = ReadStringScratch(ref _scratch);
            double score = rdbType == RdbType.ZSet2 ? ReadBinaryDouble() : ReadTextScore();
            if (double.IsNaN(score)) throw Corrupt("Zset with NAN score detected");
            if (zset.TryGetScore(member, out _)) throw Corrupt("Duplicate zset fields detected");
            zset.Insert(member, score, _config.ZsetMaxListpackEntries, _config.ZsetMaxListpackValue);
        }
        encoding = zset.Encoding;
        return true;
    }

    double ReadBinaryDouble()
    {
        Need(8);
        return BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
    }

    /// <summary>Redis's rdbLoadDoubleValue: a length byte (253 NaN, 254 +inf, 255 -inf) and the number as text.</summary>
    double ReadTextScore()
    {
        byte length = ReadByte();
        switch (length)
        {
            case RdbFormat.ScoreNaN: return double.NaN;
            case RdbFormat.ScorePositiveInfinity: return double.PositiveInfinity;
            case RdbFormat.ScoreNegativeInfinity: return double.NegativeInfinity;
        }
        Need(length);
        return RedisNumbers.TryParseDouble(Take(length), out double score) ? score : throw Corrupt("Invalid zset score");
    }

    /// <summary>
    /// Types 17 and 12 (a listpack, or a ziplist converted into one): compact unless it has more than
    /// zset-max-listpack-entries elements (Redis checks only the count here, not member lengths).
    /// </summary>
    bool TryReadPackedSortedSet(RdbType rdbType, out object value, out ObjectEncoding encoding)
    {
        var blob = ReadStringScratch(ref _scratch);
        string failure = rdbType == RdbType.ZSetListpack ? "Zset listpack integrity check failed." : "Zset ziplist integrity check failed.";
        byte[] lp;
        if (rdbType == RdbType.ZSetListpack)
        {
            if (!Listpack.IsValid(blob)) throw Corrupt(failure);
            lp = _scratch!;
        }
        else
        {
            _listpack.Reset();
            if (!Ziplist.TryConvert(blob, _listpack)) throw Corrupt(failure);
            lp = _listpack.ToArray();
        }
        int entries = Listpack.Count(lp);
        if (entries % 2 != 0 || HasDuplicateFields(lp)) throw Corrupt(failure);
        var zset = new SortedSetValue(Math.Max(4, entries / 2));
        value = zset;
        encoding = default;
        if (entries == 0) return false;
        bool compact = entries / 2 <= _config.ZsetMaxListpackEntries;
        if (!compact) zset.ConvertToSkiplist();
        Span<byte> digits = stackalloc byte[RedisNumbers.MaxInt64Length];
        for (int p = Listpack.First(lp); p >= 0; p = Listpack.Next(lp, Listpack.Next(lp, p)))
        {
            var member = Listpack.Get(lp, p).AsBytes(digits);
            var scoreEntry = Listpack.Get(lp, Listpack.Next(lp, p));
            double score = scoreEntry.Integer;
            if (!scoreEntry.IsInteger && !RedisNumbers.TryParseDouble(scoreEntry.Bytes, out score)) throw Corrupt(failure);
            zset.Insert(member, score, _config.ZsetMaxListpackEntries, long.MaxValue);
        }
        encoding = zset.Encoding;
        return true;
    }

    /// <summary>
    /// Type 4 (rdbLoadObject): more fields than hash-max-listpack-entries go to a hash table at once;
    /// otherwise a listpack until a field or value is longer than hash-max-listpack-value.
    /// </summary>
    bool TryReadHash(out object value, out ObjectEncoding encoding)
    {
        long count = ReadCount();
        value = null!;
        encoding = ObjectEncoding.Listpack;
        if (count == 0) return false;
        FieldTable? table = count > _config.HashMaxListpackEntries ? new FieldTable(CapacityHint(count)) : null;
        _listpack.Reset();
        for (long i = 0; i < count; i++)
        {
            if (table is null)
            {
                var field = ReadStringScratch(ref _scratch);
                var fieldValue = ReadStringScratch(ref _scratch2);
                if (field.Length <= _config.HashMaxListpackValue && fieldValue.Length <= _config.HashMaxListpackValue)
                {
                    _listpack.Append(field);
                    _listpack.Append(fieldValue);
                    continue;
                }
                table = TableOf(_listpack.ToArray(), CapacityHint(count));
                AddField(table, field.ToArray(), fieldValue.ToArray());
                continue;
            }
            AddField(table, ReadStringArray(), ReadStringArray());
        }
        if (table is not null)
        {
            (value, encoding) = (table, ObjectEncoding.Hashtable);
            return true;
        }
        var lp = _listpack.ToArray();
        if (HasDuplicateFields(lp)) throw Corrupt("Hash with dup elements");
        value = lp;
        return true;
    }

    void AddField(FieldTable table, byte[] field, byte[] fieldValue)
    {
        if (table.Contains(field)) throw Corrupt("Duplicate hash fields detected");
        table.Insert(field, fieldValue);
    }

    /// <summary>A hash table of a listpack's field/value pairs.</summary>
    FieldTable TableOf(byte[] lp, int capacity)
    {
        var table = new FieldTable(capacity);
        for (int p = Listpack.First(lp); p >= 0; p = Listpack.Next(lp, Listpack.Next(lp, p)))
        {
            AddField(table, Listpack.Get(lp, p).ToArray(), Listpack.Get(lp, Listpack.Next(lp, p)).ToArray());
        }
        return table;
    }

    /// <summary>
    /// Types 16, 13 and 9: kept as the listpack (converted from a ziplist or zipmap) unless it has more
    /// than hash-max-listpack-entries fields (a zipmap also when a field or value is too long), as Redis 7.0.
    /// </summary>
    bool TryReadPackedHash(RdbType rdbType, out object value, out ObjectEncoding encoding)
    {
        var blob = ReadStringArray();
        byte[] lp = blob;
        int longest = 0;
        switch (rdbType)
        {
            case RdbType.HashListpack:
                if (!Listpack.IsValid(blob) || Listpack.Count(blob) % 2 != 0 || HasDuplicateFields(blob)) throw Corrupt("Hash listpack integrity check failed.");
                break;
            case RdbType.HashZiplist:
                _listpack.Reset();
                if (!Ziplist.TryConvert(blob, _listpack)) throw Corrupt("Hash ziplist integrity check failed.");
                lp = _listpack.ToArray();
                if (Listpack.Count(lp) % 2 != 0 || HasDuplicateFields(lp)) throw Corrupt("Hash ziplist integrity check failed.");
                break;
            default:
                _listpack.Reset();
                if (!Zipmap.TryConvert(blob, _listpack, out longest)) throw Corrupt("Zipmap integrity check failed.");
                lp = _listpack.ToArray();
                if (HasDuplicateFields(lp)) throw Corrupt($"Hash zipmap with dup elements, or big length ({longest})");
                break;
        }
        value = lp;
        encoding = ObjectEncoding.Listpack;
        int fields = Listpack.Count(lp) / 2;
        if (fields == 0) return false;
        if (fields > _config.HashMaxListpackEntries || longest > _config.HashMaxListpackValue)
            (value, encoding) = (TableOf(lp, fields), ObjectEncoding.Hashtable);
        return true;
    }

    /// <summary>Up to this many fields, comparing each field with those before it costs less than hashing and sorting them (most hashes and sorted sets of an image).</summary>
    const int PairwiseFieldCheck = 8;

    /// <summary>
    /// The pairwise check: each field is read once (a string's place in the listpack, or an integer),
    /// then compared with the ones before it; a string and an integer are compared as text, as the
    /// hashed check does.
    /// </summary>
    static bool HasDuplicateFieldsPairwise(byte[] lp)
    {
        Span<int> starts = stackalloc int[PairwiseFieldCheck];
        Span<int> lengths = stackalloc int[PairwiseFieldCheck];
        Span<long> integers = stackalloc long[PairwiseFieldCheck];
        Span<byte> digits = stackalloc byte[RedisNumbers.MaxInt64Length];
        int fields = 0;
        for (int p = Listpack.First(lp); p >= 0; p = Listpack.Next(lp, Listpack.Next(lp, p)))
        {
            var field = Listpack.Get(lp, p);
            if (field.IsInteger) (starts[fields], integers[fields]) = (-1, field.Integer);
            else (starts[fields], lengths[fields]) = ((int)Unsafe.ByteOffset(ref lp[0], ref MemoryMarshal.GetReference(field.Bytes)), field.Bytes.Length);
            for (int before = 0; before < fields; before++)
            {
                bool same = (starts[fields] < 0, starts[before] < 0) switch
                {
                    (true, true) => integers[fields] == integers[before],
                    (false, false) => lengths[fields] == lengths[before] && lp.AsSpan(starts[fields], lengths[fields]).SequenceEqual(lp.AsSpan(starts[before], lengths[before])),
                    (true, false) => lp.AsSpan(starts[before], lengths[before]).SequenceEqual(digits[..RedisNumbers.FormatInt64(integers[fields], digits)]),
                    (false, true) => lp.AsSpan(starts[fields], lengths[fields]).SequenceEqual(digits[..RedisNumbers.FormatInt64(integers[before], digits)]),
                };
                if (same) return true;
            }
            fields++;
        }
        return false;
    }

    /// <summary>
    /// Whether a listpack of pairs repeats a field (hash fields, zset members): hashes of the fields
    /// sorted, then equal hashes compared, O(n log n) however big the thresholds are configured.
    /// </summary>
    bool HasDuplicateFields(byte[] lp)
    {
        if (Listpack.Count(lp) <= 2 * PairwiseFieldCheck) return HasDuplicateFieldsPairwise(lp);
        int fields = 0;
        Span<byte> digits = stackalloc byte[RedisNumbers.MaxInt64Length];
        for (int p = Listpack.First(lp); p >= 0; p = Listpack.Next(lp, Listpack.Next(lp, p)))
        {
            if (fields == _fieldHashes.Length)
            {
                Array.Resize(ref _fieldHashes, Math.Max(16, fields * 2));
                Array.Resize(ref _fieldOffsets, _fieldHashes.Length);
            }
            _fieldHashes[fields] = Dict.HashKey(Listpack.Get(lp, p).AsBytes(digits));
            _fieldOffsets[fields++] = p;
        }
        if (fields < 2) return false;
        Array.Sort(_fieldHashes, _fieldOffsets, 0, fields);
        Span<byte> otherDigits = stackalloc byte[RedisNumbers.MaxInt64Length];
        for (int i = 1; i < fields; i++)
        {
            for (int j = i - 1; j >= 0 && _fieldHashes[j] == _fieldHashes[i]; j--)
            {
                if (Listpack.Get(lp, _fieldOffsets[i]).AsBytes(digits).SequenceEqual(Listpack.Get(lp, _fieldOffsets[j]).AsBytes(otherDigits))) return true;
            }
        }
        return false;
    }
}
