using System.Text;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Execution.Resp;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>COMMAND and its subcommands (Redis's server.c commandCommand and friends).</summary>
public static unsafe class CommandCommands
{
    static readonly string[] HelpLines =
    [
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
    ];

    public static void Register(CommandTable t)
    {
        t.Add("command", &All);
        t.Add("command|count", &Count);
        t.Add("command|info", &Info);
        t.Add("command|docs", &Docs);
        t.Add("command|list", &List);
        t.Add("command|getkeys", &GetKeys);
        t.Add("command|getkeysandflags", &GetKeysAndFlags);
        t.Add("command|help", &Help);
    }

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "COMMAND", HelpLines);

    static void Count(CommandContext ctx) => ctx.Reply.Integer(ctx.Commands.Count);

    static void All(CommandContext ctx)
    {
        var table = ctx.Commands;
        ctx.Reply.ArrayHeader(table.Count);
        foreach (var def in table.All) table.InfoOf(def).WriteTo(ctx.Reply);
    }

    static void Info(CommandContext ctx)
    {
        if (ctx.ArgCount == 2)
        {
            All(ctx);
            return;
        }
        var table = ctx.Commands;
        ctx.Reply.ArrayHeader(ctx.ArgCount - 2);
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            var def = FindByFullName(table, ctx.Arg(i));
            if (def is null) ctx.Reply.NullBulk();
            else table.InfoOf(def).WriteTo(ctx.Reply);
        }
    }

    static void Docs(CommandContext ctx)
    {
        var table = ctx.Commands;
        var reply = ctx.Reply;
        int start = reply.BeginDeferredArray();
        int count = 0;
        if (ctx.ArgCount == 2)
        {
            foreach (var def in table.All) count += WriteDocs(table, def, reply);
        }
        else
        {
            for (int i = 2; i < ctx.ArgCount; i++)
            {
                if (FindByFullName(table, ctx.Arg(i)) is { } def) count += WriteDocs(table, def, reply);
            }
        }
        reply.EndDeferredArray(start, count, map: true);
    }

    static int WriteDocs(CommandTable table, CommandDef def, Protocol.ReplyBuffer reply)
    {
        if (table.DocsOf(def) is not { } docs) return 0;
        reply.Bulk(def.Name);
        docs.WriteTo(reply);
        return 1;
    }

    static void List(CommandContext ctx)
    {
        Func<CommandDef, bool> filter;
        if (ctx.ArgCount == 2)
        {
            filter = _ => true;
        }
        else if (ctx.ArgCount == 5 && ctx.ArgIs(2, "FILTERBY"u8))
        {
            var argument = ctx.Args[4].ToArray();
            if (ctx.ArgIs(3, "MODULE"u8)) filter = _ => false; // no modules are ever loaded
            else if (ctx.ArgIs(3, "ACLCAT"u8)) filter = def => HasCategory(def, argument);
            else if (ctx.ArgIs(3, "PATTERN"u8)) filter = def => GlobPattern.Match(argument, Encoding.ASCII.GetBytes(def.Name), ignoreCase: true);
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

        var reply = ctx.Reply;
        int start = reply.BeginDeferredArray();
        int count = 0;
        foreach (var def in ctx.Commands.All)
        {
            count += ListName(def, filter, reply);
            if (def.Subcommands is null) continue;
            foreach (var sub in def.Subcommands.Values) count += ListName(sub, filter, reply);
        }
        reply.EndDeferredArray(start, count);
    }

    static int ListName(CommandDef def, Func<CommandDef, bool> filter, Protocol.ReplyBuffer reply)
    {
        if (!filter(def)) return 0;
        reply.Bulk(def.Name);
        return 1;
    }

    static bool HasCategory(CommandDef def, byte[] category)
    {
        foreach (var item in def.Info.Items![6].Items!)
        {
            var name = item.Text!.AsSpan(1); // the metadata spells categories with a leading '@'
            if (Ascii.EqualsIgnoreCase(name, Encoding.ASCII.GetString(category))) return true;
        }
        return false;
    }

    /// <summary>Finds "get" or "config|get", as Redis's lookupCommandBySds.</summary>
    internal static CommandDef? FindByFullName(CommandTable table, ReadOnlySpan<byte> fullName)
    {
        int bar = fullName.IndexOf((byte)'|');
        if (bar < 0) return table.Find(fullName);
        var parent = table.Find(fullName[..bar]);
        var subName = fullName[(bar + 1)..];
        if (parent?.Subcommands is null || subName.IndexOf((byte)'|') >= 0) return null;
        return parent.Subcommands.GetValueOrDefault(Encoding.Latin1.GetString(subName));
    }

    static void GetKeys(CommandContext ctx) => ReplyKeys(ctx, withFlags: false);

    static void GetKeysAndFlags(CommandContext ctx) => ReplyKeys(ctx, withFlags: true);

    /// <summary>Redis's getKeysSubcommandImpl: the keys a full command line would touch.</summary>
    static void ReplyKeys(CommandContext ctx, bool withFlags)
    {
        var table = ctx.Commands;
        var def = table.Find(ctx.Arg(2));
        var line = ctx.Args.Skip(2);
        if (def?.Subcommands is not null && line.Count >= 2)
        {
            def = def.Subcommands.GetValueOrDefault(ctx.ArgString(3));
        }
        if (def is null)
        {
            ctx.Error("ERR Invalid command specified");
            return;
        }
        if (!def.HasKeys)
        {
            ctx.Error("ERR The command has no key arguments");
            return;
        }
        if (!def.ArityMatches(line.Count))
        {
            ctx.Error("ERR Invalid number of arguments specified for command");
            return;
        }
        var keys = new List<(int Position, string[] Flags)>();
        CommandKeys.FindKeys(def, line, keys);
        if (keys.Count == 0)
        {
            if ((def.Flags & CommandFlags.NoMandatoryKeys) != 0) ctx.Reply.ArrayHeader(0);
            else ctx.Error("ERR Invalid arguments specified for command");
            return;
        }
        ctx.Reply.ArrayHeader(keys.Count);
        foreach (var (position, flags) in keys)
        {
            if (withFlags) ctx.Reply.ArrayHeader(2);
            ctx.Reply.Bulk(line[position]);
            if (!withFlags) continue;
            ctx.Reply.SetHeader(flags.Length);
            foreach (var flag in flags) ctx.Reply.SimpleString(flag);
        }
    }
}
