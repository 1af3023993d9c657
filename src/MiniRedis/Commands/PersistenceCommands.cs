using MiniRedis.Execution;
using MiniRedis.Persistence.Dataset;

namespace MiniRedis.Commands;

/// <summary>
/// Persistence commands (Redis's rdb.c and aof.c): SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF. A
/// background save and an AOF rewrite never run at once: the second one asked for is scheduled
/// and started by the cron when the first ends, and so is one asked for inside MULTI/EXEC.
/// </summary>
public static unsafe class PersistenceCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("save", &Save);
        t.Add("bgsave", &BgSave);
        t.Add("lastsave", &LastSave);
        t.Add("bgrewriteaof", &BgRewriteAof);
    }

    const string SaveInProgressError = "ERR Background save already in progress";

    static void Save(CommandContext ctx)
    {
        var rdb = ctx.Rdb;
        if (rdb.InProgress) ctx.Error(SaveInProgressError);
        else if (rdb.SaveCommand()) ctx.Reply.Ok();
        else ctx.Error("ERR");
    }

    /// <summary>BGSAVE [SCHEDULE].</summary>
    static void BgSave(CommandContext ctx)
    {
        bool schedule = false;
        if (ctx.ArgCount > 1)
        {
            if (ctx.ArgCount != 2 || !ctx.ArgIs(1, "SCHEDULE"u8))
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
            schedule = true;
        }
        if (ctx.Rdb.InProgress)
        {
            ctx.Error(SaveInProgressError);
        }
        else if (ctx.AofRewrite.InProgress || ctx.Client.InExec)
        {
            if (schedule || ctx.Client.InExec)
            {
                ctx.Rdb.Schedule();
                ctx.Reply.SimpleString("Background saving scheduled"u8);
            }
            else
            {
                ctx.Error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
            }
        }
        else if (!ctx.Rdb.StartBackgroundSave())
        {
            ctx.Error(DatasetGate.RefusedError);
        }
        else
        {
            ctx.Reply.SimpleString("Background saving started"u8);
        }
    }

    static void LastSave(CommandContext ctx) => ctx.Reply.Integer(ctx.Rdb.LastSaveTime);

    static void BgRewriteAof(CommandContext ctx)
    {
        if (ctx.AofRewrite.InProgress)
        {
            ctx.Error("ERR Background append only file rewriting already in progress");
        }
        else if (ctx.Rdb.InProgress || ctx.Client.InExec)
        {
            ctx.AofRewrite.Schedule();
            ctx.Reply.SimpleString("Background append only file rewriting scheduled"u8);
        }
        else if (ctx.AofRewrite.Start() is { } error)
        {
            ctx.Error(error);
        }
        else
        {
            ctx.Reply.SimpleString("Background append only file rewriting started"u8);
        }
    }
}
