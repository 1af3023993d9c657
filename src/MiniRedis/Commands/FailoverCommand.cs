using MiniRedis.Execution;
using MiniRedis.Replication;

namespace MiniRedis.Commands;

/// <summary>
/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms] (Redis 7.0's failoverCommand): the arguments
/// in Redis's order of checks; the failover itself is <see cref="Failover"/>.
/// </summary>
public static unsafe class FailoverCommand
{
    public static void Register(CommandTable t) => t.Add("failover", &Run);

    static void Run(CommandContext ctx)
    {
        var failover = ctx.Replication.Failover;
        if (ctx.ArgCount == 2 && ctx.ArgIs(1, "ABORT"u8))
        {
            if (failover.State == FailoverState.None)
            {
                ctx.Error("ERR No failover in progress.");
                return;
            }
            failover.Abort("Failover manually aborted");
            ctx.Reply.Ok();
            return;
        }
        long timeoutMs = 0;
        long port = 0;
        string? host = null;
        bool force = false;
        for (int j = 1; j < ctx.ArgCount; j++)
        {
            // Each option once: a repeated one is a syntax error, as in Redis.
            if (ctx.ArgIs(j, "TIMEOUT"u8) && j + 1 < ctx.ArgCount && timeoutMs == 0)
            {
                if (!ctx.TryGetLong(j + 1, out timeoutMs)) return;
                if (timeoutMs <= 0)
                {
                    ctx.Error("ERR FAILOVER timeout must be greater than 0");
                    return;
                }
                j++;
            }
            else if (ctx.ArgIs(j, "TO"u8) && j + 2 < ctx.ArgCount && host is null)
            {
                if (!ctx.TryGetLong(j + 2, out port)) return;
                host = ctx.ArgString(j + 1);
                j += 2;
            }
            else if (ctx.ArgIs(j, "FORCE"u8) && !force) force = true;
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        if (failover.Start(ctx.Pause, host, (int)port, timeoutMs, force) is { } error)
        {
            ctx.Error(error);
            return;
        }
        ctx.Reply.Ok();
    }
}
