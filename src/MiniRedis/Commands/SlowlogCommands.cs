using MiniRedis.Data;
using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>SLOWLOG GET/LEN/RESET/HELP (Redis's slowlog.c); the log itself is Observability.SlowLog.</summary>
public static unsafe class SlowlogCommands
{
    const int DefaultCount = 10;
    const string CountError = "ERR count should be greater than or equal to -1";

    static readonly string[] HelpLines =
    [
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
    ];

    public static void Register(CommandTable t)
    {
        t.Add("slowlog|get", &Get);
        t.Add("slowlog|len", &Len);
        t.Add("slowlog|reset", &Reset);
        t.Add("slowlog|help", &Help);
    }

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "SLOWLOG", HelpLines);

    static void Len(CommandContext ctx) => ctx.Reply.Integer(ctx.Diagnostics.SlowLog.Count);

    static void Reset(CommandContext ctx)
    {
        ctx.Diagnostics.SlowLog.Reset();
        ctx.Reply.Ok();
    }

    /// <summary>SLOWLOG GET [count]: the newest entries first; -1 means all.</summary>
    static void Get(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ServerCommands.SubcommandSyntaxError(ctx);
            return;
        }
        var log = ctx.Diagnostics.SlowLog;
        long count = DefaultCount;
        if (ctx.ArgCount == 3)
        {
            if (!RedisNumbers.TryParseInt64(ctx.Arg(2), out count) || count < -1)
            {
                ctx.Error(CountError);
                return;
            }
            if (count == -1) count = log.Count;
        }
        var reply = ctx.Reply;
        reply.ArrayHeader(Math.Min(count, log.Count));
        foreach (var entry in log.Entries.Take((int)Math.Min(count, log.Count)))
        {
            reply.ArrayHeader(6);
            reply.Integer(entry.Id);
            reply.Integer(entry.UnixTime);
            reply.Integer(entry.Microseconds);
            reply.ArrayHeader(entry.Args.Length);
            foreach (var arg in entry.Args) reply.Bulk(arg);
            reply.Bulk(entry.ClientAddress);
            reply.Bulk(entry.ClientName);
        }
    }
}
