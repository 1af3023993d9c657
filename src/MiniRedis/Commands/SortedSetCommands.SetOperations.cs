using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>Sorted sets: ZUNION/ZINTER/ZDIFF, their STORE forms and ZINTERCARD, with weights and aggregates.</summary>
public static unsafe partial class SortedSetCommands
{
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
}
