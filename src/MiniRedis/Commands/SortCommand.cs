using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>
/// SORT and SORT_RO (Redis's sort.c) over lists, sets and sorted sets: BY patterns (a pattern without
/// '*' means no sorting), LIMIT, GET patterns ("#" = the element, "key*->field" = a hash field), ASC/DESC,
/// ALPHA and STORE (always into a list).
/// </summary>
public static unsafe class SortCommand
{
    const string ScoreError = "ERR One or more scores can't be converted into double";

    public static void Register(CommandTable t)
    {
        t.Add("sort", &Sort);
        t.Add("sort_ro", &SortReadOnly);
    }

    /// <summary>One element being sorted: its numeric weight, or (ALPHA BY) the looked-up text it sorts by.</summary>
    struct SortItem
    {
        public byte[] Element;
        public double Score;
        public byte[]? SortKey;
    }

    /// <summary>Scratch for building pattern-substituted key names; the executor is single-threaded.</summary>
    static byte[] s_keyScratch = new byte[256];

    static void Sort(CommandContext ctx) => SortGeneric(ctx, readOnly: false);

    static void SortReadOnly(CommandContext ctx) => SortGeneric(ctx, readOnly: true);

    static void SortGeneric(CommandContext ctx, bool readOnly)
    {
        bool desc = false, alpha = false, dontSort = false;
        long limitStart = 0, limitCount = -1;
        int byArg = -1, storeArg = -1;
        List<int>? gets = null;
        for (int j = 2; j < ctx.ArgCount; j++)
        {
            int left = ctx.ArgCount - j - 1;
            if (ctx.ArgIs(j, "ASC"u8)) desc = false;
            else if (ctx.ArgIs(j, "DESC"u8)) desc = true;
            else if (ctx.ArgIs(j, "ALPHA"u8)) alpha = true;
            else if (ctx.ArgIs(j, "LIMIT"u8) && left >= 2)
            {
                if (!ctx.TryGetLong(j + 1, out limitStart) || !ctx.TryGetLong(j + 2, out limitCount)) return;
                j += 2;
            }
            else if (!readOnly && ctx.ArgIs(j, "STORE"u8) && left >= 1) storeArg = ++j;
            else if (ctx.ArgIs(j, "BY"u8) && left >= 1)
            {
                byArg = ++j;
                // Like Redis, a later BY with a '*' does not undo an earlier "don't sort".
                if (CString(ctx.Arg(byArg)).IndexOf((byte)'*') < 0) dontSort = true;
            }
            else if (ctx.ArgIs(j, "GET"u8) && left >= 1) (gets ??= []).Add(++j);
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }

        var entry = ctx.LookupRead(ctx.Arg(1));
        if (entry is not null && entry.Type is not (RedisType.List or RedisType.Set or RedisType.ZSet))
        {
            ctx.WrongType();
            return;
        }
        if (entry is not null && entry.Type == RedisType.ZSet)
        {
            // Redis 7.0 converts a compact sorted set to a skiplist before sorting it, and it stays one.
            var zset = (SortedSetValue)entry.Value;
            zset.ConvertToSkiplist();
            entry.Encoding = zset.Encoding;
        }
        bool store = storeArg >= 0;
        // An unsorted set's order is arbitrary; stored results must replay identically, so Redis sorts them.
        if (dontSort && store && entry?.Type == RedisType.Set)
        {
            dontSort = false;
            alpha = true;
            byArg = -1;
        }

        int length = entry is null ? 0 : Count(entry);
        // Clamped to the length first (as Redis 7.0.8+ does) so start + count cannot overflow.
        long start = Math.Clamp(limitStart, 0, length);
        limitCount = Math.Clamp(limitCount, -1, length);
        long end = limitCount < 0 ? length - 1 : start + limitCount - 1;
        if (start >= length)
        {
            start = length - 1;
            end = length - 2;
        }
        if (end >= length) end = length - 1;

        SortItem[] items;
        if (entry is not null && dontSort && entry.Type != RedisType.Set)
        {
            // Lists and sorted sets keep their own order (reversed for DESC), loading just the LIMIT range.
            items = end >= start ? LoadRange(entry, (int)start, (int)(end - start + 1), desc) : [];
            end -= start;
            start = 0;
        }
        else
        {
            items = entry is null ? [] : LoadAll(entry);
        }

        if (!dontSort && !TryWeigh(ctx, items, byArg, alpha))
        {
            ctx.Error(ScoreError);
            return;
        }
        if (!dontSort) Array.Sort(items, Comparer(alpha, byArg >= 0, store, desc));

        long rows = Math.Max(0, end - start + 1);
        long outputLength = gets is null ? rows : gets.Count * rows;
        if (!store)
        {
            ctx.Reply.ArrayHeader(outputLength);
            for (long j = start; j <= end; j++)
            {
                if (gets is null)
                {
                    ctx.Reply.Bulk(items[j].Element);
                    continue;
                }
                foreach (int get in gets)
                {
                    var value = LookupByPattern(ctx, ctx.Arg(get), items[j].Element);
                    if (value is null) ctx.Reply.NullBulk();
                    else ctx.Reply.Bulk(value);
                }
            }
            return;
        }

        var result = new ListValue();
        for (long j = start; j <= end; j++)
        {
            if (gets is null)
            {
                result.Push(items[j].Element, head: false);
                continue;
            }
            // Looked-up strings can be overwritten in place later, so the list keeps copies.
            foreach (int get in gets) result.Push((byte[]?)LookupByPattern(ctx, ctx.Arg(get), items[j].Element)?.Clone() ?? [], head: false);
        }
        Store(ctx, ctx.Arg(storeArg), result, outputLength);
        ctx.Reply.Integer(outputLength);
    }

    /// <summary>Redis's setKey for the STORE result (TTL dropped), or deleting the destination when the result is empty; announced as <c>sortstore</c> or <c>del</c>.</summary>
    static void Store(CommandContext ctx, ReadOnlySpan<byte> key, ListValue result, long outputLength)
    {
        var existing = ctx.LookupWrite(key);
        if (outputLength == 0)
        {
            if (existing is null) return;
            ctx.Db.Delete(existing);
            ctx.KeyModified(ctx.Db, key);
            ctx.Notify(NotifyClass.Generic, "del"u8, key);
            return;
        }
        ctx.Db.SetKey(key, result, RedisType.List, ListValue.Encoding);
        ctx.KeyModified(ctx.Db, key, outputLength);
        ctx.Notify(NotifyClass.List, "sortstore"u8, key);
    }

    static int Count(KeyEntry entry) => entry.Type switch
    {
        RedisType.Set => SetValue.Count(entry),
        RedisType.ZSet => (int)((SortedSetValue)entry.Value).Count,
        _ => ((ListValue)entry.Value).Count,
    };

    static SortItem[] LoadAll(KeyEntry entry)
    {
        if (entry.Type != RedisType.Set) return LoadRange(entry, 0, Count(entry), reverse: false);
        var items = new SortItem[SetValue.Count(entry)];
        int i = 0;
        for (var members = new SetValue.Enumerator(entry); members.MoveNext();) items[i++].Element = members.Current.ToArray();
        return items;
    }

    /// <summary>
    /// <paramref name="count"/> elements of a list or sorted set in their own order from rank <paramref name="start"/>
    /// (counted from the tail when <paramref name="reverse"/>).
    /// </summary>
    static SortItem[] LoadRange(KeyEntry entry, int start, int count, bool reverse)
    {
        var items = new SortItem[count];
        if (count == 0) return items;
        if (entry.Value is SortedSetValue zset)
        {
            var cursor = zset.At(reverse ? zset.Count - 1 - start : start, reverse);
            for (int i = 0; i < count; i++, cursor.Advance()) items[i].Element = cursor.Member;
            return items;
        }
        var list = (ListValue)entry.Value;
        var elements = list.At(reverse ? list.Count - 1 - start : start, reverse);
        for (int i = 0; i < count; i++, elements.Advance()) items[i].Element = elements.Current.ToArray();
        return items;
    }

    /// <summary>Fills in what each element sorts by; false when a numeric weight is not a number.</summary>
    static bool TryWeigh(CommandContext ctx, SortItem[] items, int byArg, bool alpha)
    {
        bool valid = true;
        for (int i = 0; i < items.Length; i++)
        {
            var weight = byArg >= 0 ? LookupByPattern(ctx, ctx.Arg(byArg), items[i].Element) : items[i].Element;
            if (weight is null) continue;
            if (alpha)
            {
                if (byArg >= 0) items[i].SortKey = weight;
            }
            else if (!TryParseWeight(weight, out items[i].Score))
            {
                valid = false;
            }
        }
        return valid;
    }

    /// <summary>
    /// C's strtod over the C string, as Redis parses weights: leading spaces allowed, nothing may follow the
    /// number, NaN rejected, and so is whatever sets ERANGE (overflow, underflow, subnormal results); an empty
    /// string weighs 0.
    /// </summary>
    static bool TryParseWeight(ReadOnlySpan<byte> value, out double score)
    {
        value = CString(value);
        score = 0;
        if (value.IsEmpty) return true;
        int i = 0;
        while (i < value.Length && value[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') i++;
        return RedisNumbers.TryParseDouble(value[i..], out score) && (score == 0 || !double.IsSubnormal(score));
    }

    static Comparison<SortItem> Comparer(bool alpha, bool byPattern, bool store, bool desc)
    {
        int Compare(SortItem a, SortItem b)
        {
            int cmp;
            if (!alpha)
            {
                cmp = a.Score > b.Score ? 1 : a.Score < b.Score ? -1 : a.Element.AsSpan().SequenceCompareTo(b.Element);
            }
            else if (byPattern)
            {
                if (a.SortKey is null || b.SortKey is null) cmp = a.SortKey is null ? (b.SortKey is null ? 0 : -1) : 1;
                else cmp = TextCompare(a.SortKey, b.SortKey, store);
            }
            else
            {
                cmp = TextCompare(a.Element, b.Element, store);
            }
            return desc ? -cmp : cmp;
        }
        return Compare;
    }

    /// <summary>
    /// STORE compares binary-safe; replies compare with strcoll (C locale: strcmp), which stops at a NUL.
    /// </summary>
    static int TextCompare(byte[] a, byte[] b, bool binary)
        => binary ? a.AsSpan().SequenceCompareTo(b) : CString(a).SequenceCompareTo(CString(b));

    /// <summary>The bytes up to the first NUL, as C string functions see them.</summary>
    static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> s)
    {
        int nul = s.IndexOf((byte)0);
        return nul < 0 ? s : s[..nul];
    }

    /// <summary>
    /// Redis's lookupKeyByPattern: "#" is the element itself; otherwise the first '*' is replaced by the
    /// element and the string key read, or with "->field" after the '*' the field of a hash. Null when
    /// there is no '*' or nothing of the right type.
    /// </summary>
    static byte[]? LookupByPattern(CommandContext ctx, ReadOnlySpan<byte> pattern, byte[] element)
    {
        var text = CString(pattern);
        if (text.Length == 1 && text[0] == (byte)'#') return element;
        int star = text.IndexOf((byte)'*');
        if (star < 0) return null;
        int arrow = text[(star + 1)..].IndexOf("->"u8);
        int fieldStart = arrow < 0 ? -1 : star + 1 + arrow + 2;
        if (fieldStart >= text.Length) fieldStart = -1;
        int postfixLength = (fieldStart < 0 ? pattern.Length : fieldStart - 2) - star - 1;

        int keyLength = star + element.Length + postfixLength;
        if (s_keyScratch.Length < keyLength) s_keyScratch = new byte[Math.Max(keyLength, s_keyScratch.Length * 2)];
        var key = s_keyScratch.AsSpan(0, keyLength);
        pattern[..star].CopyTo(key);
        element.CopyTo(key[star..]);
        pattern.Slice(star + 1, postfixLength).CopyTo(key[(star + element.Length)..]);

        var entry = ctx.LookupRead(key);
        if (entry is null) return null;
        if (fieldStart < 0) return entry.Type == RedisType.String ? entry.StringValue.ToArray() : null;
        if (entry.Type != RedisType.Hash || !HashValue.TryGet(entry, pattern[fieldStart..], out var value)) return null;
        return value.ToArray();
    }
}
