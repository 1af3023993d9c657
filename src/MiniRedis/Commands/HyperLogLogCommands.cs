using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>
/// HyperLogLog commands (Redis's hyperloglog.c). The values are strings holding Redis's exact bytes
/// (<see cref="HyperLogLog"/>); every command first checks a value is one (Redis's isHLLObjectOrReply).
/// </summary>
public static unsafe class HyperLogLogCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("pfadd", &PfAdd);
        t.Add("pfcount", &PfCount);
        t.Add("pfmerge", &PfMerge);
        t.Add("pfdebug", &PfDebug);
        t.Add("pfselftest", &PfSelfTest);
    }

    /// <summary>The HLL bytes of an existing key, or null after replying WRONGTYPE (not a string, or not an HLL).</summary>
    static byte[]? ReadHll(CommandContext ctx, KeyEntry entry)
    {
        if (entry.Type != RedisType.String)
        {
            ctx.WrongType();
            return null;
        }
        // An int-encoded value is never an HLL, whatever its digits (Redis checks sdsEncodedObject).
        if (entry.Encoding != ObjectEncoding.Int && HyperLogLog.IsValid(entry.StringValue)) return entry.StringArray();
        ctx.Error(HyperLogLog.NotHllError);
        return null;
    }

    /// <summary>Stores an edited HLL back: Redis's dbUnshareStringValue leaves it a raw string.</summary>
    static void Store(KeyEntry entry, byte[] value)
    {
        entry.Value = value;
        entry.Encoding = ObjectEncoding.Raw;
    }

    static void PfAdd(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        int updated = 0;
        byte[]? value;
        if (entry is null)
        {
            entry = ctx.Db.Add(key, HyperLogLog.CreateEmpty(), RedisType.String, ObjectEncoding.Raw);
            value = entry.StringArray();
            updated++;
        }
        else if ((value = ReadHll(ctx, entry)) is null) return;

        if (HyperLogLog.IsSparse(value))
        {
            var hll = new HyperLogLog(value);
            long sparseMax = ctx.Config.HllSparseMaxBytes;
            for (int i = 2; i < ctx.ArgCount; i++)
            {
                int result = hll.Add(ctx.Arg(i), sparseMax);
                if (result < 0)
                {
                    Store(entry, hll.ToArray());
                    ctx.Error(HyperLogLog.InvalidObjectError);
                    return;
                }
                updated += result;
            }
            value = hll.ToArray();
        }
        else
        {
            // Dense registers change in place: nothing to wrap or copy.
            for (int i = 2; i < ctx.ArgCount; i++) updated += HyperLogLog.AddDense(value, ctx.Arg(i));
        }
        Store(entry, value);
        if (updated > 0)
        {
            ctx.KeyModified(ctx.Db, key, updated);
            ctx.Notify(NotifyClass.String, "pfadd"u8, key);
            HyperLogLog.InvalidateCache(value);
        }
        ctx.Reply.Integer(updated > 0 ? 1 : 0);
    }

    static void PfCount(CommandContext ctx)
    {
        if (ctx.ArgCount > 2)
        {
            Span<byte> max = stackalloc byte[HyperLogLog.Registers];
            max.Clear();
            if (!MergeSources(ctx, 1, max, out _)) return;
            ctx.Reply.Integer(HyperLogLog.CountRegisters(max));
            return;
        }

        var key = ctx.Arg(1);
        var entry = ctx.LookupRead(key);
        if (entry is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var value = ReadHll(ctx, entry);
        if (value is null) return;
        entry.Encoding = ObjectEncoding.Raw;
        long count = HyperLogLog.CachedCount(value);
        if (count < 0)
        {
            count = HyperLogLog.Count(value, out bool invalid);
            if (invalid)
            {
                ctx.Error(HyperLogLog.InvalidObjectError);
                return;
            }
            // Caching the count changes the string: Redis propagates this read-only command (as itself) and wakes watchers.
            HyperLogLog.SetCachedCount(value, count);
            ctx.KeyModified(key);
            ctx.Propagate().Arg(ctx.Arg(0)).Arg(key);
        }
        ctx.Reply.Integer(count);
    }

    /// <summary>
    /// Raises <paramref name="max"/> to the registers of the keys from argument <paramref name="first"/> on
    /// (missing keys count as empty); false after replying an error. <paramref name="anyDense"/>: one of them is dense.
    /// </summary>
    static bool MergeSources(CommandContext ctx, int first, Span<byte> max, out bool anyDense)
    {
        anyDense = false;
        for (int i = first; i < ctx.ArgCount; i++)
        {
            var entry = ctx.LookupRead(ctx.Arg(i));
            if (entry is null) continue;
            var value = ReadHll(ctx, entry);
            if (value is null) return false;
            anyDense |= !HyperLogLog.IsSparse(value);
            if (!HyperLogLog.MergeInto(max, value))
            {
                ctx.Error(HyperLogLog.InvalidObjectError);
                return false;
            }
        }
        return true;
    }

    static void PfMerge(CommandContext ctx)
    {
        Span<byte> max = stackalloc byte[HyperLogLog.Registers];
        max.Clear();
        if (!MergeSources(ctx, 1, max, out bool anyDense)) return;

        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key) ?? ctx.Db.Add(key, HyperLogLog.CreateEmpty(), RedisType.String, ObjectEncoding.Raw);
        var hll = new HyperLogLog(entry.StringArray());
        if (anyDense && !hll.ToDense())
        {
            ctx.Error(HyperLogLog.InvalidObjectError);
            return;
        }
        long sparseMax = ctx.Config.HllSparseMaxBytes;
        for (int i = 0; i < HyperLogLog.Registers; i++)
        {
            if (max[i] != 0) hll.Set(i, max[i], sparseMax);
        }
        var value = hll.ToArray();
        HyperLogLog.InvalidateCache(value);
        Store(entry, value);
        ctx.KeyModified(key);
        // Redis announces PFMERGE as a PFADD (it is a mix of PFADD and SET).
        ctx.Notify(NotifyClass.String, "pfadd"u8, key);
        ctx.Reply.Ok();
    }

    static void PfDebug(CommandContext ctx)
    {
        var key = ctx.Arg(2);
        var entry = ctx.LookupWrite(key);
        if (entry is null)
        {
            ctx.Error("ERR The specified key does not exist");
            return;
        }
        var value = ReadHll(ctx, entry);
        if (value is null) return;
        entry.Encoding = ObjectEncoding.Raw;

        if (ctx.ArgIs(1, "GETREG"u8))
        {
            if (!ToDense(ctx, entry, key)) return;
            var registers = entry.StringValue[HyperLogLog.HeaderSize..];
            ctx.Reply.ArrayHeader(HyperLogLog.Registers);
            for (int i = 0; i < HyperLogLog.Registers; i++) ctx.Reply.Integer(HyperLogLog.DenseGet(registers, i));
        }
        else if (ctx.ArgIs(1, "DECODE"u8))
        {
            if (!HyperLogLog.IsSparse(value)) ctx.Error("ERR HLL encoding is not sparse");
            else ctx.Reply.Bulk(HyperLogLog.Decode(value));
        }
        else if (ctx.ArgIs(1, "ENCODING"u8))
        {
            ctx.Reply.SimpleString(HyperLogLog.IsSparse(value) ? "sparse"u8 : "dense"u8);
        }
        else if (ctx.ArgIs(1, "TODENSE"u8))
        {
            bool sparse = HyperLogLog.IsSparse(value);
            if (ToDense(ctx, entry, key)) ctx.Reply.Integer(sparse ? 1 : 0);
        }
        else ctx.Error($"ERR Unknown PFDEBUG subcommand '{ctx.ArgCString(1)}'");
    }

    /// <summary>Converts a sparse HLL to dense (a change that propagates); false after replying INVALIDOBJ.</summary>
    static bool ToDense(CommandContext ctx, KeyEntry entry, ReadOnlySpan<byte> key)
    {
        if (!HyperLogLog.IsSparse(entry.StringValue)) return true;
        var hll = new HyperLogLog(entry.StringArray());
        if (!hll.ToDense())
        {
            ctx.Error(HyperLogLog.InvalidObjectError);
            return false;
        }
        entry.Value = hll.ToArray();
        // Redis only counts the change as dirty, without signalling the key.
        ctx.Dirty++;
        return true;
    }

    static void PfSelfTest(CommandContext ctx)
    {
        var failure = HyperLogLog.SelfTest(ctx.Config.HllSparseMaxBytes);
        if (failure is null) ctx.Reply.Ok();
        else ctx.Error(failure);
    }
}
