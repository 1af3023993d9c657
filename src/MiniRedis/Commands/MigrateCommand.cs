using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Networking;
using MiniRedis.Notifications;
using MiniRedis.Persistence.Aof;
using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Commands;

/// <summary>
/// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS key...]
/// (Redis's migrateCommand): each key goes to the target as RESTORE with its remaining TTL and DUMP
/// payload, after AUTH and SELECT, in one write; keys the target acknowledged are then deleted here
/// (unless COPY) and logged as one DEL. Like Redis's, the command blocks while it talks to the target
/// (bounded by the timeout): the executor waits for it, so other clients wait too.
/// </summary>
public static unsafe class MigrateCommand
{
    public static void Register(CommandTable t) => t.Add("migrate", &Migrate);

    static void Migrate(CommandContext ctx)
    {
        bool copy = false, replace = false;
        byte[]? username = null, password = null;
        int firstKey = 3, keyCount = 1;
        for (int i = 6; i < ctx.ArgCount; i++)
        {
            int more = ctx.ArgCount - 1 - i;
            if (ctx.ArgIs(i, "COPY"u8)) copy = true;
            else if (ctx.ArgIs(i, "REPLACE"u8)) replace = true;
            else if (ctx.ArgIs(i, "AUTH"u8) && more >= 1)
            {
                password = ctx.Arg(++i).ToArray();
                ctx.RedactArg(i);
            }
            else if (ctx.ArgIs(i, "AUTH2"u8) && more >= 2)
            {
                username = ctx.Arg(++i).ToArray();
                ctx.RedactArg(i);
                password = ctx.Arg(++i).ToArray();
                ctx.RedactArg(i);
            }
            else if (ctx.ArgIs(i, "KEYS"u8))
            {
                if (ctx.Arg(3).Length != 0)
                {
                    ctx.Error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                    return;
                }
                firstKey = i + 1;
                keyCount = ctx.ArgCount - i - 1;
                break;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        if (!ctx.TryGetLong(5, out long timeout) || !ctx.TryGetLong(4, out long db)) return;
        if (timeout <= 0) timeout = 1000;

        var keys = new List<(byte[] Key, KeyEntry Entry)>();
        for (int i = firstKey; i < firstKey + keyCount; i++)
        {
            if (ctx.LookupRead(ctx.Arg(i)) is { } entry) keys.Add((ctx.Arg(i).ToArray(), entry));
        }
        if (keys.Count == 0)
        {
            ctx.Reply.SimpleString("NOKEY"u8);
            return;
        }

        // Redis reads the port with atoi: anything else is port 0, whose connect fails.
        int port = RedisNumbers.CAtoi(ctx.Arg(2));
        using var link = MigrationLink.Connect(ctx.ArgString(1), port, (int)Math.Min(timeout, int.MaxValue), out bool connectFailed);
        if (link is null)
        {
            ctx.Error(connectFailed ? "IOERR error or timeout connecting to the client" : "IOERR error or timeout writing to target instance");
            return;
        }
        Transfer(ctx, link, keys, db, copy, replace, username, password);
    }

    static void Transfer(CommandContext ctx, MigrationLink link, List<(byte[] Key, KeyEntry Entry)> keys, long db, bool copy, bool replace,
        byte[]? username, byte[]? password)
    {
        // The commands are encoded as the AOF encodes them: RESP arrays of bulk strings.
        var commands = new AofEncoder();
        if (password is not null)
        {
            commands.BeginCommand(username is null ? 2 : 3);
            commands.Bulk("AUTH"u8);
            if (username is not null) commands.Bulk(username);
            commands.Bulk(password);
        }
        commands.BeginCommand(2);
        commands.Bulk("SELECT"u8);
        commands.Bulk(db);
        var sent = new List<byte[]>();
        foreach (var (key, entry) in keys)
        {
            long ttl = 0;
            if (entry.ExpireAt != 0)
            {
                ttl = entry.ExpireAt - ctx.NowMs;
                if (ttl < 0) continue;
                ttl = Math.Max(ttl, 1);
            }
            commands.BeginCommand(replace ? 5 : 4);
            commands.Bulk("RESTORE"u8);
            commands.Bulk(key);
            commands.Bulk(ttl);
            commands.Bulk(RdbWriter.DumpPayload(entry, ctx.Config.RdbCompression));
            if (replace) commands.Bulk("REPLACE"u8);
            sent.Add(key);
        }
        if (!link.TrySend(commands.Written))
        {
            ctx.Error("IOERR error or timeout writing to target instance");
            return;
        }
        string? authReply = password is null ? "+OK" : link.ReadLine();
        string? selectReply = authReply is null ? null : link.ReadLine();
        if (authReply is null || selectReply is null)
        {
            ctx.Error("IOERR error or timeout reading to target instance");
            return;
        }
        string? targetError = null;
        var deleted = new List<byte[]>();
        bool socketError = false;
        foreach (var key in sent)
        {
            if (link.ReadLine() is not { } reply)
            {
                socketError = true;
                break;
            }
            // A failed AUTH or SELECT fails every RESTORE after it; the first error is the one reported.
            string? error = authReply.StartsWith('-') ? authReply : selectReply.StartsWith('-') ? selectReply : reply.StartsWith('-') ? reply : null;
            if (error is not null)
            {
                targetError ??= error;
                continue;
            }
            if (copy || ctx.Db.Lookup(key) is not { } entry) continue;
            ctx.Db.Delete(entry);
            ctx.KeyModified(ctx.Db, key);
            ctx.Notify(NotifyClass.Generic, "del"u8, key);
            deleted.Add(key);
        }
        if (deleted.Count > 0)
        {
            var record = ctx.Propagate().Arg("DEL"u8);
            foreach (var key in deleted) record.Arg(key);
        }
        if (targetError is not null) ctx.Error("ERR Target instance replied with error: " + targetError[1..]);
        else if (socketError) ctx.Error("IOERR error or timeout reading to target instance");
        else ctx.Reply.Ok();
    }
}
