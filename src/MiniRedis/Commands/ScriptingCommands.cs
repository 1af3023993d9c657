using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Execution;
using MiniRedis.Protocol;
using MiniRedis.Replication;
using MiniRedis.Scripting;

namespace MiniRedis.Commands;

/// <summary>EVAL, EVALSHA, their _RO forms and SCRIPT (Redis's eval.c); the Lua side lives in Scripting/.</summary>
public static unsafe class ScriptingCommands
{
    internal const int FirstKey = 3;

    static readonly string[] HelpLines =
    [
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
    ];

    public static void Register(CommandTable t)
    {
        t.Add("eval", &Eval);
        t.Add("evalsha", &EvalSha);
        t.Add("eval_ro", &EvalReadOnly);
        t.Add("evalsha_ro", &EvalShaReadOnly);
        t.Add("script|load", &Load);
        t.Add("script|exists", &Exists);
        t.Add("script|flush", &Flush);
        t.Add("script|kill", &Kill);
        t.Add("script|debug", &Debug);
        t.Add("script|help", &Help);
    }

    static void Eval(CommandContext ctx) => Run(ctx, bySha: false, readOnly: false);

    static void EvalSha(CommandContext ctx) => Run(ctx, bySha: true, readOnly: false);

    static void EvalReadOnly(CommandContext ctx) => Run(ctx, bySha: false, readOnly: true);

    static void EvalShaReadOnly(CommandContext ctx) => Run(ctx, bySha: true, readOnly: true);

    const string NoScriptError = "NOSCRIPT No matching script. Please use EVAL.";

    /// <summary>Redis's evalGenericCommand.</summary>
    static void Run(CommandContext ctx, bool bySha, bool readOnly)
    {
        ctx.FeedMonitors();
        // As Redis's evalShaCommand: a SHA of the wrong length cannot match, whatever follows it.
        if (bySha && ctx.Arg(1).Length != 40)
        {
            ctx.Error(NoScriptError);
            return;
        }
        if (!TryGetNumKeys(ctx, CommandContext.NotIntegerError, out int numKeys)) return;
        var engine = ctx.Scripts;
        CachedScript? script;
        string? error = null;
        try
        {
            script = bySha ? engine.Find(ctx.Arg(1)) : engine.Load(ctx.Arg(1), out error);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            ctx.Error("ERR Lua engine unavailable: " + e.Message);
            return;
        }
        if (script is null)
        {
            ctx.Error(error ?? NoScriptError);
            return;
        }

        // Declared flags were checked before the call, as the command's (Scripting's ScriptCommandFlags).
        if (!PreparedToRun(ctx, script.Declaration, readOnly)) return;
        RunAndReply(ctx, engine, script.FunctionRef, script.Sha, isEval: true, numKeys, readOnly || script.NoWrites, script.Declaration.AllowOom);
    }

    /// <summary>
    /// Redis's scriptPrepareForRun: a script without a shebang is refused on a stale replica, and one that
    /// may write cannot run from a *_RO command. False once refused.
    /// </summary>
    internal static bool PreparedToRun(CommandContext ctx, ScriptDeclaration declared, bool readOnlyCommand)
    {
        string? error = null;
        if (!declared.Declared && ctx.Replication.DeniesStaleData(ctx.Client)) error = CommandContext.MasterDownError;
        else if (declared.Declared && readOnlyCommand && !declared.NoWrites) error = "ERR Can not execute a script with write flag using *_ro command.";
        if (error is not null) ctx.Error(error);
        return error is null;
    }

    /// <summary>EVAL's and FCALL's numkeys (argument 2): a count of the arguments that follow it.</summary>
    internal static bool TryGetNumKeys(CommandContext ctx, string notIntegerError, out int numKeys)
    {
        numKeys = 0;
        if (!ctx.TryGetLong(2, out long value, notIntegerError)) return false;
        if (value > ctx.ArgCount - FirstKey)
        {
            ctx.Error("ERR Number of keys can't be greater than number of args");
            return false;
        }
        if (value < 0)
        {
            ctx.Error("ERR Number of keys can't be negative");
            return false;
        }
        numKeys = (int)value;
        return true;
    }

    /// <summary>
    /// Runs a script (EVAL) or a library's function (FCALL) in <paramref name="lua"/> under the busy-script
    /// clock, and replies its result. The script's commands run through the executor's call path, which
    /// takes over the shared context; the caller's own view is restored before replying, as EXEC does.
    /// </summary>
    internal static void RunAndReply(CommandContext ctx, ScriptEngine lua, int functionRef, string name, bool isEval, int numKeys, bool readOnly, bool allowOom)
    {
        var client = ctx.Client;
        var command = ctx.Command;
        var args = ctx.Args;
        ctx.ScriptHost.Begin(client, allowOom);
        var busy = ctx.BusyScript;
        busy.Begin(client, args, name, isEval);
        bool completed;
        try
        {
            completed = isEval
                ? lua.Run(functionRef, args, FirstKey, numKeys, readOnly)
                : lua.RunFunction(functionRef, args, FirstKey, numKeys, readOnly);
        }
        finally
        {
            busy.End();
        }
        ctx.Client = client;
        ctx.Command = command;
        ctx.Args = args;
        ctx.Failed = false;
        ctx.PropagationReplaced = true;

        var error = lua.WriteResult(ctx.Reply, name, raised: !completed, out bool countError);
        if (error is null) return;
        if (countError) ctx.Error(error);
        else ctx.Reply.Error(error); // a redis.call error, already counted when the command failed
    }

    static void Load(CommandContext ctx)
    {
        var script = ctx.Scripts.Load(ctx.Arg(2), out var error);
        if (script is null) ctx.Error(error!);
        else ctx.Reply.Bulk(script.Sha);
    }

    static void Exists(CommandContext ctx)
    {
        ctx.Reply.ArrayHeader(ctx.ArgCount - 2);
        for (int i = 2; i < ctx.ArgCount; i++) ctx.Reply.Integer(ctx.Scripts.Exists(ctx.Arg(i)) ? 1 : 0);
    }

    static void Flush(CommandContext ctx)
    {
        // ASYNC and SYNC both release at once: closing the Lua state is quick.
        if (ctx.ArgCount > 3 || (ctx.ArgCount == 3 && !ctx.ArgIs(2, "ASYNC"u8) && !ctx.ArgIs(2, "SYNC"u8)))
        {
            ctx.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            return;
        }
        ctx.Scripts.Flush();
        ctx.Reply.Ok();
    }

    static void Kill(CommandContext ctx) => Kill(ctx, isEval: true);

    /// <summary>SCRIPT KILL and FUNCTION KILL (allow-busy: served while a script is busy): the script stops at its hook's next check.</summary>
    internal static void Kill(CommandContext ctx, bool isEval)
    {
        if (ctx.BusyScript.Kill(isEval) is { } error) ctx.Error(error);
        else ctx.Reply.Ok();
    }

    static void Debug(CommandContext ctx)
    {
        // Redis's clientHasPendingReplies: replies of earlier commands of this round are still unsent.
        if (ctx.Reply.Length > 0) ctx.Error("ERR SCRIPT DEBUG must be called outside a pipeline");
        else if (ctx.ArgIs(2, "NO"u8)) ctx.Reply.Ok();
        else if (ctx.ArgIs(2, "YES"u8) || ctx.ArgIs(2, "SYNC"u8)) ctx.Error("ERR SCRIPT DEBUG YES/SYNC is not supported: the Lua debugger is not available");
        else ctx.Error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
    }

    static void Help(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "SCRIPT", HelpLines);
}

/// <summary>
/// The server side of <see cref="IScriptHost"/>: Redis's Lua client. Commands a script calls run on
/// this client (starting in the caller's database) through <see cref="Executor.Call"/>, which
/// counts them and records their effects in the caller's propagation unit.
/// </summary>
public sealed class ScriptHost : IScriptHost
{
    readonly ExecutionHost _server;
    readonly BusyScript _busy;
    readonly ClientSession _client;

    public ScriptHost(ExecutionHost server, BusyScript busy)
    {
        _server = server;
        _busy = busy;
        _client = new ClientSession(null, server.Keyspace[0], 0) { Authenticated = true, IsScriptClient = true };
    }

    long _dirtyAtStart;

    ClientSession? _caller;

    // The running script declared allow-oom: its commands may grow memory past maxmemory.
    bool _allowOom;

    /// <summary>A script starts in its caller's database (SELECT inside it does not change the caller's) and runs as its caller's user.</summary>
    internal void Begin(ClientSession caller, bool allowOom)
    {
        _caller = caller;
        _allowOom = allowOom;
        _client.Db = caller.Db;
        _client.User = caller.User;
        _dirtyAtStart = _server.Dirty;
    }

    public string? AclRefusal(CommandDef command, ArgVector args, bool logDenial)
    {
        if (_client.User is not { AllowsEverything: false } user) return null;
        if (!logDenial) return AclChecks.Check(user, command, args, out _) is null ? null : "denied";
        return _server.Acl.Deny(_caller ?? _client, user, command, args, "lua", _server.Keyspace.NowMs) is { } denial ? Security.AclStore.ScriptError(denial) : null;
    }

    public string? WriteRefusal(CommandDef command) =>
        command.IsWrite && !_busy.Wrote
            && (_server.Persistence.WriteDeniedError ?? _server.Replication.WriteDeniedError(_caller ?? _client)) is { } error ? error : null;

    public string? StaleRefusal(CommandDef command) =>
        (command.Flags & CommandFlags.Stale) == 0 && _server.Replication.DeniesStaleData(_caller ?? _client)
            ? "ERR Can not execute the command on a stale replica" : null;

    public string? OutOfMemoryRefusal(CommandDef command) =>
        !_allowOom && _server.Config.Maxmemory != 0 && _server.Evictor.OutOfMemoryAtCommandStart && _server.Dirty == _dirtyAtStart
        && (command.Flags & CommandFlags.DenyOom) != 0 ? CommandContext.OomError : null;

    public CommandDef? Find(ArgVector args)
    {
        var command = _server.Commands.Find(args[0]);
        if (command?.Subcommands is null || args.Count < 2) return command;
        return command.Subcommands.GetValueOrDefault(Encoding.Latin1.GetString(args[1]));
    }

    public BusyScript Busy => _busy;

    public ReplyBuffer Run(CommandDef command, ArgVector args, bool resp3)
    {
        if (command.IsWrite) _busy.MarkWrite();
        var reply = _client.Reply;
        reply.Clear();
        reply.Resp3 = resp3;
        _server.Executor.Call(command, args, _client);
        return reply;
    }

    public void Log(int level, string message)
    {
        var logLevel = level switch
        {
            0 => LogLevel.Trace,
            1 => LogLevel.Debug,
            2 => LogLevel.Information,
            _ => LogLevel.Warning,
        };
        _server.Logger.Log(logLevel, "{Message}", message);
    }
}
