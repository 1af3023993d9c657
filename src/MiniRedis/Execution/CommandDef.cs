namespace MiniRedis.Execution;

/// <summary>Redis's command flags (the ones COMMAND INFO lists) that the executor acts on.</summary>
[Flags]
public enum CommandFlags
{
    None = 0,
    Write = 1 << 0,
    ReadOnly = 1 << 1,
    DenyOom = 1 << 2,
    Admin = 1 << 3,
    PubSub = 1 << 4,
    NoScript = 1 << 5,
    Blocking = 1 << 6,
    Loading = 1 << 7,
    Stale = 1 << 8,
    SkipMonitor = 1 << 9,
    SkipSlowlog = 1 << 10,
    Fast = 1 << 11,
    NoAuth = 1 << 12,
    MayReplicate = 1 << 13,
    NoMulti = 1 << 14,
    MovableKeys = 1 << 15,
    AllowBusy = 1 << 16,
    NoMandatoryKeys = 1 << 17,
    NoAsyncLoading = 1 << 18,
    SentinelOnly = 1 << 19,
    Sentinel = 1 << 20,
    OnlySentinel = 1 << 21,
    Asking = 1 << 22,
}

/// <summary>
/// One command or subcommand: Redis's metadata (arity, flags, key positions) and our handler.
/// Handlers are static methods reached through a function pointer: no virtual dispatch.
/// </summary>
public sealed unsafe class CommandDef
{
    public CommandDef(string name, int arity, CommandFlags flags, int firstKey, int lastKey, int keyStep, Resp.RespValue info)
    {
        Name = name;
        Arity = arity;
        // COMMAND INFO does not list may_replicate, so the table's metadata lacks it: these are the
        // commands of Redis 7.0 that carry it (a script that declares no flags may write).
        Flags = name is "eval" or "evalsha" or "fcall" or "publish" or "spublish" or "pfcount" ? flags | CommandFlags.MayReplicate : flags;
        FirstKey = firstKey;
        LastKey = lastKey;
        KeyStep = keyStep;
        Info = info;
        HasKeys = CommandKeys.HasKeys(this);
        NamesElementAfterKey = info.Items is { Length: > 6 } items && items[6].Items is { } categories && categories.Any(c => c.Text is "@set" or "@hash");
        FlagsFromScript = name is "eval" or "evalsha" or "eval_ro" or "evalsha_ro" or "fcall" or "fcall_ro";
    }

    /// <summary>Lowercase, "parent|sub" for subcommands, as INFO commandstats names it.</summary>
    public string Name { get; }
    public int Arity { get; }
    public CommandFlags Flags { get; }
    public int FirstKey { get; }
    public int LastKey { get; }
    public int KeyStep { get; }

    /// <summary>EVAL and FCALL and their forms: the script or function they run may declare the flags they are checked with (<see cref="IScriptCommandFlags"/>).</summary>
    public bool FlagsFromScript { get; }

    /// <summary>Redis's doesCommandHaveKeys, fixed with the metadata (the ACL key check skips commands without keys).</summary>
    public bool HasKeys { get; }

    /// <summary>A set or hash command (its ACL categories): the argument after its key, if any, is a member or field (BatchPrefetch looks it up ahead).</summary>
    public bool NamesElementAfterKey { get; }

    /// <summary>Redis's COMMAND INFO entry for this command, replayed as-is (its COMMAND DOCS entry: CommandTable.DocsOf).</summary>
    public Resp.RespValue Info { get; }

    public delegate*<CommandContext, void> Handler { get; internal set; }

    /// <summary>The command's bit in ACL selectors (CommandTable.CreateAclCatalog), fixed at start.</summary>
    public int AclId { get; internal set; }
    public CommandDef? Parent { get; internal set; }
    public Dictionary<string, CommandDef>? Subcommands { get; internal set; }

    // INFO commandstats.
    public long Calls;
    public long Microseconds;
    public long RejectedCalls;
    public long FailedCalls;

    /// <summary>INFO latencystats and LATENCY HISTOGRAM: made at the command's first call while latency-tracking is on.</summary>
    public Observability.LatencyHistogram? LatencyHistogram;

    public bool IsWrite => (Flags & CommandFlags.Write) != 0;


    public bool ArityMatches(int argc) => Arity >= 0 ? argc == Arity : argc >= -Arity;
}
