using System.Buffers;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>
/// List commands (Redis's t_list.c), including the blocking pops and moves. Blocking handlers are
/// re-run by the executor when a key they wait on is signalled (<see cref="CommandContext.IsRetry"/>);
/// they then serve from that key only, as Redis does, and stay blocked if it holds nothing usable.
/// </summary>
public static unsafe class ListCommands
{
    const string PositiveError = "ERR value is out of range, must be positive";
    const string NumKeysError = "ERR numkeys should be greater than 0";
    const string CountError = "ERR count should be greater than 0";
    const string IndexOutOfRangeError = "ERR index out of range";
    const string NoSuchKeyError = "ERR no such key";
    const string RankZeroError = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

    public static void Register(CommandTable t)
    {
        t.Add("lpush", &LPush);
        t.Add("rpush", &RPush);
        t.Add("lpushx", &LPushX);
        t.Add("rpushx", &RPushX);
        t.Add("lpop", &LPop);
        t.Add("rpop", &RPop);
        t.Add("llen", &LLen);
        t.Add("lrange", &LRange);
        t.Add("lindex", &LIndex);
        t.Add("lset", &LSet);
        t.Add("linsert", &LInsert);
        t.Add("lrem", &LRem);
        t.Add("ltrim", &LTrim);
        t.Add("lpos", &LPos);
        t.Add("lmove", &LMove);
        t.Add("rpoplpush", &RPopLPush);
        t.Add("lmpop", &LMPop);
        t.Add("blpop", &BLPop);
        t.Add("brpop", &BRPop);
        t.Add("blmove", &BLMove);
        t.Add("brpoplpush", &BRPopLPush);
        t.Add("blmpop", &BLMPop);
        SortCommand.Register(t);
    }

    /// <summary>The list at <paramref name="entry"/>; replies WRONGTYPE and returns false for another type.</summary>
    static bool TryGetList(CommandContext ctx, KeyEntry? entry, out ListValue? list)
    {
        list = null;
        if (entry is null) return true;
        if (entry.Type == RedisType.List)
        {
            list = (ListValue)entry.Value;
            return true;
        }
        ctx.WrongType();
        return false;
    }

    /// <summary>Adds an empty list under <paramref name="key"/>; the keyspace wakes clients blocked on it (Redis's dbAdd).</summary>
    static KeyEntry CreateList(CommandContext ctx, ReadOnlySpan<byte> key)
        => ctx.Db.Add(key, new ListValue(), RedisType.List, ListValue.Encoding);

    /// <summary>
    /// Accounts a removal from a list and announces it (<paramref name="eventName"/>), deleting the key once it
    /// is empty (Redis keeps no empty lists) and announcing that as <c>del</c>.
    /// </summary>
    static void Removed(CommandContext ctx, KeyEntry entry, long changes, ReadOnlySpan<byte> eventName)
    {
        ctx.Notify(NotifyClass.List, eventName, entry.Key);
        if (((ListValue)entry.Value).Count == 0)
        {
            ctx.Db.Delete(entry);
            ctx.Notify(NotifyClass.Generic, "del"u8, entry.Key);
        }
        ctx.KeyModified(ctx.Db, entry.Key, changes);
    }

    static ReadOnlySpan<byte> PopEvent(bool head) => head ? "lpop"u8 : "rpop"u8;

    static ReadOnlySpan<byte> PushEvent(bool head) => head ? "lpush"u8 : "rpush"u8;

    /// <summary>Parses an integer of at least <paramref name="min"/>; one message for both bad syntax and range, as Redis's getRangeLong.</summary>
    static bool TryGetLongAtLeast(CommandContext ctx, int index, long min, string error, out long value)
    {
        if (RedisNumbers.TryParseInt64(ctx.Arg(index), out value) && value >= min) return true;
        ctx.Error(error);
        return false;
    }

    /// <summary>LEFT or RIGHT (true for the head).</summary>
    static bool TryGetEnd(CommandContext ctx, int index, out bool head)
    {
        head = ctx.ArgIs(index, "LEFT"u8);
        if (head || ctx.ArgIs(index, "RIGHT"u8)) return true;
        ctx.Error(CommandContext.SyntaxError);
        return false;
    }

    static void LPush(CommandContext ctx) => Push(ctx, head: true, onlyIfExists: false);
    static void RPush(CommandContext ctx) => Push(ctx, head: false, onlyIfExists: false);
    static void LPushX(CommandContext ctx) => Push(ctx, head: true, onlyIfExists: true);
    static void RPushX(CommandContext ctx) => Push(ctx, head: false, onlyIfExists: true);

    static void Push(CommandContext ctx, bool head, bool onlyIfExists)
    {
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        if (!TryGetList(ctx, entry, out var list)) return;
        if (list is null)
        {
            if (onlyIfExists)
            {
                ctx.Reply.Integer(0);
                return;
            }
            entry = CreateList(ctx, key);
            list = (ListValue)entry.Value;
        }
        for (int i = 2; i < ctx.ArgCount; i++) list.Push(ctx.Arg(i), head);
        ctx.KeyModified(ctx.Db, key, ctx.ArgCount - 2);
        ctx.Notify(NotifyClass.List, PushEvent(head), key);
        ctx.Reply.Integer(list.Count);
    }

    static void LPop(CommandContext ctx) => Pop(ctx, head: true);
    static void RPop(CommandContext ctx) => Pop(ctx, head: false);

    static void Pop(CommandContext ctx, bool head)
    {
        if (ctx.ArgCount > 3)
        {
            ctx.Error($"ERR wrong number of arguments for '{ctx.Command.Name}' command");
            return;
        }
        bool hasCount = ctx.ArgCount == 3;
        long count = 0;
        if (hasCount && !TryGetLongAtLeast(ctx, 2, 0, PositiveError, out count)) return;
        var entry = ctx.LookupWrite(ctx.Arg(1));
        if (!TryGetList(ctx, entry, out var list)) return;
        if (list is null)
        {
            if (hasCount) ctx.Reply.NullArray();
            else ctx.Reply.NullBulk();
            return;
        }
        if (!hasCount)
        {
            ctx.Reply.Bulk(list.Pop(head));
            Removed(ctx, entry!, 1, PopEvent(head));
            return;
        }
        if (count == 0)
        {
            ctx.Reply.ArrayHeader(0);
            return;
        }
        Removed(ctx, entry!, PopRange(ctx, list, head, count), PopEvent(head));
    }

    /// <summary>Pops up to <paramref name="count"/> elements into an array reply; returns how many.</summary>
    static int PopRange(CommandContext ctx, ListValue list, bool head, long count)
    {
        int n = (int)Math.Min(count, list.Count);
        ctx.Reply.ArrayHeader(n);
        for (int i = 0; i < n; i++) ctx.Reply.Bulk(list.Pop(head));
        return n;
    }

    static void LLen(CommandContext ctx)
    {
        if (!TryGetList(ctx, ctx.LookupRead(ctx.Arg(1)), out var list)) return;
        ctx.Reply.Integer(list?.Count ?? 0);
    }

    static void LRange(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long start) || !ctx.TryGetLong(3, out long end)) return;
        if (!TryGetList(ctx, ctx.LookupRead(ctx.Arg(1)), out var list)) return;
        int length = list is null ? 0 : ClampRange(list.Count, ref start, ref end);
        ctx.Reply.ArrayHeader(length);
        if (length == 0) return;
        var cursor = list!.At((int)start);
        for (int i = 0; i < length; i++, cursor.Advance()) ctx.Reply.Bulk(cursor.Current);
    }

    /// <summary>Normalizes a start..end range (negative = from the end) to the list; returns its length (0 if empty).</summary>
    static int ClampRange(int count, ref long start, ref long end)
    {
        if (start < 0) start += count;
        if (end < 0) end += count;
        if (start < 0) start = 0;
        if (start > end || start >= count) return 0;
        if (end >= count) end = count - 1;
        return (int)(end - start + 1);
    }

    /// <summary>A Redis list index (negative counts from the tail) as a position, or -1 when outside.</summary>
    static int Position(ListValue list, long index)
    {
        if (index < 0) index += list.Count;
        return index >= 0 && index < list.Count ? (int)index : -1;
    }

    static void LIndex(CommandContext ctx)
    {
        if (!TryGetList(ctx, ctx.LookupRead(ctx.Arg(1)), out var list)) return;
        if (list is null)
        {
            ctx.Reply.NullBulk();
            return;
        }
        if (!ctx.TryGetLong(2, out long index)) return;
        int position = Position(list, index);
        if (position < 0) ctx.Reply.NullBulk();
        else ctx.Reply.Bulk(list[position]);
    }

    static void LSet(CommandContext ctx)
    {
        var entry = ctx.LookupWrite(ctx.Arg(1));
        if (entry is null)
        {
            ctx.Error(NoSuchKeyError);
            return;
        }
        if (!TryGetList(ctx, entry, out var list) || !ctx.TryGetLong(2, out long index)) return;
        int position = Position(list!, index);
        if (position < 0)
        {
            ctx.Error(IndexOutOfRangeError);
            return;
        }
        list!.Set(position, ctx.Arg(3));
        ctx.KeyModified(ctx.Db, entry.Key);
        ctx.Notify(NotifyClass.List, "lset"u8, entry.Key);
        ctx.Reply.Ok();
    }

    static void LInsert(CommandContext ctx)
    {
        bool after = ctx.ArgIs(2, "AFTER"u8);
        if (!after && !ctx.ArgIs(2, "BEFORE"u8))
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        var entry = ctx.LookupWrite(ctx.Arg(1));
        if (!TryGetList(ctx, entry, out var list)) return;
        if (list is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        int pivot = list.IndexOf(ctx.Arg(3));
        if (pivot < 0)
        {
            ctx.Reply.Integer(-1);
            return;
        }
        list.Insert(after ? pivot + 1 : pivot, ctx.Arg(4));
        ctx.KeyModified(ctx.Db, entry!.Key);
        ctx.Notify(NotifyClass.List, "linsert"u8, entry.Key);
        ctx.Reply.Integer(list.Count);
    }

    static void LRem(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long count)) return;
        var entry = ctx.LookupWrite(ctx.Arg(1));
        if (!TryGetList(ctx, entry, out var list)) return;
        if (list is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        // Like Redis, a negative count scans from the tail; negating long.MinValue leaves no limit reachable.
        int removed = list.Remove(ctx.Arg(3), count < 0 ? -count : count, fromTail: count < 0);
        if (removed > 0) Removed(ctx, entry!, removed, "lrem"u8);
        ctx.Reply.Integer(removed);
    }

    static void LTrim(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long start) || !ctx.TryGetLong(3, out long end)) return;
        var entry = ctx.LookupWrite(ctx.Arg(1));
        if (!TryGetList(ctx, entry, out var list)) return;
        if (list is not null)
        {
            int count = list.Count;
            int keep = ClampRange(count, ref start, ref end);
            int fromHead = keep == 0 ? count : (int)start;
            int fromTail = count - fromHead - keep;
            list.Trim(fromHead, fromTail);
            // Redis signals the key even when nothing was trimmed, but counts only removed elements as changes.
            Removed(ctx, entry!, fromHead + fromTail, "ltrim"u8);
        }
        ctx.Reply.Ok();
    }

    static void LPos(CommandContext ctx)
    {
        long rank = 1, count = -1, maxLength = 0;
        for (int i = 3; i < ctx.ArgCount; i++)
        {
            bool hasValue = i + 1 < ctx.ArgCount;
            if (ctx.ArgIs(i, "RANK"u8) && hasValue)
            {
                if (!ctx.TryGetLong(++i, out rank)) return;
                if (rank == 0)
                {
                    ctx.Error(RankZeroError);
                    return;
                }
            }
            else if (ctx.ArgIs(i, "COUNT"u8) && hasValue)
            {
                if (!TryGetLongAtLeast(ctx, ++i, 0, "ERR COUNT can't be negative", out count)) return;
            }
            else if (ctx.ArgIs(i, "MAXLEN"u8) && hasValue)
            {
                if (!TryGetLongAtLeast(ctx, ++i, 0, "ERR MAXLEN can't be negative", out maxLength)) return;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        bool fromTail = rank < 0;
        // Redis negates without a check: RANK long.MinValue stays negative and so matches from the first hit.
        if (fromTail) rank = -rank;

        if (!TryGetList(ctx, ctx.LookupRead(ctx.Arg(1)), out var list)) return;
        bool withCount = count != -1;
        if (list is null)
        {
            if (withCount) ctx.Reply.ArrayHeader(0);
            else ctx.Reply.NullBulk();
            return;
        }

        var element = ctx.Arg(2);
        int replyStart = withCount ? ctx.Reply.BeginDeferredArray() : 0;
        long matches = 0, found = 0, lastMatch = -1;
        int length = list.Count;
        long scanned = maxLength == 0 ? length : Math.Min(maxLength, length);
        var cursor = list.At(fromTail ? length - 1 : 0, reverse: fromTail);
        for (int i = 0; i < scanned; i++, cursor.Advance())
        {
            int position = fromTail ? length - 1 - i : i;
            if (!cursor.Current.SequenceEqual(element)) continue;
            matches++;
            if (matches < rank) continue;
            lastMatch = position;
            if (!withCount) break;
            found++;
            ctx.Reply.Integer(position);
            if (count != 0 && matches - rank + 1 >= count) break;
        }
        if (withCount) ctx.Reply.EndDeferredArray(replyStart, found);
        else if (lastMatch >= 0) ctx.Reply.Integer(lastMatch);
        else ctx.Reply.NullBulk();
    }

    static void LMove(CommandContext ctx)
    {
        if (TryGetEnd(ctx, 3, out bool fromHead) && TryGetEnd(ctx, 4, out bool toHead)) Move(ctx, fromHead, toHead, blocking: false, 0);
    }

    static void RPopLPush(CommandContext ctx) => Move(ctx, fromHead: false, toHead: true, blocking: false, 0);

    static void BLMove(CommandContext ctx)
    {
        if (TryGetEnd(ctx, 3, out bool fromHead) && TryGetEnd(ctx, 4, out bool toHead) && ctx.TryGetTimeout(5, out long deadline))
            Move(ctx, fromHead, toHead, blocking: true, deadline);
    }

    static void BRPopLPush(CommandContext ctx)
    {
        if (ctx.TryGetTimeout(3, out long deadline)) Move(ctx, fromHead: false, toHead: true, blocking: true, deadline);
    }

    /// <summary>
    /// LMOVE and its forms: pops from source (argument 1) and pushes onto destination (argument 2).
    /// Blocking forms wait while the source is missing and are logged as their non-blocking command.
    /// </summary>
    static void Move(CommandContext ctx, bool fromHead, bool toHead, bool blocking, long deadline)
    {
        var sourceKey = ctx.Arg(1);
        var source = ctx.LookupWrite(sourceKey);
        if (source is null || (ctx.IsRetry && source.Type != RedisType.List))
        {
            // Redis answers a timed-out BLMOVE with a null array, but a BLMOVE that cannot block (MULTI) with a null bulk.
            if (blocking && !ctx.Client.InExec) ctx.BlockForKeys([sourceKey.ToArray()], deadline, BlockedReply.NullArray);
            else ctx.Reply.NullBulk();
            return;
        }
        if (!TryGetList(ctx, source, out var sourceList)) return;
        var destinationKey = ctx.Arg(2);
        var destination = ctx.LookupWrite(destinationKey);
        if (!TryGetList(ctx, destination, out var destinationList)) return;

        // The popped element is a view into the source's storage, which the push may reuse when both are one list.
        var popped = sourceList!.Pop(fromHead);
        byte[]? rented = null;
        var value = (popped.Length <= 256 ? stackalloc byte[256] : rented = ArrayPool<byte>.Shared.Rent(popped.Length))[..popped.Length];
        popped.CopyTo(value);
        destinationList ??= (ListValue)CreateList(ctx, destinationKey).Value;
        destinationList.Push(value, toHead);
        ctx.KeyModified(ctx.Db, destinationKey, 0);
        ctx.Notify(NotifyClass.List, PushEvent(toHead), destinationKey);
        Removed(ctx, source, 1, PopEvent(fromHead));
        if (blocking)
        {
            if (ctx.ArgCount == 6) ctx.Propagate().Arg("LMOVE"u8).Arg(sourceKey).Arg(destinationKey).Arg(ctx.Arg(3)).Arg(ctx.Arg(4));
            else ctx.Propagate().Arg("RPOPLPUSH"u8).Arg(sourceKey).Arg(destinationKey);
        }
        ctx.Reply.Bulk(value);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }

    static void BLPop(CommandContext ctx) => BlockingPop(ctx, head: true);
    static void BRPop(CommandContext ctx) => BlockingPop(ctx, head: false);

    static void BlockingPop(CommandContext ctx, bool head)
    {
        if (ctx.TryGetTimeout(ctx.ArgCount - 1, out long deadline)) PopFirstNonEmpty(ctx, 1, ctx.ArgCount - 2, head, count: -1, blocking: true, deadline);
    }

    static void LMPop(CommandContext ctx) => MultiPop(ctx, 1, timeoutIndex: -1);

    static void BLMPop(CommandContext ctx) => MultiPop(ctx, 2, timeoutIndex: 1);

    /// <summary>
    /// [B]LMPOP's "numkeys key... LEFT|RIGHT [COUNT n]" starting at <paramref name="numKeysIndex"/>;
    /// as in Redis, BLMPOP's timeout (before numkeys) is checked only after the rest parsed.
    /// </summary>
    static void MultiPop(CommandContext ctx, int numKeysIndex, int timeoutIndex)
    {
        if (!TryGetLongAtLeast(ctx, numKeysIndex, 1, NumKeysError, out long numKeys)) return;
        if (numKeys >= ctx.ArgCount - numKeysIndex - 1)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        int endIndex = numKeysIndex + (int)numKeys + 1;
        if (!TryGetEnd(ctx, endIndex, out bool head)) return;
        long count = -1;
        for (int i = endIndex + 1; i < ctx.ArgCount; i++)
        {
            if (count == -1 && ctx.ArgIs(i, "COUNT"u8) && i + 1 < ctx.ArgCount)
            {
                if (!TryGetLongAtLeast(ctx, ++i, 1, CountError, out count)) return;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        long deadline = 0;
        if (timeoutIndex >= 0 && !ctx.TryGetTimeout(timeoutIndex, out deadline)) return;
        PopFirstNonEmpty(ctx, numKeysIndex + 1, (int)numKeys, head, count == -1 ? 1 : count, blocking: timeoutIndex >= 0, deadline);
    }

    /// <summary>
    /// Pops from the first non-empty list among the keys, replying [key, element] (count -1, BLPOP) or
    /// [key, [elements]] ([B]LMPOP), logged as LPOP/RPOP; with none, blocks or replies a null array.
    /// </summary>
    static void PopFirstNonEmpty(CommandContext ctx, int firstKey, int keyCount, bool head, long count, bool blocking, long deadline)
    {
        if (ctx.IsRetry)
        {
            if (ctx.LookupWrite(ctx.ReadyKey) is { Type: RedisType.List } ready) PopWithKey(ctx, ready, head, count);
            else ctx.BlockForKeys([], deadline, BlockedReply.NullArray);
            return;
        }
        for (int i = firstKey; i < firstKey + keyCount; i++)
        {
            var entry = ctx.LookupWrite(ctx.Arg(i));
            if (entry is null) continue;
            if (entry.Type != RedisType.List) ctx.WrongType();
            else PopWithKey(ctx, entry, head, count);
            return;
        }
        if (!blocking)
        {
            ctx.Reply.NullArray();
            return;
        }
        var keys = new byte[keyCount][];
        for (int i = 0; i < keyCount; i++) keys[i] = ctx.Arg(firstKey + i).ToArray();
        ctx.BlockForKeys(keys, deadline, BlockedReply.NullArray);
    }

    static void PopWithKey(CommandContext ctx, KeyEntry entry, bool head, long count)
    {
        var list = (ListValue)entry.Value;
        ctx.Reply.ArrayHeader(2);
        ctx.Reply.Bulk(entry.Key);
        var record = ctx.Propagate().Arg(head ? "LPOP"u8 : "RPOP"u8).Arg(entry.Key);
        int popped;
        if (count < 0)
        {
            ctx.Reply.Bulk(list.Pop(head));
            popped = 1;
        }
        else
        {
            popped = PopRange(ctx, list, head, count);
            record.Arg(popped);
        }
        Removed(ctx, entry, popped, PopEvent(head));
    }
}
