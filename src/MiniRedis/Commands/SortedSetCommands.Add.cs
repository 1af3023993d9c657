using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>Sorted sets: ZADD and ZINCRBY with their NX/XX/GT/LT/CH/INCR options (t_zset.c zaddGenericCommand).</summary>
public static unsafe partial class SortedSetCommands
{
    // ---- ZADD / ZINCRBY ----

    [Flags]
    internal enum AddFlags { None = 0, Nx = 1, Xx = 2, Gt = 4, Lt = 8, Ch = 16, Incr = 32 }

    enum AddOutcome { Added, Updated, Unchanged, Nop, NaN }

    internal static void ZAdd(CommandContext ctx) => AddWithOptions(ctx, AddFlags.None);

    /// <summary>ZINCRBY is ZADD with INCR, down to the options: "ZINCRBY k NX m" parses NX and then lacks a score.</summary>
    static void ZIncrBy(CommandContext ctx) => AddWithOptions(ctx, AddFlags.Incr);

    static void AddWithOptions(CommandContext ctx, AddFlags flags)
    {
        int scoreIndex = 2;
        for (; scoreIndex < ctx.ArgCount; scoreIndex++)
        {
            if (ctx.ArgIs(scoreIndex, "NX"u8)) flags |= AddFlags.Nx;
            else if (ctx.ArgIs(scoreIndex, "XX"u8)) flags |= AddFlags.Xx;
            else if (ctx.ArgIs(scoreIndex, "GT"u8)) flags |= AddFlags.Gt;
            else if (ctx.ArgIs(scoreIndex, "LT"u8)) flags |= AddFlags.Lt;
            else if (ctx.ArgIs(scoreIndex, "CH"u8)) flags |= AddFlags.Ch;
            else if (ctx.ArgIs(scoreIndex, "INCR"u8)) flags |= AddFlags.Incr;
            else break;
        }
        AddGeneric(ctx, scoreIndex, flags);
    }

    /// <summary>Redis's zaddGenericCommand: option conflicts, then every score, then the additions.</summary>
    static void AddGeneric(CommandContext ctx, int scoreIndex, AddFlags flags)
    {
        int elementArgs = ctx.ArgCount - scoreIndex;
        if (elementArgs == 0 || elementArgs % 2 != 0)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        bool nx = (flags & AddFlags.Nx) != 0, gt = (flags & AddFlags.Gt) != 0, lt = (flags & AddFlags.Lt) != 0;
        if (nx && (flags & AddFlags.Xx) != 0)
        {
            ctx.Error("ERR XX and NX options at the same time are not compatible");
            return;
        }
        if ((gt && nx) || (lt && nx) || (gt && lt))
        {
            ctx.Error("ERR GT, LT, and/or NX options at the same time are not compatible");
            return;
        }
        bool incr = (flags & AddFlags.Incr) != 0;
        if (incr && elementArgs > 2)
        {
            ctx.Error("ERR INCR option supports a single increment-element pair");
            return;
        }
        int elements = elementArgs / 2;
        var scores = elements <= 64 ? stackalloc double[elements] : new double[elements];
        for (int i = 0; i < elements; i++)
        {
            if (!TryGetScore(ctx, scoreIndex + i * 2, out scores[i])) return;
        }
        AddScored(ctx, scores, scoreIndex + 1, 2, flags);
    }

    /// <summary>
    /// The additions of zaddGenericCommand and its reply, once the scores are known: member i is argument
    /// <paramref name="firstMember"/> + i × <paramref name="memberStride"/> (GEOADD passes its own arguments and computed scores).
    /// </summary>
    internal static void AddScored(CommandContext ctx, ReadOnlySpan<double> scores, int firstMember, int memberStride, AddFlags flags)
    {
        bool incr = (flags & AddFlags.Incr) != 0;
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        var zset = AsZset(ctx, entry, out bool wrongType);
        if (wrongType) return;
        long added = 0, updated = 0, processed = 0;
        double newScore = 0;
        if (zset is null && (flags & AddFlags.Xx) == 0)
        {
            zset = new SortedSetValue();
            if (MaxEntries(ctx) == 0 || MaxValue(ctx) < ctx.Arg(firstMember).Length) zset.ConvertToSkiplist();
            entry = ctx.Db.Add(key, zset, RedisType.ZSet, zset.Encoding);
        }
        if (zset is not null)
        {
            long maxEntries = MaxEntries(ctx), maxValue = MaxValue(ctx);
            for (int i = 0; i < scores.Length; i++)
            {
                var outcome = Add(zset, ctx.Arg(firstMember + i * memberStride), scores[i], flags, maxEntries, maxValue, out newScore);
                if (outcome == AddOutcome.NaN)
                {
                    ctx.Error(NaNScoreError);
                    Finish(ctx, key, entry!, added + updated, incr);
                    return;
                }
                if (outcome == AddOutcome.Added) added++;
                else if (outcome == AddOutcome.Updated) updated++;
                if (outcome != AddOutcome.Nop) processed++;
            }
            Finish(ctx, key, entry!, added + updated, incr);
        }
        if (incr)
        {
            if (processed > 0) ctx.Reply.Double(newScore);
            else ctx.Reply.NullBulk();
        }
        else
        {
            ctx.Reply.Integer((flags & AddFlags.Ch) != 0 ? added + updated : added);
        }

        static void Finish(CommandContext ctx, ReadOnlySpan<byte> key, KeyEntry entry, long changes, bool incr)
        {
            SyncEncoding(entry);
            if (changes == 0) return;
            ctx.KeyModified(ctx.Db, key, changes);
            ctx.Notify(NotifyClass.ZSet, incr ? "zincr"u8 : "zadd"u8, key);
        }
    }

    /// <summary>Redis's zsetAdd: one element under the NX/XX/GT/LT/INCR rules.</summary>
    static AddOutcome Add(SortedSetValue zset, ReadOnlySpan<byte> member, double score, AddFlags flags, long maxEntries, long maxValue, out double newScore)
    {
        newScore = score;
        if (zset.TryGetScore(member, out double current))
        {
            if ((flags & AddFlags.Nx) != 0) return AddOutcome.Nop;
            if ((flags & AddFlags.Incr) != 0)
            {
                score += current;
                if (double.IsNaN(score)) return AddOutcome.NaN;
            }
            if (((flags & AddFlags.Lt) != 0 && score >= current) || ((flags & AddFlags.Gt) != 0 && score <= current)) return AddOutcome.Nop;
            newScore = score;
            if (score == current) return AddOutcome.Unchanged;
            zset.UpdateScore(member, current, score);
            return AddOutcome.Updated;
        }
        if ((flags & AddFlags.Xx) != 0) return AddOutcome.Nop;
        zset.Insert(member, score, maxEntries, maxValue);
        return AddOutcome.Added;
    }
}
