using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Scripting;

/// <summary>
/// What the scripting engine needs from the server, and nothing more: the command a script names,
/// a way to run it as the script's client (on the executor thread, through the same call path as a
/// client's command, so its effects propagate), and the server log.
/// </summary>
public interface IScriptHost
{
    /// <summary>The command (or subcommand) <paramref name="args"/> names, as Redis's lookupCommand; null when unknown.</summary>
    CommandDef? Find(ArgVector args);

    /// <summary>Runs the command as the script's client and returns the buffer holding its reply (in RESP2 or RESP3 per <paramref name="resp3"/>).</summary>
    ReplyBuffer Run(CommandDef command, ArgVector args, bool resp3);

    /// <summary>
    /// scriptVerifyWriteCommandAllow's server state: until the script's first write, a write command is
    /// refused on a read-only replica (READONLY) or without enough good replicas (NOREPLICAS); else null.
    /// </summary>
    string? WriteRefusal(CommandDef command);

    /// <summary>scriptVerifyAllowStale: on a replica whose link is down with replica-serve-stale-data no, a command without the stale flag is refused; else null.</summary>
    string? StaleRefusal(CommandDef command);

    /// <summary>scriptVerifyOOM: the error when memory was over maxmemory as the script started and this deny-oom command would be its first write; else null.</summary>
    string? OutOfMemoryRefusal(CommandDef command);

    /// <summary>
    /// scriptVerifyACL: null when the script's caller may run the command with these keys and
    /// channels, else the script error (the denial is logged, unless <paramref name="logDenial"/> is false: redis.acl_check_cmd).
    /// </summary>
    string? AclRefusal(CommandDef command, ArgVector args, bool logDenial);

    /// <summary>redis.log: <paramref name="level"/> is Redis's (0 debug .. 3 warning).</summary>
    void Log(int level, string message);

    /// <summary>The running script's time and kill state; its hook goes into every Lua state.</summary>
    BusyScript Busy { get; }
}
