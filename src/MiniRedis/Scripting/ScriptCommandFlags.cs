using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Scripting;

/// <summary>
/// Redis 7.0's evalGetCommandFlags / fcallGetCommandFlags: EVAL of a body with a shebang, EVALSHA of
/// a cached script that has one, and FCALL of a loaded function are checked (before they run, and
/// when MULTI queues them) as commands of the flags they declare (scriptFlagsToCmdFlags): write and
/// deny-oom unless no-writes (allow-oom drops deny-oom), stale only with allow-stale. Otherwise, and
/// for a script or function not found, the command's own flags.
/// </summary>
public sealed class ScriptCommandFlags(ScriptEngine scripts, FunctionEngine functions) : IScriptCommandFlags
{
    public CommandFlags FlagsOf(CommandDef command, ArgVector args)
    {
        var declared = command.Name switch
        {
            "fcall" or "fcall_ro" => functions.Find(args[1])?.Declaration ?? default,
            "evalsha" or "evalsha_ro" => scripts.Find(args[1])?.Declaration ?? default,
            _ => ScriptEngine.DeclarationOf(args[1]),
        };
        if (!declared.Declared) return command.Flags;
        var flags = command.Flags & ~(CommandFlags.Stale | CommandFlags.DenyOom | CommandFlags.Write | CommandFlags.MayReplicate);
        if (!declared.NoWrites) flags |= CommandFlags.Write;
        if (!declared.NoWrites && !declared.AllowOom) flags |= CommandFlags.DenyOom;
        if (declared.AllowStale) flags |= CommandFlags.Stale;
        return flags;
    }
}
