using System.Text;
using MiniRedis.Config;
using MiniRedis.Execution;
using MiniRedis.Security;

namespace MiniRedis.Commands;

/// <summary>Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT.</summary>
public static unsafe class ConnectionCommands
{
    const string WrongPassError = "WRONGPASS invalid username-password pair or user is disabled.";

    public static void Register(CommandTable t)
    {
        t.Add("ping", &Ping);
        t.Add("echo", &Echo);
        t.Add("quit", &Quit);
        t.Add("reset", &Reset);
        t.Add("hello", &Hello);
        t.Add("auth", &Auth);
        t.Add("select", &Select);
    }

    static void Ping(CommandContext ctx)
    {
        if (ctx.ArgCount > 2)
        {
            ctx.Error($"ERR wrong number of arguments for '{ctx.Command.Name}' command");
            return;
        }
        if (ctx.Client.IsSubscribed && !ctx.Reply.Resp3)
        {
            // A RESP2 subscriber reads arrays only: Redis answers ["pong", argument or ""].
            ctx.Reply.ArrayHeader(2);
            ctx.Reply.Bulk("pong"u8);
            ctx.Reply.Bulk(ctx.ArgCount == 1 ? default : ctx.Arg(1));
            return;
        }
        if (ctx.ArgCount == 1) ctx.Reply.SimpleString("PONG"u8);
        else ctx.Reply.Bulk(ctx.Arg(1));
    }

    static void Echo(CommandContext ctx) => ctx.Reply.Bulk(ctx.Arg(1));

    static void Quit(CommandContext ctx)
    {
        ctx.Reply.Ok();
        ctx.Client.CloseAfterReply = true;
    }

    static void Reset(CommandContext ctx)
    {
        var client = ctx.Client;
        client.DiscardTransaction();
        ctx.PubSub.UnsubscribeAll(client);
        ctx.Tracking.Disable(client);
        client.Db = ctx.Keyspace[0];
        client.Reply.Resp3 = false;
        client.Name = null;
        client.NoEvict = client.NoTouch = false;
        client.ReplyOff = client.ReplySkipNext = false;
        ctx.Monitors.Remove(client);
        client.User = ctx.Acl.Default;
        client.Authenticated = ctx.DefaultUserNeedsNoPassword;
        ctx.Reply.SimpleString("RESET"u8);
    }

    static void Auth(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        ctx.RedactArg(1);
        if (ctx.ArgCount == 3) ctx.RedactArg(2);
        if (ctx.ArgCount == 2 && ctx.Acl.Default.NoPass)
        {
            ctx.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            return;
        }
        var user = ctx.ArgCount == 3 ? ctx.Arg(1) : "default"u8;
        if (!Authenticate(ctx, user, ctx.Arg(ctx.ArgCount - 1))) return;
        ctx.Reply.Ok();
    }

    /// <summary>Redis's ACLAuthenticateUser: on success the client runs as the user; otherwise WRONGPASS (and an ACL LOG entry).</summary>
    static bool Authenticate(CommandContext ctx, ReadOnlySpan<byte> username, ReadOnlySpan<byte> password)
    {
        var name = Encoding.Latin1.GetString(username);
        if (ctx.Acl.Authenticate(name, password) is not { } user)
        {
            ctx.Acl.LogDenial(ctx.Client, AclDenial.Auth, ctx.Client.InMulti ? "multi" : "toplevel", ctx.Arg(0).ToArray(), name, ctx.Keyspace.NowMs);
            ctx.Error(WrongPassError);
            return false;
        }
        ctx.Client.Authenticated = true;
        ctx.Client.User = user;
        return true;
    }

    static void Hello(CommandContext ctx)
    {
        long version = ctx.Client.Protocol;
        int next = 1;
        if (ctx.ArgCount >= 2)
        {
            if (!ctx.TryGetLong(1, out version, "ERR Protocol version is not an integer or out of range")) return;
            next = 2;
            if (version is < 2 or > 3)
            {
                ctx.Error("NOPROTO unsupported protocol version");
                return;
            }
        }
        string? name = null;
        for (int i = next; i < ctx.ArgCount; i++)
        {
            int remaining = ctx.ArgCount - i - 1;
            if (ctx.ArgIs(i, "AUTH"u8) && remaining >= 2)
            {
                ctx.RedactArg(i + 1);
                ctx.RedactArg(i + 2);
                if (!Authenticate(ctx, ctx.Arg(i + 1), ctx.Arg(i + 2))) return;
                i += 2;
            }
            else if (ctx.ArgIs(i, "SETNAME"u8) && remaining >= 1)
            {
                name = ctx.ArgString(i + 1);
                if (!ClientCommands.IsValidName(name))
                {
                    ctx.Error(ClientCommands.InvalidNameError);
                    return;
                }
                i++;
            }
            else
            {
                ctx.Error($"ERR Syntax error in HELLO option '{ctx.ArgString(i)}'");
                return;
            }
        }
        if (ctx.RequiresAuth(ctx.Client))
        {
            ctx.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        if (name is not null) ctx.Client.Name = name.Length == 0 ? null : name;
        ctx.Client.Reply.Resp3 = version == 3;

        var reply = ctx.Reply;
        reply.MapHeader(7);
        reply.Bulk("server"u8);
        reply.Bulk("redis"u8);
        reply.Bulk("version"u8);
        reply.Bulk(ServerConfig.RedisVersion);
        reply.Bulk("proto"u8);
        reply.Integer(version);
        reply.Bulk("id"u8);
        reply.Integer(ctx.Client.Id);
        reply.Bulk("mode"u8);
        reply.Bulk("standalone"u8);
        reply.Bulk("role"u8);
        reply.Bulk("master"u8);
        reply.Bulk("modules"u8);
        reply.ArrayHeader(0);
    }

    static void Select(CommandContext ctx)
    {
        if (!KeyCommands.TryGetDatabase(ctx, 1, out var db)) return;
        ctx.Client.Db = db;
        ctx.Reply.Ok();
    }
}
