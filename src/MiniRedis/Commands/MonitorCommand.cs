using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>MONITOR (Redis's monitorCommand in replication.c); the feed itself is <see cref="MonitorFeed"/>.</summary>
public static unsafe class MonitorCommand
{
    public static void Register(CommandTable t) => t.Add("monitor", &Monitor);

    static void Monitor(CommandContext ctx)
    {
        // Redis's CLIENT_DENY_BLOCKING: a client inside EXEC expects one reply per command.
        if (ctx.Client.InExec)
        {
            ctx.Error("ERR MONITOR isn't allowed for DENY BLOCKING client");
            return;
        }
        // Already monitoring: nothing happens, not even a reply, as in Redis.
        if (ctx.Client.Monitor) return;
        ctx.Monitors.Add(ctx.Client);
        ctx.Reply.Ok();
    }
}
