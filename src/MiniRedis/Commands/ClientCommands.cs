using System.Text;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>CLIENT subcommands (Redis's networking.c).</summary>
public static unsafe class ClientCommands
{
    public const string InvalidNameError = "ERR Client names cannot contain spaces, newlines or special characters.";

    static readonly string[] HelpLines =
    [
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
    ];

    /// <summary>Redis's client types.</summary>
    enum ClientType { Normal, Replica, PubSub, Master }

    /// <summary>Redis's getClientType: a replica, else a subscribed client is a pubsub one.</summary>
    static ClientType TypeOf(ClientSession client) =>
        client.IsReplica ? ClientType.Replica : client.IsSubscribed ? ClientType.PubSub : ClientType.Normal;

    public static void Register(CommandTable t)
    {
        t.Add("client|id", &Id);
        t.Add("client|setname", &SetName);
        t.Add("client|getname", &GetName);
        t.Add("client|list", &List);
        t.Add("client|info", &Info);
        t.Add("client|kill", &Kill);
        t.Add("client|no-evict", &NoEvict);
        t.Add("client|reply", &Reply);
        t.Add("client|pause", &Pause);
        t.Add("client|unpause", &Unpause);
        t.Add("client|unblock", &Unblock);
        t.Add("client|help", &Help);
    }

    /// <summary>Redis allows names of printable ASCII without spaces (an empty name clears it).</summary>
    public static bool IsValidName(string name)
    {
        foreach (char c in name)
        {
            if (c < '!' || c > '~') return false;
        }
        return true;
    }

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "CLIENT", HelpLines);

    static void Id(CommandContext ctx) => ctx.Reply.Integer(ctx.Client.Id);

    static void SetName(CommandContext ctx)
    {
        var name = ctx.ArgString(2);
        if (!IsValidName(name))
        {
            ctx.Error(InvalidNameError);
            return;
        }
        ctx.Client.Name = name.Length == 0 ? null : name;
        ctx.Reply.Ok();
    }

    static void GetName(CommandContext ctx)
    {
        if (ctx.Client.Name is null) ctx.Reply.NullBulk();
        else ctx.Reply.Bulk(ctx.Client.Name);
    }

    static void NoEvict(CommandContext ctx)
    {
        if (ctx.ArgIs(2, "ON"u8)) ctx.Client.NoEvict = true;
        else if (ctx.ArgIs(2, "OFF"u8)) ctx.Client.NoEvict = false;
        else
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        ctx.Reply.Ok();
    }

    /// <summary>CLIENT REPLY ON|OFF|SKIP; OFF and SKIP answer nothing (the executor drops the replies).</summary>
    static void Reply(CommandContext ctx)
    {
        var client = ctx.Client;
        if (ctx.ArgIs(2, "ON"u8))
        {
            client.ReplyOff = client.ReplySkip = false;
            ctx.Reply.Ok();
        }
        else if (ctx.ArgIs(2, "OFF"u8)) client.ReplyOff = true;
        else if (ctx.ArgIs(2, "SKIP"u8))
        {
            if (!client.ReplyOff) client.ReplySkipNext = true;
        }
        else ctx.Error(CommandContext.SyntaxError);
    }

    /// <summary>The error Redis's clientCommand answers for a subcommand with the wrong number of arguments (named as the client typed it).</summary>
    static void SubcommandSyntaxError(CommandContext ctx)
        => ctx.Error($"ERR unknown subcommand or wrong number of arguments for '{ctx.ArgCString(1)}'. Try CLIENT HELP.");

    /// <summary>CLIENT PAUSE timeout [WRITE|ALL]: the mode is checked before the timeout, as in Redis.</summary>
    static void Pause(CommandContext ctx)
    {
        if (ctx.ArgCount > 4)
        {
            SubcommandSyntaxError(ctx);
            return;
        }
        var mode = PauseMode.All;
        if (ctx.ArgCount == 4)
        {
            if (ctx.ArgIs(3, "WRITE"u8)) mode = PauseMode.Write;
            else if (!ctx.ArgIs(3, "ALL"u8))
            {
                ctx.Error("ERR CLIENT PAUSE mode must be WRITE or ALL");
                return;
            }
        }
        if (!TryGetMillisecondsTimeout(ctx, 2, out long endMs)) return;
        ctx.Pause.Pause(mode, endMs);
        ctx.Reply.Ok();
    }

    /// <summary>Redis's getTimeoutFromObjectOrReply in milliseconds: an absolute deadline (unix ms), 0 for a timeout of 0.</summary>
    static bool TryGetMillisecondsTimeout(CommandContext ctx, int index, out long endMs)
    {
        endMs = 0;
        if (!ctx.TryGetLong(index, out long timeout, "ERR timeout is not an integer or out of range")) return false;
        if (timeout < 0)
        {
            ctx.Error("ERR timeout is negative");
            return false;
        }
        // Redis 7.0 adds the clock without a range check: a huge timeout wraps to a deadline already past.
        if (timeout > 0) endMs = unchecked(ctx.NowMs + timeout);
        return true;
    }

    static void Unpause(CommandContext ctx)
    {
        ctx.Pause.Unpause();
        ctx.Reply.Ok();
    }

    /// <summary>CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 when a client waiting in a blocking command was released.</summary>
    static void Unblock(CommandContext ctx)
    {
        if (ctx.ArgCount > 4)
        {
            SubcommandSyntaxError(ctx);
            return;
        }
        bool withError = false;
        if (ctx.ArgCount == 4)
        {
            if (ctx.ArgIs(3, "ERROR"u8)) withError = true;
            else if (!ctx.ArgIs(3, "TIMEOUT"u8))
            {
                ctx.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
                return;
            }
        }
        if (!ctx.TryGetLong(2, out long id)) return;
        bool released = FindClient(ctx, id) is { } target && ctx.Executor.UnblockClient(target, withError);
        ctx.Reply.Integer(released ? 1 : 0);
    }

    static void Info(CommandContext ctx)
    {
        var text = new StringBuilder();
        AppendClientLine(ctx, ctx.Client, text);
        ctx.Reply.Verbatim(text.ToString());
    }

    static void List(CommandContext ctx)
    {
        var text = new StringBuilder();
        if (ctx.ArgCount == 4 && ctx.ArgIs(2, "TYPE"u8))
        {
            if (ParseType(ctx, 3) is not { } type) return;
            foreach (var client in ClientsInOrder(ctx))
            {
                if (type == TypeOf(client)) AppendClientLine(ctx, client, text);
            }
        }
        else if (ctx.ArgCount > 3 && ctx.ArgIs(2, "ID"u8))
        {
            var ids = new List<long>();
            for (int i = 3; i < ctx.ArgCount; i++)
            {
                if (!ctx.TryGetLong(i, out long id, "ERR Invalid client ID")) return;
                ids.Add(id);
            }
            foreach (var id in ids)
            {
                if (FindClient(ctx, id) is { } client) AppendClientLine(ctx, client, text);
            }
        }
        else if (ctx.ArgCount != 2)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        else
        {
            foreach (var client in ClientsInOrder(ctx)) AppendClientLine(ctx, client, text);
        }
        ctx.Reply.Verbatim(text.ToString());
    }

    static IEnumerable<ClientSession> ClientsInOrder(CommandContext ctx) => ctx.Clients.OrderBy(c => c.Id);

    static ClientSession? FindClient(CommandContext ctx, long id) => ctx.Clients.FirstOrDefault(c => c.Id == id);

    static ClientType? ParseType(CommandContext ctx, int index)
    {
        ClientType? type = ctx.ArgString(index).ToLowerInvariant() switch
        {
            "normal" => ClientType.Normal,
            "slave" or "replica" => ClientType.Replica,
            "pubsub" => ClientType.PubSub,
            "master" => ClientType.Master,
            _ => null,
        };
        if (type is null) ctx.Error($"ERR Unknown client type '{ctx.ArgCString(index)}'");
        return type;
    }

    /// <summary>One line of CLIENT LIST for a client of the list: the caller's own line counts its running command's arguments.</summary>
    static void AppendClientLine(CommandContext ctx, ClientSession client, StringBuilder text)
        => ClientInfo.AppendLine(ctx.NowMs, client, text, client == ctx.Client ? ClientInfo.ArgvBytes(ctx.Args) : 0);

    /// <summary>CLIENT KILL addr (old form: OK or an error) or CLIENT KILL filters... (new form: how many were killed).</summary>
    static void Kill(CommandContext ctx)
    {
        long id = 0;
        ClientType? type = null;
        string? addr = null, laddr = null;
        Security.AclUser? user = null;
        bool skipMe = true;
        if (ctx.ArgCount == 3)
        {
            addr = ctx.ArgString(2);
            skipMe = false;
        }
        else
        {
            for (int i = 2; i < ctx.ArgCount; i += 2)
            {
                bool hasValue = i + 1 < ctx.ArgCount;
                if (hasValue && ctx.ArgIs(i, "ID"u8))
                {
                    if (!RedisNumbers.TryParseInt64(ctx.Arg(i + 1), out id) || id < 1)
                    {
                        ctx.Error("ERR client-id should be greater than 0");
                        return;
                    }
                }
                else if (hasValue && ctx.ArgIs(i, "TYPE"u8))
                {
                    type = ParseType(ctx, i + 1);
                    if (type is null) return;
                }
                else if (hasValue && ctx.ArgIs(i, "ADDR"u8)) addr = ctx.ArgString(i + 1);
                else if (hasValue && ctx.ArgIs(i, "LADDR"u8)) laddr = ctx.ArgString(i + 1);
                else if (hasValue && ctx.ArgIs(i, "USER"u8))
                {
                    user = ctx.Acl.Find(ctx.ArgString(i + 1));
                    if (user is null)
                    {
                        ctx.Error($"ERR No such user '{ctx.ArgString(i + 1)}'");
                        return;
                    }
                }
                else if (hasValue && ctx.ArgIs(i, "SKIPME"u8))
                {
                    if (ctx.ArgIs(i + 1, "YES"u8)) skipMe = true;
                    else if (ctx.ArgIs(i + 1, "NO"u8)) skipMe = false;
                    else
                    {
                        ctx.Error(CommandContext.SyntaxError);
                        return;
                    }
                }
                else
                {
                    ctx.Error(CommandContext.SyntaxError);
                    return;
                }
            }
        }

        int killed = 0;
        foreach (var client in ClientsInOrder(ctx).ToList())
        {
            if (addr is not null && client.Connection?.RemoteAddress != addr) continue;
            if (laddr is not null && client.Connection?.LocalAddress != laddr) continue;
            if (type is not null && type != TypeOf(client)) continue;
            if (id != 0 && client.Id != id) continue;
            if (user is not null && client.User != user) continue;
            if (client == ctx.Client && skipMe) continue;
            killed++;
            // The caller itself still gets this reply, then its connection closes.
            if (client == ctx.Client) client.CloseAfterReply = true;
            else
            {
                client.Connection?.Close();
                ctx.Disconnect(client);
            }
        }

        if (ctx.ArgCount != 3) ctx.Reply.Integer(killed);
        else if (killed == 0) ctx.Error("ERR No such client");
        else ctx.Reply.Ok();
    }
}
