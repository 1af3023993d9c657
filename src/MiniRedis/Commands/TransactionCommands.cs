using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis's multi.c).</summary>
public static unsafe class TransactionCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("multi", &Multi);
        t.Add("exec", &Exec);
        t.Add("discard", &Discard);
        t.Add("watch", &Watch);
        t.Add("unwatch", &Unwatch);
    }

    static void Multi(CommandContext ctx)
    {
        if (ctx.Client.InMulti)
        {
            ctx.Error("ERR MULTI calls can not be nested");
            return;
        }
        ctx.Client.InMulti = true;
        ctx.Reply.Ok();
    }

    static void Discard(CommandContext ctx)
    {
        if (!ctx.Client.InMulti)
        {
            ctx.Error("ERR DISCARD without MULTI");
            return;
        }
        ctx.Client.DiscardTransaction();
        ctx.Reply.Ok();
    }

    static void Exec(CommandContext ctx)
    {
        var client = ctx.Client;
        if (!client.InMulti)
        {
            ctx.Error("ERR EXEC without MULTI");
            return;
        }
        if (client.DirtyExec)
        {
            ctx.Error("EXECABORT Transaction discarded because of previous errors.");
            client.DiscardTransaction();
            return;
        }
        if (client.DirtyCas || WatchedKeyExpired(ctx))
        {
            ctx.Reply.NullArray();
            client.DiscardTransaction();
            return;
        }
        var exec = ctx.Command;
        var execArgs = ctx.Args;
        // As Redis: unwatch first (our own writes must not dirty us), stay in MULTI while running.
        client.UnwatchAll();
        ctx.Reply.ArrayHeader(client.Queued.Count);
        client.InExec = true;
        foreach (var (command, args) in client.Queued)
        {
            // As Redis: permissions are checked again, in case they changed since the command was queued.
            if (client.User is { AllowsEverything: false } user && ctx.Acl.Deny(client, user, command, args, "multi", ctx.Keyspace.NowMs) is { } denial)
                ctx.Error(Security.AclStore.ChangedSinceQueuedError(denial));
            else ctx.Executor.Call(command, args, client);
        }
        client.InExec = false;
        client.DiscardTransaction();
        // Restore EXEC's own view so the executor accounts it correctly.
        ctx.Command = exec;
        ctx.Args = execArgs;
        ctx.Failed = false;
        ctx.PropagationReplaced = true;
    }

    /// <summary>A watched key that was alive at WATCH and has expired since makes EXEC fail, as in Redis 7.0.</summary>
    static bool WatchedKeyExpired(CommandContext ctx)
    {
        foreach (var (db, key, expiredAtWatch) in ctx.Client.Watched)
        {
            if (!expiredAtWatch && db.Peek(key) is { } entry && ctx.Keyspace.IsExpired(entry)) return true;
        }
        return false;
    }

    static void Watch(CommandContext ctx)
    {
        var client = ctx.Client;
        if (client.InMulti)
        {
            ctx.Error("ERR WATCH inside MULTI is not allowed");
            return;
        }
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            var key = ctx.Arg(i);
            bool already = false;
            foreach (var w in client.Watched) already |= w.Db == ctx.Db && key.SequenceEqual(w.Key);
            if (already) continue;
            var copy = key.ToArray();
            bool expired = ctx.Db.Peek(key) is { } entry && ctx.Keyspace.IsExpired(entry);
            client.Watched.Add((ctx.Db, copy, expired));
            ctx.Db.Watch(copy, client);
        }
        ctx.Reply.Ok();
    }

    static void Unwatch(CommandContext ctx)
    {
        ctx.Client.UnwatchAll();
        ctx.Reply.Ok();
    }
}
