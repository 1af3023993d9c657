using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>
/// Set commands (Redis 7.0's t_set.c) over <see cref="SetValue"/>, which hides the intset/hashtable
/// encoding. SPOP is logged as the SREM of each popped member (or DEL when it took the whole set),
/// as Redis 7.0 writes it to its AOF.
/// </summary>
public static unsafe class SetCommands
{
    const string OutOfRangePositiveError = "ERR value is out of range, must be positive";

    enum SetOperation { Union, Diff }

    public static void Register(CommandTable t)
    {
        t.Add("sadd", &SAdd);
        t.Add("srem", &SRem);
        t.Add("smove", &SMove);
        t.Add("sismember", &SIsMember);
        t.Add("smismember", &SMIsMember);
        t.Add("scard", &SCard);
        t.Add("smembers", &SMembers);
        t.Add("srandmember", &SRandMember);
        t.Add("spop", &SPop);
        t.Add("sinter", &SInter);
        t.Add("sintercard", &SInterCard);
        t.Add("sinterstore", &SInterStore);
        t.Add("sunion", &SUnion);
        t.Add("sunionstore", &SUnionStore);
        t.Add("sdiff", &SDiff);
        t.Add("sdiffstore", &SDiffStore);
        t.Add("sscan", &SScan);
    }

    static long MaxIntsetEntries(CommandContext ctx) => ctx.Config.SetMaxIntsetEntries;

    static KeyEntry? LookupRead(CommandContext ctx, int index, out bool wrongType)
    {
        var entry = ctx.LookupRead(ctx.Arg(index));
        wrongType = HashCommands.IsWrongType(ctx, entry, RedisType.Set);
        return entry;
    }

    static void SAdd(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var set = ctx.LookupWrite(key);
        if (HashCommands.IsWrongType(ctx, set, RedisType.Set)) return;
        set ??= SetValue.Add(ctx.Db, key, ctx.Arg(2));
        long max = MaxIntsetEntries(ctx);
        long added = 0;
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            if (SetValue.Add(set, ctx.Arg(i), max)) added++;
        }
        if (added > 0)
        {
            ctx.KeyModified(ctx.Db, key, added);
            ctx.Notify(NotifyClass.Set, "sadd"u8, key);
        }
        ctx.Reply.Integer(added);
    }

    static void SRem(CommandContext ctx) => HashCommands.RemoveElements(ctx, RedisType.Set, &SetValue.Remove, &SetValue.Count, NotifyClass.Set, "srem"u8);

    static void SMove(CommandContext ctx)
    {
        var source = ctx.LookupWrite(ctx.Arg(1));
        var target = ctx.LookupWrite(ctx.Arg(2));
        var member = ctx.Arg(3);
        if (source is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        if (HashCommands.IsWrongType(ctx, source, RedisType.Set) || HashCommands.IsWrongType(ctx, target, RedisType.Set)) return;
        if (source == target)
        {
            ctx.Reply.Integer(SetValue.Contains(source, member) ? 1 : 0);
            return;
        }
        if (!SetValue.Remove(source, member))
        {
            ctx.Reply.Integer(0);
            return;
        }
        ctx.Notify(NotifyClass.Set, "srem"u8, ctx.Arg(1));
        if (SetValue.Count(source) == 0)
        {
            ctx.Db.Delete(source);
            ctx.Notify(NotifyClass.Generic, "del"u8, ctx.Arg(1));
        }
        target ??= SetValue.Add(ctx.Db, ctx.Arg(2), member);
        ctx.KeyModified(ctx.Db, ctx.Arg(1));
        // A member the destination already had leaves it unchanged: its watchers are not told (Redis's smoveCommand).
        if (SetValue.Add(target, member, MaxIntsetEntries(ctx)))
        {
            ctx.KeyModified(ctx.Db, ctx.Arg(2));
            ctx.Notify(NotifyClass.Set, "sadd"u8, ctx.Arg(2));
        }
        ctx.Reply.Integer(1);
    }

    static void SIsMember(CommandContext ctx)
    {
        var set = LookupRead(ctx, 1, out bool wrongType);
        if (wrongType) return;
        ctx.Reply.Integer(set is not null && SetValue.Contains(set, ctx.Arg(2)) ? 1 : 0);
    }

    static void SMIsMember(CommandContext ctx)
    {
        var set = LookupRead(ctx, 1, out bool wrongType);
        if (wrongType) return;
        ctx.Reply.ArrayHeader(ctx.ArgCount - 2);
        for (int i = 2; i < ctx.ArgCount; i++) ctx.Reply.Integer(set is not null && SetValue.Contains(set, ctx.Arg(i)) ? 1 : 0);
    }

    static void SCard(CommandContext ctx)
    {
        var set = LookupRead(ctx, 1, out bool wrongType);
        if (wrongType) return;
        ctx.Reply.Integer(set is null ? 0 : SetValue.Count(set));
    }

    static void SMembers(CommandContext ctx) => Inter(ctx, firstKey: 1, keyCount: 1, destination: -1, cardinalityOnly: false, limit: 0);

    /// <summary>Writes every member of <paramref name="set"/> after a header of the right kind.</summary>
    static void ReplyMembers(CommandContext ctx, KeyEntry set, bool asSet)
    {
        int count = SetValue.Count(set);
        if (asSet) ctx.Reply.SetHeader(count);
        else ctx.Reply.ArrayHeader(count);
        for (var e = new SetValue.Enumerator(set); e.MoveNext();) HashCommands.BulkEntry(ctx.Reply, e.Current);
    }

    /// <summary><paramref name="count"/> distinct random members (less than the set's size), as byte strings.</summary>
    static List<byte[]> PickMembers(KeyEntry set, int count)
    {
        var members = new List<byte[]>(count);
        if (set.Value is byte[] intset)
        {
            foreach (int index in HashCommands.PickDistinct(Intset.Count(intset), count))
                members.Add(new ListpackEntry(Intset.Get(intset, index)).ToArray());
            return members;
        }
        var table = (FieldTable)set.Value;
        if ((long)count * 3 <= table.Count)
        {
            // Few picks from a big table: draw until enough distinct ones came up.
            var seen = new HashSet<byte[]>(count, ByteArrayComparer.Instance);
            while (members.Count < count)
            {
                var key = table.Random().Key;
                if (seen.Add(key)) members.Add(key);
            }
            return members;
        }
        var positions = HashCommands.PickDistinct(table.Count, count);
        positions.Sort();
        int position = 0, next = 0;
        foreach (var (key, _) in table)
        {
            if (next == positions.Count) break;
            if (positions[next] == position++)
            {
                members.Add(key);
                next++;
            }
        }
        return members;
    }

    static void SRandMember(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        if (ctx.ArgCount == 2)
        {
            var single = LookupRead(ctx, 1, out bool singleWrongType);
            if (singleWrongType) return;
            if (single is null) ctx.Reply.NullBulk();
            else HashCommands.BulkEntry(ctx.Reply, SetValue.Random(single));
            return;
        }
        if (!HashCommands.TryGetRandomCount(ctx, 2, out long count)) return;
        var set = LookupRead(ctx, 1, out bool wrongType);
        if (wrongType) return;
        if (set is null || count == 0)
        {
            ctx.Reply.ArrayHeader(0);
            return;
        }
        var reply = ctx.Reply;
        if (count < 0)
        {
            // A negative count may repeat members.
            reply.ArrayHeader(-count);
            for (long i = 0; i < -count; i++) HashCommands.BulkEntry(reply, SetValue.Random(set));
            return;
        }
        int size = SetValue.Count(set);
        if (count >= size)
        {
            ReplyMembers(ctx, set, asSet: false);
            return;
        }
        var members = PickMembers(set, (int)count);
        reply.ArrayHeader(members.Count);
        foreach (var member in members) reply.Bulk(member);
    }

    static void SPop(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        var key = ctx.Arg(1);
        if (ctx.ArgCount == 2)
        {
            var single = ctx.LookupWrite(key);
            if (HashCommands.IsWrongType(ctx, single, RedisType.Set)) return;
            if (single is null)
            {
                ctx.Reply.NullBulk();
                return;
            }
            var member = SetValue.Random(single).ToArray();
            SetValue.Remove(single, member);
            ctx.Notify(NotifyClass.Set, "spop"u8, key);
            if (SetValue.Count(single) == 0)
            {
                ctx.Db.Delete(single);
                ctx.Notify(NotifyClass.Generic, "del"u8, key);
            }
            ctx.KeyModified(key);
            ctx.Propagate().Arg("SREM"u8).Arg(key).Arg(member);
            ctx.Reply.Bulk(member);
            return;
        }
        if (!ctx.TryGetLong(2, out long count, OutOfRangePositiveError)) return;
        if (count < 0)
        {
            ctx.Error(OutOfRangePositiveError);
            return;
        }
        var set = ctx.LookupWrite(key);
        if (HashCommands.IsWrongType(ctx, set, RedisType.Set)) return;
        if (set is null || count == 0)
        {
            ctx.Reply.SetHeader(0);
            return;
        }
        int size = SetValue.Count(set);
        ctx.Notify(NotifyClass.Set, "spop"u8, key);
        if (count >= size)
        {
            ReplyMembers(ctx, set, asSet: true);
            ctx.Db.Delete(set);
            ctx.Notify(NotifyClass.Generic, "del"u8, key);
            ctx.KeyModified(ctx.Db, key, size);
            ctx.Propagate().Arg("DEL"u8).Arg(key);
            return;
        }
        var members = PickMembers(set, (int)count);
        ctx.Reply.SetHeader(members.Count);
        foreach (var member in members)
        {
            SetValue.Remove(set, member);
            ctx.Reply.Bulk(member);
            ctx.Propagate().Arg("SREM"u8).Arg(key).Arg(member);
        }
        ctx.KeyModified(ctx.Db, key, members.Count);
    }

    static void SInter(CommandContext ctx) => Inter(ctx, firstKey: 1, keyCount: ctx.ArgCount - 1, destination: -1, cardinalityOnly: false, limit: 0);

    static void SInterStore(CommandContext ctx) => Inter(ctx, firstKey: 2, keyCount: ctx.ArgCount - 2, destination: 1, cardinalityOnly: false, limit: 0);

    static void SInterCard(CommandContext ctx)
    {
        const string NumKeysError = "ERR numkeys should be greater than 0";
        if (!ctx.TryGetLong(1, out long keyCount, NumKeysError)) return;
        if (keyCount < 1)
        {
            ctx.Error(NumKeysError);
            return;
        }
        if (keyCount > ctx.ArgCount - 2)
        {
            ctx.Error("ERR Number of keys can't be greater than number of args");
            return;
        }
        long limit = 0;
        for (int i = 2 + (int)keyCount; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "LIMIT"u8) && i + 1 < ctx.ArgCount)
            {
                if (!ctx.TryGetNonNegativeLong(++i, out limit, "ERR LIMIT can't be negative")) return;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        Inter(ctx, firstKey: 2, keyCount: (int)keyCount, destination: -1, cardinalityOnly: true, limit);
    }

    /// <summary>
    /// SINTER/SINTERSTORE/SINTERCARD/SMEMBERS, as Redis 7.0's sinterGenericCommand: every key must
    /// be a set or missing, a missing one makes the result empty; otherwise the smallest set's
    /// members are tested against the others.
    /// </summary>
    static void Inter(CommandContext ctx, int firstKey, int keyCount, int destination, bool cardinalityOnly, long limit)
    {
        var sets = new KeyEntry[keyCount];
        bool anyMissing = false;
        for (int j = 0; j < keyCount; j++)
        {
            var key = ctx.Arg(firstKey + j);
            var set = destination >= 0 ? ctx.LookupWrite(key) : ctx.LookupRead(key);
            if (HashCommands.IsWrongType(ctx, set, RedisType.Set)) return;
            anyMissing |= set is null;
            sets[j] = set!;
        }
        if (anyMissing)
        {
            if (destination >= 0) Store(ctx, destination, null);
            else if (cardinalityOnly) ctx.Reply.Integer(0);
            else ctx.Reply.SetHeader(0);
            return;
        }
        Array.Sort(sets, (a, b) => SetValue.Count(a).CompareTo(SetValue.Count(b)));

        var result = cardinalityOnly ? null : SetValue.CreateDetached();
        long max = MaxIntsetEntries(ctx);
        long cardinality = 0;
        for (var e = new SetValue.Enumerator(sets[0]); e.MoveNext();)
        {
            bool everywhere = true;
            for (int j = 1; j < sets.Length && everywhere; j++)
            {
                if (sets[j] != sets[0]) everywhere = SetValue.Contains(sets[j], e.Current);
            }
            if (!everywhere) continue;
            cardinality++;
            if (result is not null) SetValue.Add(result, e.Current, max);
            else if (limit > 0 && cardinality == limit) break;
        }
        if (result is null) ctx.Reply.Integer(cardinality);
        else if (destination >= 0) Store(ctx, destination, result);
        else ReplyMembers(ctx, result, asSet: true);
    }

    static void SUnion(CommandContext ctx) => UnionOrDiff(ctx, firstKey: 1, destination: -1, SetOperation.Union);

    static void SUnionStore(CommandContext ctx) => UnionOrDiff(ctx, firstKey: 2, destination: 1, SetOperation.Union);

    static void SDiff(CommandContext ctx) => UnionOrDiff(ctx, firstKey: 1, destination: -1, SetOperation.Diff);

    static void SDiffStore(CommandContext ctx) => UnionOrDiff(ctx, firstKey: 2, destination: 1, SetOperation.Diff);

    /// <summary>Redis's sunionDiffGenericCommand: missing keys are empty sets, but every existing key must be a set.</summary>
    static void UnionOrDiff(CommandContext ctx, int firstKey, int destination, SetOperation operation)
    {
        var sets = new KeyEntry?[ctx.ArgCount - firstKey];
        for (int j = 0; j < sets.Length; j++)
        {
            var key = ctx.Arg(firstKey + j);
            sets[j] = destination >= 0 ? ctx.LookupWrite(key) : ctx.LookupRead(key);
            if (HashCommands.IsWrongType(ctx, sets[j], RedisType.Set)) return;
        }
        var result = SetValue.CreateDetached();
        long max = MaxIntsetEntries(ctx);
        if (operation == SetOperation.Union)
        {
            foreach (var set in sets)
            {
                if (set is null) continue;
                for (var e = new SetValue.Enumerator(set); e.MoveNext();) SetValue.Add(result, e.Current, max);
            }
        }
        else if (sets[0] is { } first)
        {
            for (var e = new SetValue.Enumerator(first); e.MoveNext();)
            {
                bool elsewhere = false;
                for (int j = 1; j < sets.Length && !elsewhere; j++) elsewhere = sets[j] is { } other && SetValue.Contains(other, e.Current);
                if (!elsewhere) SetValue.Add(result, e.Current, max);
            }
        }
        if (destination >= 0) Store(ctx, destination, result);
        else ReplyMembers(ctx, result, asSet: true);
    }

    /// <summary>
    /// The *STORE commands' ending: a non-empty result replaces the destination (any type, TTL
    /// dropped) and is announced by the command's name; an empty one deletes it (<c>del</c>). Replies the stored cardinality.
    /// </summary>
    static void Store(CommandContext ctx, int destination, KeyEntry? result)
    {
        var key = ctx.Arg(destination);
        var existing = ctx.LookupWrite(key);
        int count = result is null ? 0 : SetValue.Count(result);
        if (count > 0)
        {
            ctx.Db.SetKey(key, result!.Value, RedisType.Set, result.Encoding);
            ctx.KeyModified(key);
            ctx.Notify(NotifyClass.Set, ctx.Command.Name switch { "sinterstore" => "sinterstore"u8, "sunionstore" => "sunionstore"u8, _ => "sdiffstore"u8 }, key);
        }
        else if (existing is not null)
        {
            ctx.Db.Delete(existing);
            ctx.KeyModified(key);
            ctx.Notify(NotifyClass.Generic, "del"u8, key);
        }
        ctx.Reply.Integer(count);
    }

    static void SScan(CommandContext ctx) => HashCommands.ScanCollection(ctx, RedisType.Set);
}
