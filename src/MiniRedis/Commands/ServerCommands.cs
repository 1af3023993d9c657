using Microsoft.Extensions.Logging;
using MiniRedis.Execution;
using MiniRedis.Persistence.Dataset;

namespace MiniRedis.Commands;

/// <summary>Server commands (Redis's server.c): TIME, SHUTDOWN, and the families registered from here (COMMAND, INFO, DEBUG, CONFIG).</summary>
public static unsafe class ServerCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("time", &Time);
        t.Add("shutdown", &Shutdown);
        CommandCommands.Register(t);
        InfoCommand.Register(t);
        DebugCommands.Register(t);
        ConfigCommands.Register(t);
        MemoryCommands.Register(t);
    }

    /// <summary>Redis's addReplyHelp: a usage line, the subcommands' lines, then HELP itself, as status replies.</summary>
    internal static void ReplyHelp(CommandContext ctx, string command, string[] lines)
    {
        var reply = ctx.Reply;
        reply.ArrayHeader(lines.Length + 3);
        reply.SimpleString($"{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        foreach (var line in lines) reply.SimpleString(line);
        reply.SimpleString("HELP"u8);
        reply.SimpleString("    Prints this help."u8);
    }

    /// <summary>Redis's addReplySubcommandSyntaxError, for commands that parse their own subcommands.</summary>
    internal static void SubcommandSyntaxError(CommandContext ctx)
    {
        var sub = ctx.ArgString(1);
        if (sub.Length > 128) sub = sub[..128];
        ctx.Error($"ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {(ctx.Command.Parent ?? ctx.Command).Name.ToUpperInvariant()} HELP.");
    }

    static void Time(CommandContext ctx)
    {
        long micros = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        ctx.Reply.ArrayHeader(2);
        ctx.Reply.BulkInteger(micros / 1_000_000);
        ctx.Reply.BulkInteger(micros % 1_000_000);
    }

    /// <summary>
    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] (Redis's prepareForShutdown/finishShutdown): with
    /// save points configured, or SAVE, the dataset is saved first, and a failed save refuses to
    /// shut down unless FORCE. On success there is no reply; the process stops.
    /// </summary>
    static void Shutdown(CommandContext ctx)
    {
        bool save = false, noSave = false, now = false, force = false, abort = false;
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "NOSAVE"u8)) noSave = true;
            else if (ctx.ArgIs(i, "SAVE"u8)) save = true;
            else if (ctx.ArgIs(i, "NOW"u8)) now = true;
            else if (ctx.ArgIs(i, "FORCE"u8)) force = true;
            else if (ctx.ArgIs(i, "ABORT"u8)) abort = true;
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        if ((abort && (save || noSave || now || force)) || (save && noSave))
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        // Redis's shutdownCommand: inside a busy script only NOSAVE goes through.
        if (!noSave && ctx.BusyScript.TimedOut)
        {
            ctx.Error(ctx.BusyScript.BusyError);
            return;
        }
        if (abort)
        {
            // Shutting down never waits (no replicas to catch up), so nothing can be in progress.
            ctx.Error("ERR No shutdown in progress.");
            return;
        }
        var logger = ctx.Logger;
        logger.LogWarning("User requested shutdown...");
        bool saved = false;
        // Like Redis during loading: a dataset that is not the complete one is not saved, and the
        // shutdown goes on as NOSAVE.
        if ((save || (!noSave && ctx.Config.SaveRules.Count > 0)) && DatasetGate.Allows(ctx.Persistence.Host, "SHUTDOWN's save"))
        {
            saved = ctx.Rdb.SaveForShutdown();
            if (!saved && force) logger.LogWarning("Error trying to save the DB. Exit anyway.");
            else if (!saved)
            {
                logger.LogWarning("Error trying to save the DB, can't exit.");
                logger.LogWarning("Errors trying to shut down the server. Check the logs for more information.");
                ctx.Error("ERR Errors trying to SHUTDOWN. Check logs.");
                return;
            }
        }
        // The stop that follows saves again only what changed after this save, or nothing.
        if (!saved) ctx.Rdb.SkipShutdownSave();
        ctx.Client.CloseAfterReply = true;
        ctx.Server.RequestShutdown();
    }
}
