using System.Collections.Frozen;
using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Config;

/// <summary>
/// The server's configuration: typed values for the engine, plus Redis 7.0's CONFIG GET / CONFIG SET
/// semantics. Values change only through loading (<see cref="Load"/>, <see cref="Parse"/>) and
/// <see cref="Set"/>; single reads of a property are safe from any thread.
/// </summary>
public sealed partial class ServerConfig
{
    /// <summary>The Redis version this server is compatible with and reports.</summary>
    public const string RedisVersion = "7.0.15";

    private readonly IReadOnlyList<ConfigDirective> _directives;
    private readonly FrozenDictionary<string, ConfigDirective> _byName;
    private readonly (string Name, byte[] NameBytes, ConfigDirective Directive)[] _getEntries;
    private readonly Dictionary<ConfigDirective, Func<string?>> _appliers = [];
    private readonly Lock _setLock = new();

    /// <summary>Values of the directives the engine does not use (<see cref="ConfigDirective.NoEffect"/>), by name.</summary>
    private readonly Dictionary<string, object?> _kept = [];

    /// <summary>The engine's directives, then the ones accepted for compatibility (two files, one table).</summary>
    private static readonly ConfigDirective[] s_allDirectives;

    static ServerConfig() => s_allDirectives = [.. s_directives, .. s_tlsDirectives, .. s_replicationDirectives, .. s_noEffectDirectives];

    public ServerConfig() : this(s_allDirectives)
    {
    }

    /// <summary>Builds a config over another directive table; tests use it to exercise aliases.</summary>
    internal ServerConfig(IReadOnlyList<ConfigDirective> directives)
    {
        _directives = directives;
        _getEntries = [.. directives.SelectMany(NamesOf)];
        _byName = _getEntries.ToFrozenDictionary(e => e.Name, e => e.Directive, StringComparer.OrdinalIgnoreCase);
        foreach (ConfigDirective directive in directives)
        {
            string? error = directive.Set(this, directive.SplitValue(directive.DefaultValue));
            if (error is not null)
                throw new InvalidOperationException($"Default of '{directive.Name}' is invalid: {error}");
        }
    }

    private static IEnumerable<(string, byte[], ConfigDirective)> NamesOf(ConfigDirective directive)
    {
        yield return (directive.Name, Encoding.UTF8.GetBytes(directive.Name), directive);
        if (directive.Alias is { } alias)
            yield return (alias, Encoding.UTF8.GetBytes(alias), directive);
    }

    /// <summary>Every directive the server accepts, in table order.</summary>
    public static IReadOnlyList<ConfigDirective> Directives => s_allDirectives;

    internal T? Kept<T>(string name) => (T?)_kept[name];

    internal void Keep<T>(string name, T value) => _kept[name] = value;

    /// <summary>Checks the command names and ACL rules a config file declares; installed once, when the library loads.</summary>
    public static ICommandVocabulary? Vocabulary { get; internal set; }

    /// <summary>Raised after a successful CONFIG SET, once per directive whose value changed (canonical name).</summary>
    public event Action<string>? Changed;

    /// <summary>Absolute path of the config file given on the command line, if any.</summary>
    public string? ConfigFile { get; private set; }

    public int Port { get; private set; }

    /// <summary>Addresses to listen on; empty means do not listen on TCP. "-" prefixes mark optional ones.</summary>
    public IReadOnlyList<string> Bind { get; private set; } = [];

    public bool ProtectedMode { get; private set; }

    public int TcpBacklog { get; private set; }

    /// <summary>Seconds of client idleness before disconnecting; 0 disables.</summary>
    public int Timeout { get; private set; }

    public int TcpKeepAlive { get; private set; }

    /// <summary>File to write the process id into, or null for none.</summary>
    public string? PidFile { get; private set; }

    public ServerLogLevel LogLevel { get; private set; }

    /// <summary>Log file path relative to <see cref="Dir"/>; empty means standard output.</summary>
    public string LogFile { get; private set; } = "";

    public int Databases { get; private set; }

    /// <summary>
    /// Absolute working directory for data files. Redis chdir()s here; this layer only validates and
    /// records it, and resolves relative paths (includes, log file) against it. The host applies it.
    /// </summary>
    public string Dir { get; private set; } = Environment.CurrentDirectory;

    /// <summary>Password of the default user, or null when none is required.</summary>
    public string? RequirePass { get; private set; }

    public long MaxClients { get; private set; }

    public long ProtoMaxBulkLen { get; private set; }

    public long ClientQueryBufferLimit { get; private set; }

    /// <summary>Keys the client-side caching table may hold before keys are invalidated to make room (0: unbounded).</summary>
    public long TrackingTableMaxKeys { get; private set; }

    /// <summary>client-output-buffer-limit for normal clients.</summary>
    public OutputBufferLimit NormalOutputBufferLimit { get; private set; }

    /// <summary>client-output-buffer-limit for clients subscribed to a channel or pattern.</summary>
    public OutputBufferLimit PubSubOutputBufferLimit { get; private set; }

    /// <summary>client-output-buffer-limit for replicas (the slave class).</summary>
    public OutputBufferLimit ReplicaOutputBufferLimit { get; private set; }

    public int Hz { get; private set; }

    /// <summary>The cron moves keyspace resizes on for 1 ms per tick even when no command touches the table.</summary>
    public bool ActiveRehashing { get; private set; }

    /// <summary>busy-reply-threshold (lua-time-limit): milliseconds a script runs before other clients get BUSY.</summary>
    public long BusyReplyThreshold { get; private set; }

    public int ActiveExpireEffort { get; private set; }

    /// <summary>Sorted sets with more elements than this leave the compact (listpack) encoding.</summary>
    public long ZsetMaxListpackEntries { get; private set; }

    /// <summary>Sorted sets with a member longer than this (bytes) leave the compact (listpack) encoding.</summary>
    public long ZsetMaxListpackValue { get; private set; }

    public bool LazyfreeLazyUserFlush { get; private set; }

    public bool LazyfreeLazyUserDel { get; private set; }

    public bool LazyfreeLazyExpire { get; private set; }

    public bool LazyfreeLazyServerDel { get; private set; }

    /// <summary>Snapshot rules; empty disables snapshotting.</summary>
    public IReadOnlyList<SaveRule> SaveRules { get; private set; } = [];

    public bool AppendOnly { get; private set; }

    public string DbFilename { get; private set; } = "";

    public string AppendFilename { get; private set; } = "";

    /// <summary>Redis 7's multi-part AOF directory name; read only to import a real Redis data directory.</summary>
    public string AppendDirname { get; private set; } = "";

    /// <summary>Strings in RDB files are LZF-compressed when that saves space.</summary>
    public bool RdbCompression { get; private set; }

    /// <summary>RDB files end with a CRC64 (written and checked); off writes zero and skips the check.</summary>
    public bool RdbChecksum { get; private set; }

    /// <summary>After a failed background save, writes are refused with -MISCONF until a save succeeds.</summary>
    public bool StopWritesOnBgsaveError { get; private set; }

    /// <summary>Delete the RDB file used only for replication sync when persistence is off (accepted; no replication here).</summary>
    public bool RdbDelSyncFiles { get; private set; }

    /// <summary>RDB files being saved are fsynced every 4 MB.</summary>
    public bool RdbSaveIncrementalFsync { get; private set; }

    /// <summary>Microseconds to sleep per key while saving (a testing aid, as in Redis).</summary>
    public int RdbKeySaveDelay { get; private set; }

    /// <summary>Microseconds to sleep per key while loading an RDB (a testing aid, as in Redis; 0 or less: none).</summary>
    public int KeyLoadDelay { get; private set; }

    /// <summary>AOF rewrites write the dataset as an RDB image followed by the commands since.</summary>
    public bool AofUseRdbPreamble { get; private set; }

    public AppendFsyncPolicy AppendFsync { get; private set; }

    /// <summary>Whether a torn last command of the AOF is cut off at start (true) or stops the server.</summary>
    public bool AofLoadTruncated { get; private set; }

    /// <summary>Whether the AOF gets <c>#TS:</c> annotations.</summary>
    public bool AofTimestampEnabled { get; private set; }

    /// <summary>Automatic BGREWRITEAOF when the AOF grew this many percent over its size after the last rewrite (0: off).</summary>
    public long AutoAofRewritePercentage { get; private set; }

    /// <summary>... and is at least this big.</summary>
    public long AutoAofRewriteMinSize { get; private set; }

    /// <summary>No AOF fsync while a rewrite writes its file.</summary>
    public bool NoAppendFsyncOnRewrite { get; private set; }

    /// <summary>The rewrite's file is fsynced every 4 MB written.</summary>
    public bool AofRewriteIncrementalFsync { get; private set; }

    public ProtectedAction EnableProtectedConfigs { get; private set; }

    public ProtectedAction EnableDebugCommand { get; private set; }

    public ProtectedAction EnableModuleCommand { get; private set; }

    /// <summary>Redis's allowProtectedAction: "yes", or "local" for a client on the loopback or the Unix socket.</summary>
    public static bool Allows(ProtectedAction setting, bool localClient) =>
        setting == ProtectedAction.Yes || (setting == ProtectedAction.Local && localClient);

    public long HashMaxListpackEntries { get; private set; }

    public long HashMaxListpackValue { get; private set; }

    public long SetMaxIntsetEntries { get; private set; }

    /// <summary>When a hash stops being a listpack.</summary>
    public Data.ListpackLimits HashListpackLimits => new(HashMaxListpackEntries, HashMaxListpackValue);

    /// <summary>Quicklist node size (negative: -1..-5 = 4kb..64kb per node; positive: entries per node). Lists are always a quicklist in 7.0.</summary>
    public int ListMaxListpackSize { get; private set; }

    /// <summary>Quicklist nodes kept uncompressed at each end (0 = no compression); accepted for compatibility.</summary>
    public int ListCompressDepth { get; private set; }

    /// <summary>
    /// Registers work to run during CONFIG SET once the new value of <paramref name="directive"/> is stored
    /// (e.g. re-listening on a new port). Return null on success or an error text: the whole CONFIG SET then
    /// fails with that text and every value is rolled back (and appliers run again for the old values).
    /// </summary>
    public void RegisterApplier(string directive, Func<string?> apply)
    {
        if (!_byName.TryGetValue(directive, out ConfigDirective? found))
            throw new ArgumentException($"Unknown directive '{directive}'", nameof(directive));
        lock (_setLock)
            _appliers[found] = apply;
    }

    /// <summary>
    /// CONFIG GET: directives whose name or alias matches any pattern (case-insensitive glob), each once.
    /// A pattern without glob characters is looked up directly and reported with the caller's spelling.
    /// </summary>
    public IReadOnlyList<(string Name, string Value)> Get(params IEnumerable<string> patterns)
    {
        var result = new List<(string Name, string Value)>();
        var reported = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string pattern in patterns)
        {
            if (pattern.AsSpan().IndexOfAny("[*?") < 0)
            {
                if (_byName.TryGetValue(pattern, out ConfigDirective? directive) && reported.Add(pattern))
                    result.Add((pattern, directive.Format(this)));
                continue;
            }
            byte[] patternBytes = Encoding.UTF8.GetBytes(pattern);
            foreach ((string name, byte[] nameBytes, ConfigDirective directive) in _getEntries)
            {
                if (!directive.Flags.HasFlag(ConfigFlags.Hidden) && !reported.Contains(name) && GlobPattern.Match(patternBytes, nameBytes, ignoreCase: true))
                {
                    reported.Add(name);
                    result.Add((name, directive.Format(this)));
                }
            }
        }
        return result;
    }

    /// <summary>
    /// CONFIG SET with one or more name/value pairs, atomically: everything is validated and stored, then
    /// appliers run; any failure restores all previous values. Returns null on success, otherwise the
    /// error reply text including its "ERR " prefix. Argument-count errors belong to the command layer.
    /// </summary>
    /// <param name="fromLocalClient">Whether the client is local, for <c>enable-protected-configs local</c>.</param>
    public string? Set(IReadOnlyList<(string Name, string Value)> pairs, bool fromLocalClient = false)
    {
        List<string> changed;
        lock (_setLock)
        {
            var directives = new ConfigDirective[pairs.Count];
            string? rejection = null;
            for (int i = 0; i < pairs.Count && rejection is null; i++)
                rejection = Resolve(pairs, i, directives, fromLocalClient);
            if (rejection is not null)
                return rejection;

            string[] oldValues = [.. directives.Select(d => d.Format(this))];
            for (int i = 0; i < directives.Length; i++)
            {
                string? error = directives[i].Set(this, directives[i].SplitValue(pairs[i].Value));
                if (error is not null)
                {
                    Restore(directives.AsSpan(0, i + 1), oldValues, reapply: []);
                    // Redis registers an alias as a config of its own, so the error names the one given.
                    return SetFailed(pairs[i].Name.ToLowerInvariant(), error);
                }
            }

            var changedDirectives = directives.Where((d, i) => d.Flags.HasFlag(ConfigFlags.Volatile) || d.Format(this) != oldValues[i]).ToList();
            foreach (ConfigDirective directive in changedDirectives)
            {
                if (_appliers.TryGetValue(directive, out Func<string?>? apply) && apply() is { } error)
                {
                    Restore(directives, oldValues, changedDirectives);
                    return SetFailed(directive.Name, error);
                }
            }
            changed = [.. changedDirectives.Select(d => d.Name)];
        }
        foreach (string name in changed)
            Changed?.Invoke(name);
        return null;
    }

    /// <summary>Finds the directive for pair <paramref name="i"/>, or returns why CONFIG SET must refuse it.</summary>
    private string? Resolve(IReadOnlyList<(string Name, string Value)> pairs, int i, ConfigDirective[] directives, bool fromLocalClient)
    {
        string name = pairs[i].Name;
        if (!_byName.TryGetValue(name, out ConfigDirective? directive))
            return $"ERR Unknown option or number of arguments for CONFIG SET - '{name}'";
        if (!directive.IsMutable)
            return SetFailed(name, "can't set immutable config");
        if (directive.Flags.HasFlag(ConfigFlags.Protected) && !Allows(EnableProtectedConfigs, fromLocalClient))
            return SetFailed(name, "can't set protected config");
        // A directive and its alias are two configs to Redis: both may be set, the later one wins.
        for (int j = 0; j < i; j++)
        {
            if (directives[j] == directive && string.Equals(pairs[j].Name, name, StringComparison.OrdinalIgnoreCase))
                return SetFailed(name, "duplicate parameter");
        }
        directives[i] = directive;
        return null;
    }

    private void Restore(ReadOnlySpan<ConfigDirective> directives, string[] oldValues, List<ConfigDirective> reapply)
    {
        // Old values came from Format, so setting them back cannot fail.
        for (int i = 0; i < directives.Length; i++)
            directives[i].Set(this, directives[i].SplitValue(oldValues[i]));
        foreach (ConfigDirective directive in reapply)
        {
            if (_appliers.TryGetValue(directive, out Func<string?>? apply))
                apply();
        }
    }

    private static string SetFailed(string name, string error) =>
        $"ERR CONFIG SET failed (possibly related to argument '{name}') - {error}";
}
