using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>Whole-database commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB (Redis's db.c).</summary>
public static unsafe class DatabaseCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("dbsize", &DbSize);
        t.Add("flushdb", &FlushDb);
        t.Add("flushall", &FlushAll);
        t.Add("swapdb", &SwapDb);
    }

    static void DbSize(CommandContext ctx) => ctx.Reply.Integer(ctx.Db.Count);

    /// <summary>Redis's getFlushCommandFlags: only a lone ASYNC or SYNC is accepted. We always free synchronously.</summary>
    static bool CheckFlushArgs(CommandContext ctx)
    {
        if (ctx.ArgCount == 1 || (ctx.ArgCount == 2 && (ctx.ArgIs(1, "ASYNC"u8) || ctx.ArgIs(1, "SYNC"u8)))) return true;
        ctx.Error(CommandContext.SyntaxError);
        return false;
    }

    /// <summary>
    /// Logs the command as sent even when it removed nothing (Redis's forceCommandPropagation), so a
    /// replica or AOF replay that holds keys the master lost is still emptied.
    /// </summary>
    static void PropagateAsSent(CommandContext ctx)
    {
        var record = ctx.Propagate();
        for (int i = 0; i < ctx.ArgCount; i++) record.Arg(ctx.Arg(i));
    }

    static void FlushDb(CommandContext ctx)
    {
        if (!CheckFlushArgs(ctx)) return;
        ctx.Dirty += ctx.Db.Count;
        ctx.Db.Clear();
        ctx.Tracking.InvalidateAll();
        PropagateAsSent(ctx);
        ctx.Reply.Ok();
    }

    /// <summary>
    /// Redis 7.0's flushAllDataAndResetRDB: a running background save is abandoned (it would bring
    /// the old dataset back), and with save points configured the empty dataset is saved at once,
    /// which also restarts the change counter.
    /// </summary>
    static void FlushAll(CommandContext ctx)
    {
        if (!CheckFlushArgs(ctx)) return;
        var keyspace = ctx.Keyspace;
        for (int i = 0; i < keyspace.Count; i++)
        {
            ctx.Dirty += keyspace[i].Count;
            keyspace[i].Clear();
        }
        ctx.Tracking.InvalidateAll();
        ctx.Rdb.CancelBackgroundSave();
        if (ctx.Config.SaveRules.Count > 0) ctx.Rdb.Save();
        PropagateAsSent(ctx);
        ctx.Reply.Ok();
    }

    static void SwapDb(CommandContext ctx)
    {
        if (!KeyCommands.TryGetInt(ctx, 1, out int first, "ERR invalid first DB index")
            || !KeyCommands.TryGetInt(ctx, 2, out int second, "ERR invalid second DB index")) return;
        var keyspace = ctx.Keyspace;
        if (first < 0 || first >= keyspace.Count || second < 0 || second >= keyspace.Count)
        {
            ctx.Error(KeyCommands.DbIndexOutOfRangeError);
            return;
        }
        if (first != second)
        {
            keyspace[first].SwapContents(keyspace[second]);
            ctx.Blocked.SignalExistingKeys(keyspace[first]);
            ctx.Blocked.SignalExistingKeys(keyspace[second]);
        }
        ctx.Dirty++;
        ctx.Reply.Ok();
    }
}
