using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>
/// Hash commands (Redis's t_hash.c) over <see cref="HashValue"/>, which hides the listpack/hashtable
/// encoding. Also the pieces HSCAN shares with SSCAN: element replies and the scan loop.
/// </summary>
public static unsafe class HashCommands
{
    const string HashValueNotIntegerError = "ERR hash value is not an integer";
    const string HashValueNotFloatError = "ERR hash value is not a float";

    public static void Register(CommandTable t)
    {
        t.Add("hset", &HSet);
        t.Add("hmset", &HSet);
        t.Add("hsetnx", &HSetNx);
        t.Add("hget", &HGet);
        t.Add("hmget", &HMGet);
        t.Add("hdel", &HDel);
        t.Add("hlen", &HLen);
        t.Add("hstrlen", &HStrLen);
        t.Add("hexists", &HExists);
        t.Add("hkeys", &HKeys);
        t.Add("hvals", &HVals);
        t.Add("hgetall", &HGetAll);
        t.Add("hincrby", &HIncrBy);
        t.Add("hincrbyfloat", &HIncrByFloat);
        t.Add("hrandfield", &HRandField);
        t.Add("hscan", &HScan);
    }

    /// <summary>Replies WRONGTYPE when <paramref name="entry"/> exists and is not of <paramref name="type"/>.</summary>
    internal static bool IsWrongType(CommandContext ctx, KeyEntry? entry, RedisType type)
    {
        if (entry is null || entry.Type == type) return false;
        ctx.WrongType();
        return true;
    }

    /// <summary>Redis's hashTypeLookupWriteOrCreate: the hash at key 1, created empty if missing; null after WRONGTYPE.</summary>
    static KeyEntry? LookupWriteOrCreate(CommandContext ctx)
    {
        var entry = ctx.LookupWrite(ctx.Arg(1));
        if (IsWrongType(ctx, entry, RedisType.Hash)) return null;
        return entry ?? HashValue.Add(ctx.Db, ctx.Arg(1));
    }

    static ListpackLimits Limits(CommandContext ctx) => ctx.Config.HashListpackLimits;

    /// <summary>A collection element as a bulk string (listpack/intset integers are formatted).</summary>
    internal static void BulkEntry(ReplyBuffer reply, ListpackEntry entry)
    {
        if (entry.IsInteger) reply.BulkInteger(entry.Integer);
        else reply.Bulk(entry.Bytes);
    }

    static void HSet(CommandContext ctx)
    {
        if (ctx.ArgCount % 2 == 1)
        {
            ctx.Error($"ERR wrong number of arguments for '{ctx.Command.Name}' command");
            return;
        }
        var hash = LookupWriteOrCreate(ctx);
        if (hash is null) return;
        long created = HashValue.SetPairs(hash, new StreamCommands.ArgFields(ctx, 2, ctx.ArgCount - 2), Limits(ctx));
        ctx.KeyModified(ctx.Db, ctx.Arg(1), (ctx.ArgCount - 2) / 2);
        ctx.Notify(NotifyClass.Hash, "hset"u8, ctx.Arg(1));
        // HMSET is the older form of the same command and answers OK.
        if (ctx.ArgIs(0, "HMSET"u8)) ctx.Reply.Ok();
        else ctx.Reply.Integer(created);
    }

    static void HSetNx(CommandContext ctx)
    {
        var hash = LookupWriteOrCreate(ctx);
        if (hash is null) return;
        if (HashValue.Contains(hash, ctx.Arg(2)))
        {
            ctx.Reply.Integer(0);
            return;
        }
        HashValue.Set(hash, ctx.Arg(2), ctx.Arg(3), Limits(ctx));
        ctx.KeyModified(ctx.Arg(1));
        ctx.Notify(NotifyClass.Hash, "hset"u8, ctx.Arg(1));
        ctx.Reply.Integer(1);
    }

    static void HGet(CommandContext ctx)
    {
        var hash = ctx.LookupRead(ctx.Arg(1));
        if (IsWrongType(ctx, hash, RedisType.Hash)) return;
        if (hash is not null && HashValue.TryGet(hash, ctx.Arg(2), out var value)) BulkEntry(ctx.Reply, value);
        else ctx.Reply.NullBulk();
    }

    static void HMGet(CommandContext ctx)
    {
        var hash = ctx.LookupRead(ctx.Arg(1));
        if (IsWrongType(ctx, hash, RedisType.Hash)) return;
        ctx.Reply.ArrayHeader(ctx.ArgCount - 2);
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            if (hash is not null && HashValue.TryGet(hash, ctx.Arg(i), out var value)) BulkEntry(ctx.Reply, value);
            else ctx.Reply.NullBulk();
        }
    }

    static void HDel(CommandContext ctx) => RemoveElements(ctx, RedisType.Hash, &HashValue.Delete, &HashValue.Length, NotifyClass.Hash, "hdel"u8);

    /// <summary>
    /// HDEL/SREM: removes each argument from the key's collection, deleting the key with its last element,
    /// and replies how many were there; announces <paramref name="eventName"/>, then <c>del</c> for the key.
    /// </summary>
    internal static void RemoveElements(CommandContext ctx, RedisType type, delegate*<KeyEntry, ReadOnlySpan<byte>, bool> remove, delegate*<KeyEntry, int> count,
        NotifyClass eventClass, ReadOnlySpan<byte> eventName)
    {
        var entry = ctx.LookupWrite(ctx.Arg(1));
        if (IsWrongType(ctx, entry, type)) return;
        long removed = 0;
        bool keyRemoved = false;
        for (int i = 2; entry is not null && i < ctx.ArgCount; i++)
        {
            if (!remove(entry, ctx.Arg(i))) continue;
            removed++;
            if (count(entry) == 0)
            {
                ctx.Db.Delete(entry);
                keyRemoved = true;
                break;
            }
        }
        if (removed > 0)
        {
            ctx.KeyModified(ctx.Db, ctx.Arg(1), removed);
            ctx.Notify(eventClass, eventName, ctx.Arg(1));
            if (keyRemoved) ctx.Notify(NotifyClass.Generic, "del"u8, ctx.Arg(1));
        }
        ctx.Reply.Integer(removed);
    }

    static void HLen(CommandContext ctx)
    {
        var hash = ctx.LookupRead(ctx.Arg(1));
        if (IsWrongType(ctx, hash, RedisType.Hash)) return;
        ctx.Reply.Integer(hash is null ? 0 : HashValue.Length(hash));
    }

    static void HStrLen(CommandContext ctx)
    {
        var hash = ctx.LookupRead(ctx.Arg(1));
        if (IsWrongType(ctx, hash, RedisType.Hash)) return;
        long length = 0;
        if (hash is not null && HashValue.TryGet(hash, ctx.Arg(2), out var value))
            length = value.IsInteger ? RedisNumbers.Int64Length(value.Integer) : value.Bytes.Length;
        ctx.Reply.Integer(length);
    }

    static void HExists(CommandContext ctx)
    {
        var hash = ctx.LookupRead(ctx.Arg(1));
        if (IsWrongType(ctx, hash, RedisType.Hash)) return;
        ctx.Reply.Integer(hash is not null && HashValue.Contains(hash, ctx.Arg(2)) ? 1 : 0);
    }

    static void HKeys(CommandContext ctx) => GetAll(ctx, fields: true, values: false);

    static void HVals(CommandContext ctx) => GetAll(ctx, fields: false, values: true);

    static void HGetAll(CommandContext ctx) => GetAll(ctx, fields: true, values: true);

    /// <summary>Redis's genericHgetallCommand: HGETALL answers a map, HKEYS/HVALS an array.</summary>
    static void GetAll(CommandContext ctx, bool fields, bool values)
    {
        var hash = ctx.LookupRead(ctx.Arg(1));
        if (IsWrongType(ctx, hash, RedisType.Hash)) return;
        var reply = ctx.Reply;
        int length = hash is null ? 0 : HashValue.Length(hash);
        if (fields && values) reply.MapHeader(length);
        else reply.ArrayHeader(length);
        if (hash is null) return;
        for (var e = new HashValue.Enumerator(hash); e.MoveNext();)
        {
            if (fields) BulkEntry(reply, e.Field);
            if (values) BulkEntry(reply, e.Value);
        }
    }

    static void HIncrBy(CommandContext ctx)
    {
        if (!ctx.TryGetLong(3, out long increment)) return;
        var hash = LookupWriteOrCreate(ctx);
        if (hash is null) return;
        long current = 0;
        if (HashValue.TryGet(hash, ctx.Arg(2), out var old))
        {
            if (old.IsInteger) current = old.Integer;
            else if (!RedisNumbers.TryParseInt64(old.Bytes, out current))
            {
                ctx.Error(HashValueNotIntegerError);
                return;
            }
        }
        if ((increment < 0 && current < 0 && increment < long.MinValue - current) || (increment > 0 && current > 0 && increment > long.MaxValue - current))
        {
            ctx.Error(CommandContext.OverflowError);
            return;
        }
        long result = current + increment;
        Span<byte> digits = stackalloc byte[RedisNumbers.MaxInt64Length];
        HashValue.Set(hash, ctx.Arg(2), digits[..RedisNumbers.FormatInt64(result, digits)], Limits(ctx));
        ctx.KeyModified(ctx.Arg(1));
        ctx.Notify(NotifyClass.Hash, "hincrby"u8, ctx.Arg(1));
        ctx.Reply.Integer(result);
    }

    static void HIncrByFloat(CommandContext ctx)
    {
        if (!LongDouble.TryParse(ctx.Arg(3), out var increment))
        {
            ctx.Error(CommandContext.NotFloatError);
            return;
        }
        if (increment.IsNaN || increment.IsInfinity)
        {
            ctx.Error("ERR value is NaN or Infinity");
            return;
        }
        var hash = LookupWriteOrCreate(ctx);
        if (hash is null) return;
        var current = LongDouble.Zero;
        if (HashValue.TryGet(hash, ctx.Arg(2), out var old))
        {
            if (old.IsInteger) current = LongDouble.FromInt64(old.Integer);
            else if (!LongDouble.TryParse(old.Bytes, out current))
            {
                ctx.Error(HashValueNotFloatError);
                return;
            }
        }
        Span<byte> text = stackalloc byte[LongDouble.MaxStringLength];
        int length = StringCommands.FormatSum(ctx, current, increment, text);
        if (length < 0) return;
        var formatted = text[..length];
        HashValue.Set(hash, ctx.Arg(2), formatted, Limits(ctx));
        ctx.KeyModified(ctx.Arg(1));
        ctx.Notify(NotifyClass.Hash, "hincrbyfloat"u8, ctx.Arg(1));
        ctx.Reply.Bulk(formatted);
        // Replayed as the exact result so float rounding can't drift between runs.
        ctx.Propagate().Arg("HSET"u8).Arg(ctx.Arg(1)).Arg(ctx.Arg(2)).Arg(formatted);
    }

    /// <summary>Redis's getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX) for random-pick counts.</summary>
    internal static bool TryGetRandomCount(CommandContext ctx, int index, out long count)
    {
        if (!ctx.TryGetLong(index, out count)) return false;
        if (count != long.MinValue) return true;
        ctx.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
        return false;
    }

    static void HRandField(CommandContext ctx)
    {
        if (ctx.ArgCount == 2)
        {
            var single = ctx.LookupRead(ctx.Arg(1));
            if (IsWrongType(ctx, single, RedisType.Hash)) return;
            if (single is null) ctx.Reply.NullBulk();
            else
            {
                HashValue.Random(single, out var field, out _);
                BulkEntry(ctx.Reply, field);
            }
            return;
        }
        if (!TryGetRandomCount(ctx, 2, out long count)) return;
        bool withValues = false;
        if (ctx.ArgCount > 4 || (ctx.ArgCount == 4 && !ctx.ArgIs(3, "WITHVALUES"u8)))
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        if (ctx.ArgCount == 4)
        {
            withValues = true;
            if (count is < long.MinValue / 2 or > long.MaxValue / 2)
            {
                ctx.Error("ERR value is out of range");
                return;
            }
        }
        var hash = ctx.LookupRead(ctx.Arg(1));
        if (IsWrongType(ctx, hash, RedisType.Hash)) return;
        var reply = ctx.Reply;
        if (hash is null || count == 0)
        {
            reply.ArrayHeader(0);
            return;
        }
        bool unique = count > 0;
        count = Math.Abs(count);
        int size = HashValue.Length(hash);
        // In RESP3 each field/value pair is its own two-element array; RESP2 flattens them.
        bool pairs = withValues && reply.Resp3;
        if (!unique || count == 1)
        {
            reply.ArrayHeader(withValues && !pairs ? count * 2 : count);
            for (long i = 0; i < count; i++)
            {
                HashValue.Random(hash, out var field, out var value);
                ReplyField(reply, field, value, withValues, pairs);
            }
            return;
        }
        int returned = (int)Math.Min(count, size);
        reply.ArrayHeader(withValues && !pairs ? returned * 2L : returned);
        if (returned == size)
        {
            for (var e = new HashValue.Enumerator(hash); e.MoveNext();) ReplyField(reply, e.Field, e.Value, withValues, pairs);
            return;
        }
        var picked = PickDistinct(size, returned);
        if (hash.Value is byte[])
        {
            foreach (int index in picked)
            {
                HashValue.GetAt(hash, index, out var field, out var value);
                ReplyField(reply, field, value, withValues, pairs);
            }
            return;
        }
        int position = 0, next = 0;
        picked.Sort();
        for (var e = new HashValue.Enumerator(hash); e.MoveNext() && next < picked.Count; position++)
        {
            if (picked[next] != position) continue;
            ReplyField(reply, e.Field, e.Value, withValues, pairs);
            next++;
        }
    }

    static void ReplyField(ReplyBuffer reply, ListpackEntry field, ListpackEntry value, bool withValues, bool pairs)
    {
        if (pairs) reply.ArrayHeader(2);
        BulkEntry(reply, field);
        if (withValues) BulkEntry(reply, value);
    }

    /// <summary><paramref name="count"/> distinct positions out of <paramref name="size"/>, in random order (partial Fisher-Yates over a sparse map).</summary>
    internal static List<int> PickDistinct(int size, int count)
    {
        var swapped = new Dictionary<int, int>(count);
        var picked = new List<int>(count);
        for (int i = 0; i < count; i++)
        {
            int j = Random.Shared.Next(i, size);
            int atJ = swapped.TryGetValue(j, out int a) ? a : j;
            swapped[j] = swapped.TryGetValue(i, out int b) ? b : i;
            picked.Add(atJ);
        }
        return picked;
    }

    static void HScan(CommandContext ctx) => ScanCollection(ctx, RedisType.Hash);

    /// <summary>
    /// HSCAN/SSCAN key cursor [MATCH pattern] [COUNT count], as Redis's scanGenericCommand: a compact
    /// encoding (listpack, intset) answers everything at once with cursor 0; a hash table is walked
    /// bucket by bucket until COUNT items (a hash's field and value count as two) or COUNT*10 buckets.
    /// </summary>
    internal static void ScanCollection(CommandContext ctx, RedisType type)
    {
        if (!KeyCommands.TryParseCursor(ctx.Arg(2), out ulong cursor))
        {
            ctx.Error("ERR invalid cursor");
            return;
        }
        var entry = ctx.LookupRead(ctx.Arg(1));
        if (IsWrongType(ctx, entry, type)) return;
        var reply = ctx.Reply;
        if (entry is null)
        {
            ReplyEmptyScan(reply);
            return;
        }
        if (!KeyCommands.TryParseScanOptions(ctx, 3, allowType: false, out long count, out int pattern, out _)) return;
        bool withValues = type == RedisType.Hash;

        if (entry.Value is FieldTable table)
        {
            var found = new List<(byte[] Key, byte[]? Value)>();
            long maxIterations = count > long.MaxValue / 10 ? long.MaxValue : count * 10;
            int perElement = withValues ? 2 : 1;
            do cursor = table.Scan(cursor, found);
            while (cursor != 0 && maxIterations-- > 0 && found.Count * perElement < count);
            KeyCommands.ReplyCursor(reply, cursor);
            int header = reply.BeginDeferredArray();
            long items = 0;
            foreach (var (key, value) in found)
            {
                if (pattern >= 0 && !GlobPattern.Match(ctx.Arg(pattern), key)) continue;
                reply.Bulk(key);
                if (withValues) reply.Bulk(value);
                items += perElement;
            }
            reply.EndDeferredArray(header, items);
            return;
        }

        KeyCommands.ReplyCursor(reply, 0);
        int all = reply.BeginDeferredArray();
        long written = 0;
        Span<byte> scratch = stackalloc byte[RedisNumbers.MaxInt64Length];
        if (withValues)
        {
            for (var e = new HashValue.Enumerator(entry); e.MoveNext();)
            {
                if (pattern >= 0 && !GlobPattern.Match(ctx.Arg(pattern), e.Field.AsBytes(scratch))) continue;
                BulkEntry(reply, e.Field);
                BulkEntry(reply, e.Value);
                written += 2;
            }
        }
        else
        {
            for (var e = new SetValue.Enumerator(entry); e.MoveNext();)
            {
                if (pattern >= 0 && !GlobPattern.Match(ctx.Arg(pattern), e.Current.AsBytes(scratch))) continue;
                BulkEntry(reply, e.Current);
                written++;
            }
        }
        reply.EndDeferredArray(all, written);
    }

    /// <summary>Redis's shared.emptyscan: what scanning a missing key replies.</summary>
    internal static void ReplyEmptyScan(ReplyBuffer reply)
    {
        KeyCommands.ReplyCursor(reply, 0);
        reply.ArrayHeader(0);
    }
}
