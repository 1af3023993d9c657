using Microsoft.Extensions.Logging;
using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>CONFIG GET/SET/RESETSTAT/HELP (Redis's config.c), over the directive table in <see cref="Config.ServerConfig"/>.</summary>
public static unsafe class ConfigCommands
{
    static readonly string[] HelpLines =
    [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
    ];

    public static void Register(CommandTable t)
    {
        t.Add("config|get", &Get);
        t.Add("config|set", &Set);
        t.Add("config|resetstat", &ResetStat);
        t.Add("config|rewrite", &Rewrite);
        t.Add("config|help", &Help);
    }

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "CONFIG", HelpLines);

    static void Get(CommandContext ctx)
    {
        var patterns = new string[ctx.ArgCount - 2];
        for (int i = 2; i < ctx.ArgCount; i++) patterns[i - 2] = ctx.ArgString(i);
        var found = ctx.Config.Get(patterns);
        ctx.Reply.MapHeader(found.Count);
        foreach (var (name, value) in found)
        {
            ctx.Reply.Bulk(name);
            ctx.Reply.Bulk(value);
        }
    }

    static void Set(CommandContext ctx)
    {
        if (ctx.ArgCount % 2 != 0)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        var pairs = new List<(string Name, string Value)>();
        for (int i = 2; i < ctx.ArgCount; i += 2) pairs.Add((ctx.ArgString(i), ctx.ArgString(i + 1)));
        if (ctx.Config.Set(pairs, ctx.Client.IsLocal) is { } error)
        {
            ctx.Error(error);
            return;
        }
        ctx.Reply.Ok();
    }

    static void Rewrite(CommandContext ctx)
    {
        if (ctx.Config.Rewrite() is { } error)
        {
            ctx.Logger.LogWarning("CONFIG REWRITE failed: {Error}", error);
            ctx.Error(error);
            return;
        }
        ctx.Logger.LogWarning("CONFIG REWRITE executed with success.");
        ctx.Reply.Ok();
    }

    /// <summary>Redis's resetServerStats + resetCommandTableStats + resetErrorTableStats.</summary>
    static void ResetStat(CommandContext ctx)
    {
        ctx.Server.ResetStats();
        ctx.Reply.Ok();
    }
}
