using System.Globalization;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>
/// Sorted set commands (Redis 7.0's t_zset.c), one file per command family: this one registers them
/// and holds the shared lookups and replies, the single-element reads and ZREM, ZRANDMEMBER and
/// ZSCAN; <c>.Add</c> (ZADD, ZINCRBY), <c>.Ranges</c> (range reads, counts, stores and removals),
/// <c>.Pops</c> (pops and blocking pops) and <c>.SetOperations</c> (union, intersection, difference).
/// </summary>
public static unsafe partial class SortedSetCommands
{
    const string NotFloatRangeError = "ERR min or max is not a float";
    const string NotLexRangeError = "ERR min or max not valid string range item";
    const string NaNScoreError = "ERR resulting score is not a number (NaN)";
    const string NotPositiveError = "ERR value is out of range, must be positive";

    public static void Register(CommandTable t)
    {
        t.Add("zadd", &ZAdd);
        t.Add("zincrby", &ZIncrBy);
        t.Add("zrem", &ZRem);
        t.Add("zcard", &ZCard);
        t.Add("zscore", &ZScore);
        t.Add("zmscore", &ZMScore);
        t.Add("zrank", &ZRank);
        t.Add("zrevrank", &ZRevRank);
        t.Add("zcount", &ZCount);
        t.Add("zlexcount", &ZLexCount);
        t.Add("zrange", &ZRange);
        t.Add("zrangestore", &ZRangeStore);
        t.Add("zrevrange", &ZRevRange);
        t.Add("zrangebyscore", &ZRangeByScore);
        t.Add("zrevrangebyscore", &ZRevRangeByScore);
        t.Add("zrangebylex", &ZRangeByLex);
        t.Add("zrevrangebylex", &ZRevRangeByLex);
        t.Add("zremrangebyrank", &ZRemRangeByRank);
        t.Add("zremrangebyscore", &ZRemRangeByScore);
        t.Add("zremrangebylex", &ZRemRangeByLex);
        t.Add("zpopmin", &ZPopMin);
        t.Add("zpopmax", &ZPopMax);
        t.Add("bzpopmin", &BZPopMin);
        t.Add("bzpopmax", &BZPopMax);
        t.Add("zmpop", &ZMPop);
        t.Add("bzmpop", &BZMPop);
        t.Add("zrandmember", &ZRandMember);
        t.Add("zunion", &ZUnion);
        t.Add("zinter", &ZInter);
        t.Add("zdiff", &ZDiff);
        t.Add("zunionstore", &ZUnionStore);
        t.Add("zinterstore", &ZInterStore);
        t.Add("zdiffstore", &ZDiffStore);
        t.Add("zintercard", &ZInterCard);
        t.Add("zscan", &ZScan);
    }

    // ---- lookups and replies ----

    /// <summary>The sorted set at a key, null if missing; replies WRONGTYPE (and sets <paramref name="wrongType"/>) for other types.</summary>
    internal static SortedSetValue? AsZset(CommandContext ctx, KeyEntry? entry, out bool wrongType)
    {
        wrongType = false;
        if (entry is null) return null;
        if (entry.Type == RedisType.ZSet) return (SortedSetValue)entry.Value;
        wrongType = true;
        ctx.WrongType();
        return null;
    }

    static long MaxEntries(CommandContext ctx) => ctx.Config.ZsetMaxListpackEntries;
    static long MaxValue(CommandContext ctx) => ctx.Config.ZsetMaxListpackValue;

    /// <summary>Keeps the entry's reported encoding in step with the value (it may have converted).</summary>
    static void SyncEncoding(KeyEntry entry) => entry.Encoding = ((SortedSetValue)entry.Value).Encoding;

    /// <summary>Deletes the key when its last element went (Redis never keeps an empty zset), announcing <c>del</c>.</summary>
    static void DeleteIfEmpty(CommandContext ctx, KeyEntry entry, SortedSetValue zset)
    {
        if (zset.Count == 0)
        {
            ctx.Db.Delete(entry);
            ctx.Notify(NotifyClass.Generic, "del"u8, entry.Key);
        }
        else SyncEncoding(entry);
    }

    /// <summary>One element of a WITHSCORES reply: RESP3 nests each pair in its own array.</summary>
    static void WriteElement(ReplyBuffer reply, byte[] member, double score, bool withScores)
    {
        if (withScores && reply.Resp3) reply.ArrayHeader(2);
        reply.Bulk(member);
        if (withScores) reply.Double(score);
    }

    /// <summary>The array header for <paramref name="count"/> elements (RESP2 flattens pairs).</summary>
    static void ElementsHeader(ReplyBuffer reply, long count, bool withScores)
        => reply.ArrayHeader(withScores && !reply.Resp3 ? count * 2 : count);

    static bool TryGetScore(CommandContext ctx, int index, out double score, string error = CommandContext.NotFloatError)
    {
        if (RedisNumbers.TryParseDouble(ctx.Arg(index), out score)) return true;
        ctx.Error(error);
        return false;
    }

    // ---- single-element reads and removal ----

    static void ZRem(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        var zset = AsZset(ctx, entry, out bool wrongType);
        if (wrongType) return;
        long deleted = 0;
        if (zset is not null)
        {
            for (int i = 2; i < ctx.ArgCount && zset.Count > 0; i++)
            {
                if (zset.Remove(ctx.Arg(i))) deleted++;
            }
            if (deleted > 0)
            {
                ctx.KeyModified(ctx.Db, key, deleted);
                ctx.Notify(NotifyClass.ZSet, "zrem"u8, key);
            }
            DeleteIfEmpty(ctx, entry!, zset);
        }
        ctx.Reply.Integer(deleted);
    }

    static void ZCard(CommandContext ctx)
    {
        var zset = AsZset(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrongType);
        if (!wrongType) ctx.Reply.Integer(zset?.Count ?? 0);
    }

    static void ZScore(CommandContext ctx)
    {
        var zset = AsZset(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrongType);
        if (wrongType) return;
        if (zset is not null && zset.TryGetScore(ctx.Arg(2), out double score)) ctx.Reply.Double(score);
        else ctx.Reply.NullBulk();
    }

    static void ZMScore(CommandContext ctx)
    {
        var zset = AsZset(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrongType);
        if (wrongType) return;
        ctx.Reply.ArrayHeader(ctx.ArgCount - 2);
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            if (zset is not null && zset.TryGetScore(ctx.Arg(i), out double score)) ctx.Reply.Double(score);
            else ctx.Reply.NullBulk();
        }
    }

    static void ZRank(CommandContext ctx) => RankGeneric(ctx, reverse: false);

    static void ZRevRank(CommandContext ctx) => RankGeneric(ctx, reverse: true);

    static void RankGeneric(CommandContext ctx, bool reverse)
    {
        var zset = AsZset(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrongType);
        if (wrongType) return;
        long rank = zset?.RankOf(ctx.Arg(2)) ?? -1;
        if (rank < 0) ctx.Reply.NullBulk();
        else ctx.Reply.Integer(reverse ? zset!.Count - 1 - rank : rank);
    }

    // ---- ZRANDMEMBER ----

    static void ZRandMember(CommandContext ctx)
    {
        if (ctx.ArgCount == 2)
        {
            var single = AsZset(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrong);
            if (wrong) return;
            if (single is null) ctx.Reply.NullBulk();
            else ctx.Reply.Bulk(single.At(Random.Shared.NextInt64(single.Count)).Member);
            return;
        }
        if (!RedisNumbers.TryParseInt64(ctx.Arg(2), out long requested))
        {
            ctx.Error(CommandContext.NotIntegerError);
            return;
        }
        if (requested == long.MinValue)
        {
            ctx.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return;
        }
        if (ctx.ArgCount > 4 || (ctx.ArgCount == 4 && !ctx.ArgIs(3, "WITHSCORES"u8)))
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        bool withScores = ctx.ArgCount == 4;
        if (withScores && (requested < -long.MaxValue / 2 || requested > long.MaxValue / 2))
        {
            ctx.Error("ERR value is out of range");
            return;
        }
        var zset = AsZset(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrongType);
        if (wrongType) return;
        var reply = ctx.Reply;
        if (zset is null || requested == 0)
        {
            reply.ArrayHeader(0);
            return;
        }
        long size = zset.Count;
        if (requested < 0)
        {
            // Negative counts may repeat members.
            ElementsHeader(reply, -requested, withScores);
            for (long i = 0; i < -requested; i++)
            {
                var pick = zset.At(Random.Shared.NextInt64(size));
                WriteElement(reply, pick.Member, pick.Score, withScores);
            }
            return;
        }
        long count = Math.Min(requested, size);
        ElementsHeader(reply, count, withScores);
        // Distinct members: a partial Fisher-Yates shuffle of the ranks.
        var ranks = new long[size];
        for (long i = 0; i < size; i++) ranks[i] = i;
        for (long i = 0; i < count; i++)
        {
            long j = count == size ? i : i + Random.Shared.NextInt64(size - i);
            (ranks[i], ranks[j]) = (ranks[j], ranks[i]);
            var pick = zset.At(ranks[i]);
            WriteElement(reply, pick.Member, pick.Score, withScores);
        }
    }

    // ---- ZSCAN ----

    /// <summary>
    /// ZSCAN key cursor [MATCH pattern] [COUNT count]. Every element is returned in one call with cursor 0,
    /// which SCAN's guarantees allow (Redis does the same for listpack-encoded sets).
    /// </summary>
    static void ZScan(CommandContext ctx)
    {
        if (!KeyCommands.TryParseCursor(ctx.Arg(2), out _))
        {
            ctx.Error("ERR invalid cursor");
            return;
        }
        var zset = AsZset(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrongType);
        if (wrongType) return;
        var reply = ctx.Reply;
        if (zset is null)
        {
            HashCommands.ReplyEmptyScan(reply);
            return;
        }
        if (!KeyCommands.TryParseScanOptions(ctx, 3, allowType: false, out _, out int pattern, out _)) return;
        KeyCommands.ReplyCursor(reply, 0);
        int header = reply.BeginDeferredArray();
        long returned = 0;
        Span<byte> text = stackalloc byte[32];
        foreach (var (member, score) in zset.Elements())
        {
            if (pattern >= 0 && !GlobPattern.Match(ctx.Arg(pattern), member)) continue;
            reply.Bulk(member);
            // Redis's d2string: integral values (-0 too) print as integers, the rest as %.17g.
            reply.Bulk(text[..RedisNumbers.FormatDouble(score == 0 ? 0 : score, text)]);
            returned += 2;
        }
        reply.EndDeferredArray(header, returned);
    }
}
