using System.Text;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Scripting;

namespace MiniRedis.Commands;

/// <summary>FUNCTION and FCALL / FCALL_RO (Redis's functions.c); the engine lives in Scripting/FunctionEngine.</summary>
public static unsafe class FunctionCommands
{

    static readonly string[] HelpLines =
    [
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
    ];

    public static void Register(CommandTable t)
    {
        t.Add("fcall", &FunctionCall);
        t.Add("fcall_ro", &FunctionCallReadOnly);
        t.Add("function|load", &Load);
        t.Add("function|delete", &Delete);
        t.Add("function|flush", &Flush);
        t.Add("function|list", &List);
        t.Add("function|dump", &Dump);
        t.Add("function|restore", &Restore);
        t.Add("function|stats", &Stats);
        t.Add("function|kill", &Kill);
        t.Add("function|help", &Help);
    }

    static void FunctionCall(CommandContext ctx) => Call(ctx, readOnly: false);

    static void FunctionCallReadOnly(CommandContext ctx) => Call(ctx, readOnly: true);

    /// <summary>Redis's fcallCommandGeneric and scriptPrepareForRun's write check.</summary>
    static void Call(CommandContext ctx, bool readOnly)
    {
        var engine = ctx.Functions;
        var function = engine.Find(ctx.Arg(1));
        if (function is null)
        {
            ctx.Error("ERR Function not found");
            return;
        }
        if (!ScriptingCommands.TryGetNumKeys(ctx, "ERR Bad number of keys provided", out int numKeys)) return;
        if (!ScriptingCommands.PreparedToRun(ctx, function.Declaration, readOnly)) return;

        ScriptingCommands.RunAndReply(ctx, engine.Lua, function.CallbackRef, function.Name, isEval: false, numKeys, function.NoWrites, function.Declaration.AllowOom);
    }

    /// <summary>FUNCTION LOAD [REPLACE] code: options come before the code, which is the last argument.</summary>
    static void Load(CommandContext ctx)
    {
        bool replace = false;
        int position = 2;
        while (position < ctx.ArgCount - 1)
        {
            if (!ctx.ArgIs(position, "REPLACE"u8))
            {
                ctx.Error("ERR Unknown option given: " + ctx.ArgCString(position));
                return;
            }
            replace = true;
            position++;
        }
        var name = ctx.Functions.Load(ctx.Arg(position).ToArray(), replace, timed: !ctx.Client.IsAofLoader, out var error);
        if (name is null)
        {
            ctx.Error("ERR " + error);
            return;
        }
        ctx.Dirty++;
        ctx.Reply.Bulk(name);
    }

    static void Delete(CommandContext ctx)
    {
        if (!ctx.Functions.Delete(ctx.ArgString(2)))
        {
            ctx.Error("ERR Library not found");
            return;
        }
        ctx.Dirty++;
        ctx.Reply.Ok();
    }

    static void Flush(CommandContext ctx)
    {
        if (ctx.ArgCount > 3)
        {
            ServerCommands.SubcommandSyntaxError(ctx);
            return;
        }
        // ASYNC and SYNC both release at once: closing the Lua state is quick.
        if (ctx.ArgCount == 3 && !ctx.ArgIs(2, "ASYNC"u8) && !ctx.ArgIs(2, "SYNC"u8))
        {
            ctx.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
            return;
        }
        ctx.Functions.Flush();
        ctx.Dirty++;
        ctx.Reply.Ok();
    }

    /// <summary>FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE], each option at most once.</summary>
    static void List(CommandContext ctx)
    {
        bool withCode = false;
        byte[]? pattern = null;
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            if (!withCode && ctx.ArgIs(i, "WITHCODE"u8))
            {
                withCode = true;
                continue;
            }
            if (pattern is null && ctx.ArgIs(i, "LIBRARYNAME"u8))
            {
                if (i >= ctx.ArgCount - 1)
                {
                    ctx.Error("ERR library name argument was not given");
                    return;
                }
                pattern = ctx.Arg(++i).ToArray();
                continue;
            }
            ctx.Error("ERR Unknown argument " + ctx.ArgCString(i));
            return;
        }
        var reply = ctx.Reply;
        int start = reply.BeginDeferredArray();
        int count = 0;
        foreach (var library in ctx.Functions.Libraries)
        {
            if (pattern is not null && !GlobPattern.Match(pattern, Encoding.Latin1.GetBytes(library.Name), ignoreCase: true)) continue;
            count++;
            reply.MapHeader(withCode ? 4 : 3);
            reply.Bulk("library_name"u8);
            reply.Bulk(library.Name);
            reply.Bulk("engine"u8);
            reply.Bulk(FunctionEngine.EngineName);
            reply.Bulk("functions"u8);
            reply.ArrayHeader(library.Functions.Count);
            foreach (var function in library.Functions)
            {
                reply.MapHeader(3);
                reply.Bulk("name"u8);
                reply.Bulk(function.Name);
                reply.Bulk("description"u8);
                if (function.Description is null) reply.NullBulk();
                else reply.Bulk(function.Description);
                reply.Bulk("flags"u8);
                reply.SetHeader(function.Flags.Count);
                foreach (var flag in FunctionEngine.FlagOrder)
                {
                    if (function.Flags.Contains(flag)) reply.SimpleString(flag);
                }
            }
            if (withCode)
            {
                reply.Bulk("library_code"u8);
                reply.Bulk(library.Code);
            }
        }
        reply.EndDeferredArray(start, count);
    }

    static void Dump(CommandContext ctx) => ctx.Reply.Bulk(ctx.Functions.Dump(ctx.Config.RdbCompression));

    /// <summary>FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] (APPEND by default).</summary>
    static void Restore(CommandContext ctx)
    {
        if (ctx.ArgCount > 4)
        {
            ServerCommands.SubcommandSyntaxError(ctx);
            return;
        }
        var policy = RestorePolicy.Append;
        if (ctx.ArgCount == 4)
        {
            if (ctx.ArgIs(3, "APPEND"u8)) policy = RestorePolicy.Append;
            else if (ctx.ArgIs(3, "REPLACE"u8)) policy = RestorePolicy.Replace;
            else if (ctx.ArgIs(3, "FLUSH"u8)) policy = RestorePolicy.Flush;
            else
            {
                ctx.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
                return;
            }
        }
        var error = ctx.Functions.Restore(ctx.Arg(2), policy);
        if (error is not null)
        {
            ctx.Error("ERR " + error);
            return;
        }
        ctx.Dirty++;
        ctx.Reply.Ok();
    }

    /// <summary>FUNCTION STATS (allow-busy): the running script or function, if any, and the engine's counts.</summary>
    static void Stats(CommandContext ctx)
    {
        var reply = ctx.Reply;
        var engine = ctx.Functions;
        reply.MapHeader(2);
        reply.Bulk("running_script"u8);
        if (ctx.BusyScript.TryGetRunning(out var name, out var command, out long durationMs))
        {
            reply.MapHeader(3);
            reply.Bulk("name"u8);
            reply.Bulk(name);
            reply.Bulk("command"u8);
            reply.ArrayHeader(command.Count);
            for (int i = 0; i < command.Count; i++) reply.Bulk(command[i]);
            reply.Bulk("duration_ms"u8);
            reply.Integer(durationMs);
        }
        else reply.NullBulk();
        reply.Bulk("engines"u8);
        reply.MapHeader(1);
        reply.Bulk(FunctionEngine.EngineName);
        reply.MapHeader(2);
        reply.Bulk("libraries_count"u8);
        reply.Integer(engine.LibraryCount);
        reply.Bulk("functions_count"u8);
        reply.Integer(engine.FunctionCount);
    }

    static void Kill(CommandContext ctx) => ScriptingCommands.Kill(ctx, isEval: false);

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "FUNCTION", HelpLines);
}
