using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>Sorted sets: ZPOPMIN/ZPOPMAX, ZMPOP and the blocking pops (BZPOPMIN/BZPOPMAX/BZMPOP).</summary>
public static unsafe partial class SortedSetCommands
{
    // ---- pops ----

    static void ZPopMin(CommandContext ctx) => PopMinMax(ctx, max: false);

    static void ZPopMax(CommandContext ctx) => PopMinMax(ctx, max: true);

    static void PopMinMax(CommandContext ctx, bool max)
    {
        if (ctx.ArgCount > 3)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        long count = -1;
        if (ctx.ArgCount == 3)
        {
            if (!RedisNumbers.TryParseInt64(ctx.Arg(2), out count) || count < 0)
            {
                ctx.Error(NotPositiveError);
                return;
            }
        }
        // RESP3 nests the pairs only when a count was given.
        PopGeneric(ctx, 1, 1, max, emitKey: false, count, nested: ctx.Reply.Resp3 && count != -1, nilWhenEmpty: false, logAsPop: false);
    }

    /// <summary>
    /// Redis's genericZpopCommand: pops from the first of the keys that exists (WRONGTYPE stops the search);
    /// <paramref name="count"/> -1 means one element without a count. With <paramref name="logAsPop"/> the effect is
    /// logged as ZPOPMIN/ZPOPMAX key [popped count], as Redis rewrites ZMPOP and the blocking pops.
    /// </summary>
    static void PopGeneric(CommandContext ctx, int firstKey, int keyCount, bool max, bool emitKey, long count, bool nested, bool nilWhenEmpty, bool logAsPop)
    {
        KeyEntry? entry = null;
        for (int i = firstKey; i < firstKey + keyCount && entry is null; i++)
        {
            entry = ctx.LookupWrite(ctx.Arg(i));
            if (entry is not null && entry.Type != RedisType.ZSet)
            {
                ctx.WrongType();
                return;
            }
        }
        var reply = ctx.Reply;
        if (entry is null)
        {
            if (nilWhenEmpty) reply.NullArray();
            else reply.ArrayHeader(0);
            return;
        }
        if (count == 0)
        {
            reply.ArrayHeader(0);
            return;
        }
        var zset = (SortedSetValue)entry.Value;
        long popped = Math.Min(count == -1 ? 1 : count, zset.Count);
        if (!emitKey) reply.ArrayHeader(nested ? popped : popped * 2);
        else if (!nested)
        {
            reply.ArrayHeader(popped * 2 + 1);
            reply.Bulk(entry.Key);
        }
        else
        {
            reply.ArrayHeader(2);
            reply.Bulk(entry.Key);
            reply.ArrayHeader(popped);
        }
        long first = max ? zset.Count - 1 : 0;
        var cursor = zset.At(first, reverse: max);
        for (long i = 0; i < popped; i++, cursor.Advance())
        {
            if (nested) reply.ArrayHeader(2);
            reply.Bulk(cursor.Member);
            reply.Double(cursor.Score);
        }
        if (max) zset.RemoveRange(zset.Count - popped, zset.Count);
        else zset.RemoveRange(0, popped);
        ctx.Notify(NotifyClass.ZSet, max ? "zpopmax"u8 : "zpopmin"u8, entry.Key);
        DeleteIfEmpty(ctx, entry, zset);
        ctx.KeyModified(ctx.Db, entry.Key, popped);
        if (!logAsPop) return;
        var record = ctx.Propagate().Arg(max ? "ZPOPMAX"u8 : "ZPOPMIN"u8).Arg(entry.Key);
        if (count != -1) record.Arg(popped);
    }

    static void ZMPop(CommandContext ctx) => MPopGeneric(ctx, 1, blocking: false);

    static void BZMPop(CommandContext ctx) => MPopGeneric(ctx, 2, blocking: true);

    /// <summary>[B]ZMPOP [timeout] numkeys key... MIN|MAX [COUNT count], always logged as ZPOPMIN/ZPOPMAX key count.</summary>
    static void MPopGeneric(CommandContext ctx, int numKeysIndex, bool blocking)
    {
        if (!RedisNumbers.TryParseInt64(ctx.Arg(numKeysIndex), out long numKeys) || numKeys < 1)
        {
            ctx.Error("ERR numkeys should be greater than 0");
            return;
        }
        long whereIndex = numKeysIndex + Math.Min(numKeys, ctx.ArgCount) + 1;
        if (whereIndex >= ctx.ArgCount)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        bool max;
        if (ctx.ArgIs((int)whereIndex, "MIN"u8)) max = false;
        else if (ctx.ArgIs((int)whereIndex, "MAX"u8)) max = true;
        else
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        long count = -1;
        for (int i = (int)whereIndex + 1; i < ctx.ArgCount; i++)
        {
            if (count == -1 && ctx.ArgIs(i, "COUNT"u8) && i + 1 < ctx.ArgCount)
            {
                i++;
                if (!RedisNumbers.TryParseInt64(ctx.Arg(i), out count) || count < 1)
                {
                    ctx.Error("ERR count should be greater than 0");
                    return;
                }
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        if (count == -1) count = 1;
        if (blocking) BlockingPop(ctx, numKeysIndex + 1, (int)numKeys, 1, max, count, nested: true);
        else PopGeneric(ctx, numKeysIndex + 1, (int)numKeys, max, emitKey: true, count, nested: true, nilWhenEmpty: true, logAsPop: true);
    }

    static void BZPopMin(CommandContext ctx) => BlockingPop(ctx, 1, ctx.ArgCount - 2, ctx.ArgCount - 1, max: false, count: -1, nested: false);

    static void BZPopMax(CommandContext ctx) => BlockingPop(ctx, 1, ctx.ArgCount - 2, ctx.ArgCount - 1, max: true, count: -1, nested: false);

    /// <summary>
    /// Redis's blockingGenericZpopCommand: pops from the first non-empty zset, else blocks on all the keys.
    /// Served retries skip keys that now hold another type, as Redis only serves zsets.
    /// </summary>
    static void BlockingPop(CommandContext ctx, int firstKey, int keyCount, int timeoutIndex, bool max, long count, bool nested)
    {
        if (!ctx.TryGetTimeout(timeoutIndex, out long deadline)) return;
        for (int i = firstKey; i < firstKey + keyCount; i++)
        {
            var entry = ctx.LookupWrite(ctx.Arg(i));
            if (entry is null) continue;
            if (entry.Type != RedisType.ZSet)
            {
                if (ctx.IsRetry) continue;
                ctx.WrongType();
                return;
            }
            PopGeneric(ctx, i, 1, max, emitKey: true, count, nested, nilWhenEmpty: true, logAsPop: true);
            return;
        }
        var keys = new byte[keyCount][];
        for (int i = 0; i < keyCount; i++) keys[i] = ctx.Arg(firstKey + i).ToArray();
        ctx.BlockForKeys(keys, deadline, BlockedReply.NullArray);
    }
}
