using System.Globalization;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>Sorted set commands (Redis 7.0's t_zset.c).</summary>
public static unsafe class SortedSetCommands
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

    static long MaxEntries(CommandContext ctx) => ctx.Server.Config.ZsetMaxListpackEntries;
    static long MaxValue(CommandContext ctx) => ctx.Server.Config.ZsetMaxListpackValue;

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

    // ---- ZUNION / ZINTER / ZDIFF and their STORE forms, ZINTERCARD ----

    enum SetOperation { Union, Inter, Diff }

    enum Aggregate { Sum, Min, Max }

    /// <summary>One input of a set operation: a zset, a plain set (every member scoring 1), or nothing for a missing key, with its weight.</summary>
    struct OperationSource
    {
        public SortedSetValue? Zset;
        public KeyEntry? Set;
        public double Weight;

        public readonly long Length => Zset?.Count ?? (Set is null ? 0 : SetValue.Count(Set));

        public readonly bool TryGetScore(ReadOnlySpan<byte> member, out double score)
        {
            score = 1;
            if (Set is not null) return SetValue.Contains(Set, member);
            return Zset is not null && Zset.TryGetScore(member, out score);
        }

        public readonly IEnumerable<(byte[] Member, double Score)> Elements()
        {
            if (Zset is not null) return Zset.Elements();
            var elements = new List<(byte[], double)>();
            if (Set is null) return elements;
            var members = new SetValue.Enumerator(Set);
            while (members.MoveNext()) elements.Add((members.Current.ToArray(), 1));
            return elements;
        }
    }

    static void ZUnion(CommandContext ctx) => SetOperationGeneric(ctx, -1, 1, SetOperation.Union, cardinalityOnly: false);
    static void ZInter(CommandContext ctx) => SetOperationGeneric(ctx, -1, 1, SetOperation.Inter, cardinalityOnly: false);
    static void ZDiff(CommandContext ctx) => SetOperationGeneric(ctx, -1, 1, SetOperation.Diff, cardinalityOnly: false);
    static void ZUnionStore(CommandContext ctx) => SetOperationGeneric(ctx, 1, 2, SetOperation.Union, cardinalityOnly: false);
    static void ZInterStore(CommandContext ctx) => SetOperationGeneric(ctx, 1, 2, SetOperation.Inter, cardinalityOnly: false);
    static void ZDiffStore(CommandContext ctx) => SetOperationGeneric(ctx, 1, 2, SetOperation.Diff, cardinalityOnly: false);
    static void ZInterCard(CommandContext ctx) => SetOperationGeneric(ctx, -1, 1, SetOperation.Inter, cardinalityOnly: true);

    /// <summary>Redis's zunionInterDiffGenericCommand: inputs first (type-checked), then options, then the operation.</summary>
    static void SetOperationGeneric(CommandContext ctx, int destinationIndex, int numKeysIndex, SetOperation operation, bool cardinalityOnly)
    {
        if (!ctx.TryGetLong(numKeysIndex, out long numKeys)) return;
        if (numKeys < 1)
        {
            ctx.Error($"ERR at least 1 input key is needed for '{ctx.Command.Name}' command");
            return;
        }
        if (numKeys > ctx.ArgCount - numKeysIndex - 1)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        bool store = destinationIndex >= 0;
        var sources = new OperationSource[numKeys];
        int j = numKeysIndex + 1;
        for (int i = 0; i < numKeys; i++, j++)
        {
            var entry = store ? ctx.LookupWrite(ctx.Arg(j)) : ctx.LookupRead(ctx.Arg(j));
            if (entry is not null && entry.Type is not (RedisType.ZSet or RedisType.Set))
            {
                ctx.WrongType();
                return;
            }
            sources[i] = entry?.Type == RedisType.Set
                ? new OperationSource { Set = entry, Weight = 1 }
                : new OperationSource { Zset = (SortedSetValue?)entry?.Value, Weight = 1 };
        }
        var aggregate = Aggregate.Sum;
        bool withScores = false;
        long limit = 0;
        bool weighted = operation != SetOperation.Diff && !cardinalityOnly;
        while (j < ctx.ArgCount)
        {
            int remaining = ctx.ArgCount - j;
            if (weighted && remaining >= numKeys + 1 && ctx.ArgIs(j, "WEIGHTS"u8))
            {
                j++;
                for (int i = 0; i < numKeys; i++, j++)
                {
                    if (!TryGetScore(ctx, j, out sources[i].Weight, "ERR weight value is not a float")) return;
                }
            }
            else if (weighted && remaining >= 2 && ctx.ArgIs(j, "AGGREGATE"u8))
            {
                if (ctx.ArgIs(j + 1, "SUM"u8)) aggregate = Aggregate.Sum;
                else if (ctx.ArgIs(j + 1, "MIN"u8)) aggregate = Aggregate.Min;
                else if (ctx.ArgIs(j + 1, "MAX"u8)) aggregate = Aggregate.Max;
                else
                {
                    ctx.Error(CommandContext.SyntaxError);
                    return;
                }
                j += 2;
            }
            else if (!store && !cardinalityOnly && ctx.ArgIs(j, "WITHSCORES"u8))
            {
                j++;
                withScores = true;
            }
            else if (cardinalityOnly && remaining >= 2 && ctx.ArgIs(j, "LIMIT"u8))
            {
                if (!ctx.TryGetNonNegativeLong(j + 1, out limit, "ERR LIMIT can't be negative")) return;
                j += 2;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }

        // Smallest inputs first, as Redis orders them (it also fixes the order scores are aggregated in).
        if (operation != SetOperation.Diff) SortByLength(sources);
        // Built as a skiplist like Redis's, so scores keep their sign of zero unless a stored result turns compact.
        var result = new SortedSetValue();
        result.ConvertToSkiplist();
        long maxEntries = MaxEntries(ctx), maxValue = MaxValue(ctx);
        long cardinality = 0;
        switch (operation)
        {
            case SetOperation.Inter:
                foreach (var (member, elementScore) in sources[0].Elements())
                {
                    double score = sources[0].Weight * elementScore;
                    if (double.IsNaN(score)) score = 0;
                    int k = 1;
                    for (; k < sources.Length; k++)
                    {
                        if (!sources[k].TryGetScore(member, out double value)) break;
                        Combine(ref score, value * sources[k].Weight, aggregate);
                    }
                    if (k < sources.Length) continue;
                    if (cardinalityOnly)
                    {
                        cardinality++;
                        if (limit != 0 && cardinality >= limit) break;
                    }
                    else
                    {
                        result.Insert(member, score, maxEntries, maxValue);
                    }
                }
                break;
            case SetOperation.Union:
                var accumulator = new Dictionary<byte[], double>(ByteArrayComparer.Instance);
                var order = new List<byte[]>();
                foreach (var source in sources)
                {
                    foreach (var (member, elementScore) in source.Elements())
                    {
                        double score = source.Weight * elementScore;
                        if (double.IsNaN(score)) score = 0;
                        ref double slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(accumulator, member, out bool exists);
                        if (exists) Combine(ref slot, score, aggregate);
                        else
                        {
                            slot = score;
                            order.Add(member);
                        }
                    }
                }
                foreach (var member in order) result.Insert(member, accumulator[member], maxEntries, maxValue);
                break;
            default:
                foreach (var (member, elementScore) in sources[0].Elements())
                {
                    bool elsewhere = false;
                    for (int k = 1; k < sources.Length && !elsewhere; k++) elsewhere = sources[k].TryGetScore(member, out _);
                    if (!elsewhere) result.Insert(member, elementScore, maxEntries, maxValue);
                }
                break;
        }

        if (cardinalityOnly) ctx.Reply.Integer(cardinality);
        else if (store)
        {
            result.ConvertToCompactIfFits(maxEntries, maxValue);
            StoreResult(ctx, ctx.Arg(destinationIndex), result);
        }
        else
        {
            ElementsHeader(ctx.Reply, result.Count, withScores);
            if (result.Count == 0) return;
            var walk = result.At(0);
            for (long i = 0; i < result.Count; i++, walk.Advance()) WriteElement(ctx.Reply, walk.Member, walk.Score, withScores);
        }
    }

    /// <summary>A stable sort by size (Redis's qsort by cardinality, stable for such small arrays).</summary>
    static void SortByLength(OperationSource[] sources)
    {
        for (int i = 1; i < sources.Length; i++)
        {
            var item = sources[i];
            int k = i - 1;
            for (; k >= 0 && sources[k].Length > item.Length; k--) sources[k + 1] = sources[k];
            sources[k + 1] = item;
        }
    }

    /// <summary>Redis's zunionInterAggregate (a NaN sum becomes 0).</summary>
    static void Combine(ref double target, double value, Aggregate aggregate)
    {
        switch (aggregate)
        {
            case Aggregate.Sum:
                target += value;
                if (double.IsNaN(target)) target = 0;
                break;
            case Aggregate.Min:
                target = value < target ? value : target;
                break;
            default:
                target = value > target ? value : target;
                break;
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
