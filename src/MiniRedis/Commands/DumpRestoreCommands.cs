using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;
using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Commands;

/// <summary>
/// DUMP and RESTORE (Redis's cluster.c): a value travels as Redis's DUMP payload, its RDB object
/// encoding followed by the RDB version and a CRC64, so payloads cross with real Redis both ways.
/// The payload codec is the RDB one (<see cref="RdbWriter.DumpPayload"/>, <see cref="RdbReader.ReadDumpPayload"/>).
/// </summary>
public static unsafe class DumpRestoreCommands
{
    internal const string BusyKeyError = "BUSYKEY Target key name already exists.";

    public static void Register(CommandTable t)
    {
        t.Add("dump", &Dump);
        t.Add("restore", &Restore);
        t.Add("restore-asking", &Restore);
    }

    static void Dump(CommandContext ctx)
    {
        if (ctx.LookupRead(ctx.Arg(1)) is not { } entry)
        {
            ctx.Reply.NullBulk();
            return;
        }
        ctx.Reply.Bulk(RdbWriter.DumpPayload(entry, ctx.Config.RdbCompression));
    }

    /// <summary>RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], checked in Redis's order.</summary>
    static void Restore(CommandContext ctx)
    {
        bool replace = false, absoluteTtl = false;
        long idleSeconds = -1, frequency = -1;
        for (int i = 4; i < ctx.ArgCount; i++)
        {
            bool hasValue = i + 1 < ctx.ArgCount;
            if (ctx.ArgIs(i, "REPLACE"u8)) replace = true;
            else if (ctx.ArgIs(i, "ABSTTL"u8)) absoluteTtl = true;
            else if (ctx.ArgIs(i, "IDLETIME"u8) && hasValue && frequency == -1)
            {
                if (!ctx.TryGetLong(++i, out idleSeconds)) return;
                if (idleSeconds < 0)
                {
                    ctx.Error("ERR Invalid IDLETIME value, must be >= 0");
                    return;
                }
            }
            else if (ctx.ArgIs(i, "FREQ"u8) && hasValue && idleSeconds == -1)
            {
                if (!ctx.TryGetLong(++i, out frequency)) return;
                if (frequency is < 0 or > 255)
                {
                    ctx.Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
                    return;
                }
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        var key = ctx.Arg(1);
        var db = ctx.Db;
        var existing = ctx.LookupWrite(key);
        if (!replace && existing is not null)
        {
            ctx.Error(BusyKeyError);
            return;
        }
        if (!ctx.TryGetLong(2, out long ttl)) return;
        if (ttl < 0)
        {
            ctx.Error("ERR Invalid TTL value, must be >= 0");
            return;
        }
        if (RdbReader.ReadDumpPayload(ctx.Arg(3), ctx.Config, out var restored) is { } error)
        {
            ctx.Error("ERR " + error);
            return;
        }
        if (existing is not null) db.Delete(existing);
        if (ttl != 0 && !absoluteTtl) ttl += ctx.NowMs;
        if (ttl != 0 && ttl <= ctx.NowMs)
        {
            // Already expired: the value is not added, and a replaced key is simply deleted.
            if (existing is null) ctx.Reply.Ok();
            else DeletedInstead(ctx, key);
            return;
        }
        var entry = db.Add(key, restored.Value, restored.Type, restored.Encoding);
        if (ttl != 0)
        {
            db.SetExpire(entry, ttl);
            if (!absoluteTtl) PropagateAbsolute(ctx, ttl);
        }
        ctx.Keyspace.Access.SetIdleOrFrequency(entry, frequency, idleSeconds, ctx.NowMs);
        ctx.KeyModified(db, key);
        ctx.Notify(NotifyClass.Generic, "restore"u8, key);
        ctx.Reply.Ok();
    }

    /// <summary>A replaced key whose restored TTL has passed: logged as DEL (UNLINK under lazyfree-lazy-server-del).</summary>
    static void DeletedInstead(CommandContext ctx, ReadOnlySpan<byte> key)
    {
        ctx.Propagate().Arg(ctx.Config.LazyfreeLazyServerDel ? "UNLINK"u8 : "DEL"u8).Arg(key);
        ctx.KeyModified(ctx.Db, key);
        ctx.Notify(NotifyClass.Generic, "del"u8, key);
        ctx.Reply.Ok();
    }

    /// <summary>A relative TTL is logged as the absolute time it gave, with ABSTTL appended, so a replay later restores the same expiry.</summary>
    static void PropagateAbsolute(CommandContext ctx, long expireAtMs)
    {
        var record = ctx.Propagate();
        for (int i = 0; i < ctx.ArgCount; i++)
        {
            if (i == 2) record.Arg(expireAtMs);
            else record.Arg(ctx.Arg(i));
        }
        record.Arg("ABSTTL"u8);
    }
}
