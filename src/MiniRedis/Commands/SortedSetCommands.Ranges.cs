using System.Globalization;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>Sorted sets: range arguments (rank, score, lex), the range reads and counts, ZRANGESTORE and the ZREMRANGEBY* removals.</summary>
public static unsafe partial class SortedSetCommands
{
    // ---- ranges ----

    enum RangeKind { Rank, Score, Lex }

    /// <summary>A parsed range argument pair: ranks, or score/lex bounds turned into element positions.</summary>
    struct RangeSpec
    {
        public RangeKind Kind;
        public long Start, Stop;
        public ScoreBound ScoreMin, ScoreMax;
        public LexBound LexMin, LexMax;

        /// <summary>The ascending ranks [Low, High) the range covers in <paramref name="zset"/>; rank ranges count from the top when reversed.</summary>
        public readonly (long Low, long High) Resolve(SortedSetValue zset, bool reverse)
        {
            long low, high;
            switch (Kind)
            {
                case RangeKind.Rank:
                    long length = zset.Count, start = Start < 0 ? length + Start : Start, stop = Stop < 0 ? length + Stop : Stop;
                    if (start < 0) start = 0;
                    if (start > stop || start >= length) return (0, 0);
                    if (stop >= length) stop = length - 1;
                    return reverse ? (length - 1 - stop, length - start) : (start, stop + 1);
                case RangeKind.Score:
                    low = zset.CountBefore(ScoreMin);
                    high = zset.CountBefore(ScoreMax);
                    break;
                default:
                    low = zset.CountBefore(LexMin);
                    high = zset.CountBefore(LexMax);
                    break;
            }
            return (low, Math.Max(low, high));
        }
    }

    /// <summary>Parses the min/max (or start/stop) arguments with Redis's errors for each kind of range.</summary>
    static bool TryParseRange(CommandContext ctx, RangeKind kind, int minIndex, int maxIndex, out RangeSpec spec)
    {
        spec = new RangeSpec { Kind = kind };
        switch (kind)
        {
            case RangeKind.Rank:
                return ctx.TryGetLong(minIndex, out spec.Start) && ctx.TryGetLong(maxIndex, out spec.Stop);
            case RangeKind.Score:
                if (TryParseScoreItem(ctx.Arg(minIndex), out double min, out bool minExclusive)
                    && TryParseScoreItem(ctx.Arg(maxIndex), out double max, out bool maxExclusive))
                {
                    spec.ScoreMin = new ScoreBound(min, afterEqual: minExclusive);
                    spec.ScoreMax = new ScoreBound(max, afterEqual: !maxExclusive);
                    return true;
                }
                ctx.Error(NotFloatRangeError);
                return false;
            default:
                if (TryParseLexItem(ctx.Arg(minIndex), out var minMember, out minExclusive, out bool minIsPlus)
                    && TryParseLexItem(ctx.Arg(maxIndex), out var maxMember, out maxExclusive, out bool maxIsPlus))
                {
                    spec.LexMin = new LexBound(minMember, afterEqual: minExclusive, minIsPlus);
                    spec.LexMax = new LexBound(maxMember, afterEqual: !maxExclusive, maxIsPlus);
                    return true;
                }
                ctx.Error(NotLexRangeError);
                return false;
        }
    }

    /// <summary>
    /// Redis's zslParseRange item: "(" marks it exclusive, then C's strtod up to the first NUL — leading
    /// white space, overflow to infinity and an empty number (0) are accepted, NaN and trailing bytes are not.
    /// </summary>
    static bool TryParseScoreItem(ReadOnlySpan<byte> text, out double value, out bool exclusive)
    {
        int nul = text.IndexOf((byte)0);
        if (nul >= 0) text = text[..nul];
        exclusive = text.Length > 0 && text[0] == '(';
        if (exclusive) text = text[1..];
        value = 0;
        if (text.IsEmpty) return true;
        int start = 0;
        while (start < text.Length && text[start] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') start++;
        text = text[start..];
        if (!FloatSyntax.TryScan(text, out var syntax) || syntax.Kind == FloatSyntaxKind.NaN) return false;
        if (RedisNumbers.TryParseDouble(text, out value)) return true;
        // Out of double range: strtod gives ±HUGE_VAL or a (sub)zero, which ranges accept.
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Redis's zslParseLexRangeItem: "-", "+", or "(" / "[" before a member.</summary>
    static bool TryParseLexItem(ReadOnlySpan<byte> text, out byte[]? member, out bool exclusive, out bool isPlus)
    {
        member = null;
        exclusive = false;
        isPlus = false;
        if (text.IsEmpty) return false;
        switch (text[0])
        {
            case (byte)'+':
            case (byte)'-':
                isPlus = text[0] == '+';
                return text.Length == 1 || text[1] == 0;
            case (byte)'(':
            case (byte)'[':
                exclusive = text[0] == '(';
                member = text[1..].ToArray();
                return true;
            default:
                return false;
        }
    }

    static void ZCount(CommandContext ctx) => CountGeneric(ctx, RangeKind.Score);

    static void ZLexCount(CommandContext ctx) => CountGeneric(ctx, RangeKind.Lex);

    static void CountGeneric(CommandContext ctx, RangeKind kind)
    {
        if (!TryParseRange(ctx, kind, 2, 3, out var spec)) return;
        var zset = AsZset(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrongType);
        if (wrongType) return;
        if (zset is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var (low, high) = spec.Resolve(zset, reverse: false);
        ctx.Reply.Integer(high - low);
    }

    static void ZRange(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, null, null);
    static void ZRangeStore(CommandContext ctx) => RangeGeneric(ctx, 2, store: true, null, null);
    static void ZRevRange(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, RangeKind.Rank, fixedReverse: true);
    static void ZRangeByScore(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, RangeKind.Score, fixedReverse: false);
    static void ZRevRangeByScore(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, RangeKind.Score, fixedReverse: true);
    static void ZRangeByLex(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, RangeKind.Lex, fixedReverse: false);
    static void ZRevRangeByLex(CommandContext ctx) => RangeGeneric(ctx, 1, store: false, RangeKind.Lex, fixedReverse: true);

    /// <summary>
    /// Redis's zrangeGenericCommand: the options a command leaves open (kind, direction) may be given as
    /// BYSCORE/BYLEX/REV; reversed score and lex ranges take max before min.
    /// </summary>
    static void RangeGeneric(CommandContext ctx, int keyIndex, bool store, RangeKind? fixedKind, bool? fixedReverse)
    {
        RangeKind? kind = fixedKind;
        bool? reverse = fixedReverse;
        bool withScores = false;
        long offset = 0, limit = -1;
        for (int i = keyIndex + 3; i < ctx.ArgCount; i++)
        {
            int left = ctx.ArgCount - i - 1;
            if (!store && ctx.ArgIs(i, "WITHSCORES"u8)) withScores = true;
            else if (ctx.ArgIs(i, "LIMIT"u8) && left >= 2)
            {
                if (!ctx.TryGetLong(i + 1, out offset) || !ctx.TryGetLong(i + 2, out limit)) return;
                i += 2;
            }
            else if (reverse is null && ctx.ArgIs(i, "REV"u8)) reverse = true;
            else if (kind is null && ctx.ArgIs(i, "BYLEX"u8)) kind = RangeKind.Lex;
            else if (kind is null && ctx.ArgIs(i, "BYSCORE"u8)) kind = RangeKind.Score;
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        var rangeKind = kind ?? RangeKind.Rank;
        bool descending = reverse ?? false;
        if (limit != -1 && rangeKind == RangeKind.Rank)
        {
            ctx.Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
            return;
        }
        if (withScores && rangeKind == RangeKind.Lex)
        {
            ctx.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
            return;
        }
        int minIndex = keyIndex + 1, maxIndex = keyIndex + 2;
        if (descending && rangeKind != RangeKind.Rank) (minIndex, maxIndex) = (maxIndex, minIndex);
        if (!TryParseRange(ctx, rangeKind, minIndex, maxIndex, out var spec)) return;

        var source = AsZset(ctx, ctx.LookupRead(ctx.Arg(keyIndex)), out bool wrongType);
        if (wrongType) return;
        long low = 0, high = 0;
        if (source is not null) (low, high) = spec.Resolve(source, descending);
        long count = high - low;
        if (offset < 0) count = 0;
        long skip = Math.Clamp(offset, 0, count);
        count -= skip;
        if (limit >= 0) count = Math.Min(count, limit);

        if (store)
        {
            var result = new SortedSetValue();
            long maxEntries = MaxEntries(ctx), maxValue = MaxValue(ctx);
            // Redis starts a rank range's result as a skiplist when it is known to be too long for a listpack.
            if (rangeKind == RangeKind.Rank && count > maxEntries) result.ConvertToSkiplist();
            if (count > 0)
            {
                var cursor = source!.At(descending ? high - 1 - skip : low + skip, descending);
                for (long i = 0; i < count; i++, cursor.Advance()) result.Insert(cursor.Member, cursor.Score, maxEntries, maxValue);
            }
            StoreResult(ctx, ctx.Arg(1), result);
            return;
        }
        ElementsHeader(ctx.Reply, count, withScores);
        if (count == 0) return;
        var walk = source!.At(descending ? high - 1 - skip : low + skip, descending);
        for (long i = 0; i < count; i++, walk.Advance()) WriteElement(ctx.Reply, walk.Member, walk.Score, withScores);
    }

    /// <summary>
    /// Stores a computed zset at <paramref name="destination"/> (replacing any value and TTL), announced by
    /// the command's name, and replies its size; an empty result deletes the destination instead (<c>del</c>).
    /// </summary>
    internal static void StoreResult(CommandContext ctx, ReadOnlySpan<byte> destination, SortedSetValue result)
    {
        var existing = ctx.LookupWrite(destination);
        if (result.Count > 0)
        {
            ctx.Db.SetKey(destination, result, RedisType.ZSet, result.Encoding);
            ctx.KeyModified(ctx.Db, destination);
            var eventName = ctx.Command.Name switch
            {
                "zrangestore" => "zrangestore"u8,
                "zunionstore" => "zunionstore"u8,
                "zinterstore" => "zinterstore"u8,
                "georadius" or "georadiusbymember" => "georadiusstore"u8,
                "geosearchstore" => "geosearchstore"u8,
                _ => "zdiffstore"u8,
            };
            ctx.Notify(NotifyClass.ZSet, eventName, destination);
        }
        else if (existing is not null)
        {
            ctx.Db.Delete(existing);
            ctx.KeyModified(ctx.Db, destination);
            ctx.Notify(NotifyClass.Generic, "del"u8, destination);
        }
        ctx.Reply.Integer(result.Count);
    }

    static void ZRemRangeByRank(CommandContext ctx) => RemoveRangeGeneric(ctx, RangeKind.Rank);
    static void ZRemRangeByScore(CommandContext ctx) => RemoveRangeGeneric(ctx, RangeKind.Score);
    static void ZRemRangeByLex(CommandContext ctx) => RemoveRangeGeneric(ctx, RangeKind.Lex);

    static void RemoveRangeGeneric(CommandContext ctx, RangeKind kind)
    {
        if (!TryParseRange(ctx, kind, 2, 3, out var spec)) return;
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        var zset = AsZset(ctx, entry, out bool wrongType);
        if (wrongType) return;
        if (zset is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var (low, high) = spec.Resolve(zset, reverse: false);
        zset.RemoveRange(low, high);
        if (high > low)
        {
            ctx.KeyModified(ctx.Db, key, high - low);
            ctx.Notify(NotifyClass.ZSet, kind switch { RangeKind.Rank => "zremrangebyrank"u8, RangeKind.Score => "zremrangebyscore"u8, _ => "zremrangebylex"u8 }, key);
        }
        DeleteIfEmpty(ctx, entry!, zset);
        ctx.Reply.Integer(high - low);
    }
}
