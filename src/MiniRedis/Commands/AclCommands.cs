using System.Security.Cryptography;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Protocol;
using MiniRedis.Security;

namespace MiniRedis.Commands;

/// <summary>ACL and its subcommands (Redis's acl.c aclCommand), over <see cref="AclStore"/>.</summary>
public static unsafe class AclCommands
{
    static readonly string[] HelpLines =
    [
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
    ];

    const string NoAclFileError = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";
    const int GenpassMaxBits = 4096;

    public static void Register(CommandTable t)
    {
        t.Add("acl|setuser", &SetUser);
        t.Add("acl|deluser", &DelUser);
        t.Add("acl|getuser", &GetUser);
        t.Add("acl|list", &List);
        t.Add("acl|users", &Users);
        t.Add("acl|whoami", &WhoAmI);
        t.Add("acl|load", &Load);
        t.Add("acl|save", &Save);
        t.Add("acl|cat", &Cat);
        t.Add("acl|genpass", &GenPass);
        t.Add("acl|log", &Log);
        t.Add("acl|dryrun", &DryRun);
        t.Add("acl|help", &Help);
    }

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "ACL", HelpLines);

    static void SetUser(CommandContext ctx)
    {
        // As Redis: the rules may hold passwords, so SLOWLOG and MONITOR never show them.
        for (int i = 2; i < ctx.ArgCount; i++) ctx.RedactArg(i);
        if (AclSelector.HasSpaces(ctx.Arg(2)))
        {
            ctx.Error("ERR Usernames can't contain spaces or null characters");
            return;
        }
        var rules = new List<byte[]>();
        for (int i = 3; i < ctx.ArgCount; i++) rules.Add(ctx.Arg(i).ToArray());
        var name = UserName(ctx, 2);
        if (ctx.Acl.SetUser(name, rules, out var channelsLeft) is { } error)
        {
            ctx.Error("ERR " + error.Replace('\r', ' ').Replace('\n', ' '));
            return;
        }
        if (channelsLeft is not null) DisconnectSubscribersLosingChannels(ctx, ctx.Acl.Find(name)!, channelsLeft);
        ctx.Reply.Ok();
    }

    /// <summary>
    /// Redis's ACLKillPubsubClientsIfNeeded: the user's clients subscribed to a channel or pattern
    /// <paramref name="channelsLeft"/> refuses are disconnected.
    /// </summary>
    static void DisconnectSubscribersLosingChannels(CommandContext ctx, AclUser user, AclSelector channelsLeft)
    {
        foreach (var client in ctx.Clients.ToList())
        {
            if (client.User != user || client.Subscriptions is not { } subs) continue;
            bool kill = subs.Patterns.Any(p => !channelsLeft.AllowsChannel(p, isPattern: true))
                || subs.Channels.Any(c => !channelsLeft.AllowsChannel(c, isPattern: false))
                || subs.ShardChannels.Any(c => !channelsLeft.AllowsChannel(c, isPattern: false));
            if (!kill) continue;
            client.Connection?.Close();
            ctx.Disconnect(client);
        }
    }

    /// <summary>
    /// Redis's ACLFreeUserAndKillClients: the clients of removed users go back to the default user
    /// unauthenticated and are disconnected (the caller after this reply).
    /// </summary>
    static void DisconnectClientsOf(CommandContext ctx, List<AclUser> removed)
    {
        if (removed.Count == 0) return;
        foreach (var client in ctx.Clients.ToList())
        {
            if (client.User is not { } user || !removed.Contains(user)) continue;
            client.User = ctx.Acl.Default;
            client.Authenticated = false;
            if (client == ctx.Client) client.CloseAfterReply = true;
            else
            {
                client.Connection?.Close();
                ctx.Disconnect(client);
            }
        }
    }

    static string UserName(CommandContext ctx, int index) => System.Text.Encoding.Latin1.GetString(ctx.Arg(index));

    static void DelUser(CommandContext ctx)
    {
        var names = new List<string>();
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            if (ctx.Arg(i).SequenceEqual("default"u8))
            {
                ctx.Error("ERR The 'default' user cannot be removed");
                return;
            }
            names.Add(UserName(ctx, i));
        }
        var deleted = ctx.Acl.DeleteUsers(names);
        DisconnectClientsOf(ctx, deleted);
        ctx.Reply.Integer(deleted.Count);
    }

    static void GetUser(CommandContext ctx)
    {
        if (ctx.Acl.Find(UserName(ctx, 2)) is not { } user)
        {
            ctx.Reply.NullBulk();
            return;
        }
        var reply = ctx.Reply;
        reply.MapHeader(6);
        reply.Bulk("flags"u8);
        var flags = user.FlagNames().ToList();
        reply.SetHeader(flags.Count);
        foreach (var flag in flags) reply.Bulk(flag);
        reply.Bulk("passwords"u8);
        reply.ArrayHeader(user.Passwords.Count);
        foreach (var password in user.Passwords) reply.Bulk(password);
        WriteSelector(reply, user.Root);
        reply.Bulk("selectors"u8);
        reply.ArrayHeader(user.Selectors.Count - 1);
        for (int i = 1; i < user.Selectors.Count; i++)
        {
            reply.MapHeader(3);
            WriteSelector(reply, user.Selectors[i]);
        }
    }

    static void WriteSelector(Protocol.ReplyBuffer reply, AclSelector selector)
    {
        reply.Bulk("commands"u8);
        reply.Bulk(selector.DescribeCommands());
        reply.Bulk("keys"u8);
        reply.Bulk(selector.KeysText());
        reply.Bulk("channels"u8);
        reply.Bulk(selector.ChannelsText());
    }

    static void List(CommandContext ctx)
    {
        var lines = ctx.Acl.ListLines().ToList();
        ctx.Reply.ArrayHeader(lines.Count);
        foreach (var line in lines) ctx.Reply.Bulk(line);
    }

    static void Users(CommandContext ctx)
    {
        var users = ctx.Acl.Users.ToList();
        ctx.Reply.ArrayHeader(users.Count);
        foreach (var user in users) ctx.Reply.Bulk(user.Name);
    }

    static void WhoAmI(CommandContext ctx) => ctx.Reply.Bulk((ctx.Client.User ?? ctx.Acl.Default).Name);

    static void Load(CommandContext ctx)
    {
        if (ctx.Config.AclFile.Length == 0)
        {
            ctx.Error(NoAclFileError);
            return;
        }
        if (ctx.Acl.LoadFile(ctx.Config.AclFile, out var replaced) is { } errors)
        {
            ctx.Error("ERR " + errors);
            return;
        }
        DisconnectClientsOf(ctx, replaced);
        ctx.Reply.Ok();
    }

    static void Save(CommandContext ctx)
    {
        if (ctx.Config.AclFile.Length == 0)
        {
            ctx.Error(NoAclFileError);
            return;
        }
        if (!ctx.Acl.SaveFile(ctx.Config.AclFile))
        {
            ctx.Error("ERR There was an error trying to save the ACLs. Please check the server logs for more information");
            return;
        }
        ctx.Reply.Ok();
    }

    static void Cat(CommandContext ctx)
    {
        if (ctx.ArgCount == 2)
        {
            ctx.Reply.ArrayHeader(AclCatalog.Categories.Length);
            foreach (var category in AclCatalog.Categories) ctx.Reply.Bulk(category);
            return;
        }
        if (ctx.ArgCount > 3)
        {
            ServerCommands.SubcommandSyntaxError(ctx);
            return;
        }
        ulong flag = AclCatalog.CategoryFlag(ctx.ArgString(2));
        if (flag == 0)
        {
            var name = ArgVector.CString(ctx.Arg(2));
            ctx.Error($"ERR Unknown category '{(name.Length > 128 ? name[..128] : name)}'");
            return;
        }
        var names = ctx.Acl.Catalog.InCategory(flag).ToList();
        ctx.Reply.ArrayHeader(names.Count);
        foreach (var entry in names) ctx.Reply.Bulk(entry.Name);
    }

    static void GenPass(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ServerCommands.SubcommandSyntaxError(ctx);
            return;
        }
        long bits = 256;
        if (ctx.ArgCount == 3 && !ctx.TryGetLong(2, out bits)) return;
        if (bits is <= 0 or > GenpassMaxBits)
        {
            ctx.Error($"ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {GenpassMaxBits}");
            return;
        }
        int chars = (int)((bits + 3) / 4);
        ctx.Reply.Bulk(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes((chars + 1) / 2))[..chars]);
    }

    static void Log(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ServerCommands.SubcommandSyntaxError(ctx);
            return;
        }
        var log = ctx.Acl.Log;
        long count = 10;
        if (ctx.ArgCount == 3)
        {
            if (ctx.ArgIs(2, "RESET"u8))
            {
                log.Clear();
                ctx.Reply.Ok();
                return;
            }
            if (!ctx.TryGetLong(2, out count)) return;
            if (count < 0) count = 0;
        }
        count = Math.Min(count, log.Count);
        var reply = ctx.Reply;
        reply.ArrayHeader(count);
        long now = ctx.Keyspace.NowMs;
        foreach (var entry in log.Latest.Take((int)count))
        {
            reply.MapHeader(7);
            reply.Bulk("count"u8);
            reply.Integer(entry.Count);
            reply.Bulk("reason"u8);
            reply.Bulk(entry.Reason switch { AclDenial.Command => "command", AclDenial.Key => "key", AclDenial.Channel => "channel", _ => "auth" });
            reply.Bulk("context"u8);
            reply.Bulk(entry.Context);
            reply.Bulk("object"u8);
            reply.Bulk(entry.Object);
            reply.Bulk("username"u8);
            reply.Bulk(entry.Username);
            reply.Bulk("age-seconds"u8);
            reply.Double((now - entry.UpdatedMs) / 1000.0);
            reply.Bulk("client-info"u8);
            reply.Bulk(entry.ClientInfo);
        }
    }

    static void DryRun(CommandContext ctx)
    {
        var acl = ctx.Acl;
        if (acl.Find(UserName(ctx, 2)) is not { } user)
        {
            ctx.Error($"ERR User '{ArgVector.CString(ctx.Arg(2))}' not found");
            return;
        }
        var line = ctx.Args.Skip(3);
        var command = ctx.Commands.Find(line[0]);
        if (command?.Subcommands is not null && line.Count >= 2) command = command.Subcommands.GetValueOrDefault(ctx.ArgString(4));
        if (command is null)
        {
            ctx.Error($"ERR Command '{ArgVector.CString(ctx.Arg(3))}' not found");
            return;
        }
        if (!command.ArityMatches(line.Count))
        {
            ctx.Error($"ERR wrong number of arguments for '{command.Name}' command");
            return;
        }
        if (AclChecks.Check(user, command, line, out int position) is { } denial)
        {
            ctx.Reply.Bulk(AclStore.DryRunText(denial, command.Name, line[position]));
            return;
        }
        ctx.Reply.Ok();
    }
}
