using Microsoft.Extensions.Logging;
using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>
/// MODULE (Redis's module.c) on a server that cannot load native modules: LIST is always empty, LOAD
/// and LOADEX fail as a library that does not load does in Redis (with its log line), UNLOAD finds
/// nothing. LOAD, LOADEX and UNLOAD are refused first unless <c>enable-module-command</c> allows them
/// (<see cref="ProtectedCommands"/>).
/// </summary>
public static unsafe class ModuleCommands
{
    const string LoadFailed = "ERR Error loading the extension. Please check the server logs.";

    static readonly string[] HelpLines =
    [
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
    ];

    public static void Register(CommandTable t)
    {
        t.Add("module|help", &Help);
        t.Add("module|list", &List);
        t.Add("module|load", &Load);
        t.Add("module|loadex", &LoadEx);
        t.Add("module|unload", &Unload);
    }

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "MODULE", HelpLines);

    static void List(CommandContext ctx) => ctx.Reply.ArrayHeader(0);

    static void Load(CommandContext ctx) => FailLoad(ctx);

    /// <summary>Redis checks LOADEX's CONFIG name value / ARGS syntax before it tries the library.</summary>
    static void LoadEx(CommandContext ctx)
    {
        for (int i = 3; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "ARGS"u8)) break;
            if (ctx.ArgIs(i, "CONFIG"u8) && ctx.ArgCount - i >= 3)
            {
                i += 2;
                continue;
            }
            ctx.Logger.LogWarning("Syntax Error from arguments to loadex around {Argument}.", ctx.ArgString(i));
            ctx.Error(LoadFailed);
            return;
        }
        FailLoad(ctx);
    }

    static void FailLoad(CommandContext ctx)
    {
        string path = ctx.ArgString(2);
        ctx.Logger.LogWarning("Module {Path} failed to load: {File}: this server cannot load native modules", path, path);
        ctx.Error(LoadFailed);
    }

    static void Unload(CommandContext ctx) => ctx.Error("ERR Error unloading module: no such module with that name");
}
