namespace MiniRedis.Config;

/// <summary>
/// Directives Redis 7.0 knows that change nothing in this server: accepted in the config file, on the
/// command line and by CONFIG GET/SET/REWRITE with Redis's types, ranges, defaults and errors, so that
/// existing redis.conf files and tools work. Each names why it has no effect; the README's table is
/// rendered from these lines (<see cref="NoEffectTable"/>).
/// </summary>
public sealed partial class ServerConfig
{
    // Properties, not fields: the engine's table in another file uses some, and static fields of a
    // partial class initialize in an order between files that nothing guarantees.
    private static NoEffectReason Replication => new("not implemented yet in replication");
    private static NoEffectReason Cluster => new("cluster mode is not implemented");
    private static NoEffectReason TlsClientSide => new("the client side of TLS (replication, cluster links) is not implemented");
    private static NoEffectReason TlsServerCiphers => new(".NET's SslStream has no setting for the server's cipher preference");
    private static NoEffectReason TlsSessionCache => new(".NET's SslStream has no setting for the server's TLS session cache");
    private static NoEffectReason TlsDhParams => new(".NET's SslStream takes no DH parameters (it uses ECDHE and TLS 1.3 key exchanges)");
    private static NoEffectReason Allocator => new("memory is managed by the .NET runtime: there is no jemalloc");
    private static NoEffectReason Defrag =>
        new("the .NET garbage collector compacts memory; `activedefrag yes` is refused, as by a Redis built without jemalloc's defrag support");
    private static NoEffectReason IoThreads =>
        new("an event loop of its own reads and parses the plain clients (TLS clients on .NET's socket engine); commands run one at a time on the executor");
    private static NoEffectReason NoFork =>
        new("no child process is forked (saves and rewrites use an in-process snapshot), so there is nothing to pin or protect");
    private static NoEffectReason OomScore => new("the process's OOM score is left as the service manager set it");
    private static NoEffectReason ProcTitle => new("the process title is not changed");
    private static NoEffectReason Logo => new("no ASCII-art logo is printed");
    private static NoEffectReason Crash => new("crashes are reported by the .NET runtime");
    private static NoEffectReason DynamicHz => new("not implemented: the cron runs at `hz` whatever the number of clients");
    private static NoEffectReason Sanitize => new("not implemented: the setting does not change how RESTORE checks payloads");
    private static NoEffectReason AofHistory => new("the AOF is a single file: there are no history files to delete");
    private static NoEffectReason Signals => new("not implemented: the setting does not change what SIGINT and SIGTERM do");
    private static NoEffectReason SocketMark => new("not implemented: no SO_MARK is set on sockets");
    private static NoEffectReason Warnings => new("the platform warnings Redis lets one silence (ARM64-COW-BUG) do not exist here");
    private static NoEffectReason Watchdog => new("the software watchdog is not implemented");
    private static NoEffectReason KeepAlive => new("not implemented: TCP keepalive is not set on client sockets");
    private static NoEffectReason ExpireEffort => new("not implemented: the active expire cycle's effort is fixed at Redis's default");
    private static NoEffectReason Lazyfree =>
        new("values are released by the .NET garbage collector, never on the command path, whatever the setting");
    private static NoEffectReason ListNodes => new("not implemented: lists are not split into listpack nodes, nor compressed");
    private static NoEffectReason DisklessLoad =>
        new("every value loads as `disabled`: through a temporary file, `-LOADING` meanwhile (see Replication)");
    private static NoEffectReason LoadingEvents => new("not implemented: loading does not pause to serve clients at a byte interval");

    private const ConfigFlags Hidden = ConfigFlags.Hidden;
    private const int IntMax = int.MaxValue;
    private const int PortMax = 65535;

    private static readonly ConfigDirective[] s_noEffectDirectives =
    [
        ConfigDirective.Bool("io-threads-do-reads", false, IoThreads, Immutable),
        ConfigDirective.Integer("io-threads", 1, 128, 1, IoThreads, Immutable),
        ConfigDirective.Bool("always-show-logo", false, Logo, Immutable),
        ConfigDirective.Bool("set-proc-title", true, ProcTitle, Immutable),
        ConfigDirective.String("proc-title-template", "{title} {listen-addr} {server-mode}", false, ProcTitle, validate: ValidateProcTitleTemplate),
        ConfigDirective.Bool("dynamic-hz", true, DynamicHz),
        ConfigDirective.Bool("jemalloc-bg-thread", true, Allocator),
        ConfigDirective.Bool("activedefrag", false, Defrag, validate: RejectActiveDefrag),
        ConfigDirective.Integer("active-defrag-cycle-min", 1, 99, 1, Defrag),
        ConfigDirective.Integer("active-defrag-cycle-max", 1, 99, 25, Defrag),
        ConfigDirective.Integer("active-defrag-threshold-lower", 0, 1000, 10, Defrag),
        ConfigDirective.Integer("active-defrag-threshold-upper", 0, 1000, 100, Defrag),
        ConfigDirective.Integer("active-defrag-max-scan-fields", 1, long.MaxValue, 1000, Defrag),
        ConfigDirective.Memory("active-defrag-ignore-bytes", 1, long.MaxValue, 100L << 20, Defrag),
        ConfigDirective.Bool("crash-log-enabled", true, Crash),
        ConfigDirective.Bool("crash-memcheck-enabled", true, Crash),
        ConfigDirective.Bool("use-exit-on-panic", false, Crash, Hidden),
        ConfigDirective.Bool("disable-thp", true, NoFork, Immutable),
        ConfigDirective.String("server_cpulist", "", true, NoFork, Immutable),
        ConfigDirective.String("bio_cpulist", "", true, NoFork, Immutable),
        ConfigDirective.String("aof_rewrite_cpulist", "", true, NoFork, Immutable),
        ConfigDirective.String("bgsave_cpulist", "", true, NoFork, Immutable),
        ConfigDirective.Enum("oom-score-adj", 0, [("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)], OomScore),
        ConfigDirective.Special("oom-score-adj-values", "0 200 800", NormalizeOomScoreAdjValues, OomScore, ConfigFlags.MultiArg),
        ConfigDirective.Enum("sanitize-dump-payload", "no", ["no", "yes", "clients"], Sanitize),
        ConfigDirective.Bool("aof-disable-auto-gc", false, AofHistory),
        ConfigDirective.Special("shutdown-on-sigint", "default", NormalizeShutdownOnSignal, Signals, ConfigFlags.MultiArg),
        ConfigDirective.Special("shutdown-on-sigterm", "default", NormalizeShutdownOnSignal, Signals, ConfigFlags.MultiArg),
        ConfigDirective.Integer("socket-mark-id", 0, uint.MaxValue, 0, SocketMark, Immutable),
        ConfigDirective.String("ignore-warnings", "", false, Warnings),
        ConfigDirective.Integer("watchdog-period", 0, IntMax, 0, Watchdog, Hidden),
        ConfigDirective.Integer("loading-process-events-interval-bytes", 1024, IntMax, 2 * 1024 * 1024, LoadingEvents, Hidden),

        ConfigDirective.Bool("replica-lazy-flush", false, Lazyfree).WithAlias("slave-lazy-flush"),
        ConfigDirective.Bool("replica-ignore-maxmemory", true, Replication).WithAlias("slave-ignore-maxmemory"),
        ConfigDirective.Bool("replica-ignore-disk-write-errors", false, Replication),
        ConfigDirective.Enum("repl-diskless-load", "disabled", ["disabled", "on-empty-db", "swapdb"], DisklessLoad),
        ConfigDirective.String("bind-source-addr", "", true, Replication),
        ConfigDirective.Enum("propagation-error-behavior", "ignore", ["ignore", "panic", "panic-on-replicas"], Replication),
        ConfigDirective.Integer("shutdown-timeout", 0, IntMax, 10, Replication),

        ConfigDirective.Bool("cluster-enabled", false, Cluster, Immutable),
        ConfigDirective.String("cluster-config-file", "nodes.conf", false, Cluster, Immutable),
        ConfigDirective.Integer("cluster-port", 0, PortMax, 0, Cluster, Immutable),
        ConfigDirective.Integer("cluster-node-timeout", 0, long.MaxValue, 15000, Cluster),
        ConfigDirective.String("cluster-announce-ip", "", true, Cluster),
        ConfigDirective.String("cluster-announce-hostname", "", true, Cluster, validate: ValidateAnnouncedHostname),
        ConfigDirective.Integer("cluster-announce-port", 0, PortMax, 0, Cluster),
        ConfigDirective.Integer("cluster-announce-bus-port", 0, PortMax, 0, Cluster),
        ConfigDirective.Integer("cluster-announce-tls-port", 0, PortMax, 0, Cluster),
        ConfigDirective.Enum("cluster-preferred-endpoint-type", "ip", ["ip", "hostname", "unknown-endpoint"], Cluster),
        ConfigDirective.Bool("cluster-require-full-coverage", true, Cluster),
        ConfigDirective.Bool("cluster-replica-no-failover", false, Cluster).WithAlias("cluster-slave-no-failover"),
        ConfigDirective.Integer("cluster-replica-validity-factor", 0, IntMax, 10, Cluster).WithAlias("cluster-slave-validity-factor"),
        ConfigDirective.Integer("cluster-migration-barrier", 0, IntMax, 1, Cluster),
        ConfigDirective.Bool("cluster-allow-replica-migration", true, Cluster),
        ConfigDirective.Bool("cluster-allow-reads-when-down", false, Cluster),
        ConfigDirective.Bool("cluster-allow-pubsubshard-when-down", true, Cluster),
        ConfigDirective.Memory("cluster-link-sendbuf-limit", 0, long.MaxValue, 0, Cluster),

        ConfigDirective.Bool("tls-cluster", false, Cluster),
        ConfigDirective.Bool("tls-replication", false, Replication),
        ConfigDirective.Bool("tls-prefer-server-ciphers", false, TlsServerCiphers),
        ConfigDirective.Bool("tls-session-caching", true, TlsSessionCache),
        ConfigDirective.Integer("tls-session-cache-size", 0, IntMax, 20 * 1024, TlsSessionCache),
        ConfigDirective.Integer("tls-session-cache-timeout", 0, IntMax, 300, TlsSessionCache),
        ConfigDirective.String("tls-client-cert-file", "", true, TlsClientSide),
        ConfigDirective.String("tls-client-key-file", "", true, TlsClientSide),
        ConfigDirective.String("tls-client-key-file-pass", "", true, TlsClientSide),
        ConfigDirective.String("tls-dh-params-file", "", true, TlsDhParams),
    ];

    /// <summary>The README's table: one row per directive (aliases beside their name) that has no effect here.</summary>
    public static string NoEffectTable() =>
        "| directive | why it has no effect |\n| --- | --- |\n" + string.Concat(s_allDirectives
            .Where(d => d.NoEffect is not null)
            .Select(d => $"| `{d.Name}`{(d.Alias is { } alias ? $" (`{alias}`)" : "")} | {d.NoEffect} |\n"));

    private static string? RejectActiveDefrag(bool enable) => enable
        ? "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"
        : null;

    private const int MaxHostnameLength = 256;

    /// <summary>Redis's isValidAnnouncedHostname.</summary>
    private static string? ValidateAnnouncedHostname(string name) =>
        name.Length >= MaxHostnameLength ? $"Hostnames must be less than {MaxHostnameLength} characters"
        : name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.') ? null
        : "Hostnames may only contain alphanumeric characters, hyphens or dots";

    /// <summary>The variables of proc-title-template; the ones empty here (no title yet, no unix socket) expand to nothing.</summary>
    private static readonly (string Name, bool Empty)[] s_procTitleVariables =
        [("title", true), ("listen-addr", false), ("server-mode", false), ("port", false), ("tls-port", false), ("unixsocket", true), ("config-file", false)];

    /// <summary>
    /// Redis's validateProcTitleTemplate: "{{" is a literal brace (so are "}}" and a lone "}"), "{name}" a known variable, and
    /// the expansion (with an empty title) must not be blank.
    /// </summary>
    private static string? ValidateProcTitleTemplate(string template)
    {
        bool blank = true;
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if (c is '{' or '}' && i + 1 < template.Length && template[i + 1] == c)
            {
                (blank, i) = (false, i + 1);
                continue;
            }
            if (c != '{')
            {
                blank &= c == ' ';
                continue;
            }
            int close = template.IndexOf('}', i + 1);
            int variable = close < 0 ? -1 : Array.FindIndex(s_procTitleVariables, v => v.Name == template[(i + 1)..close]);
            if (variable < 0)
                return InvalidProcTitleTemplate;
            blank &= s_procTitleVariables[variable].Empty;
            i = close;
        }
        return blank ? InvalidProcTitleTemplate : null;
    }

    private const string InvalidProcTitleTemplate = "template format is invalid or contains unknown variables";

    private static readonly string[] s_shutdownFlags = ["save", "nosave", "now", "force"];

    /// <summary>Flags of SHUTDOWN: "default" (none) or any of save, nosave, now, force; shown in that order.</summary>
    private static string? NormalizeShutdownOnSignal(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        var set = new bool[s_shutdownFlags.Length];
        foreach (string arg in args)
        {
            int index = Array.FindIndex(s_shutdownFlags, flag => flag.Equals(arg, StringComparison.OrdinalIgnoreCase));
            if (index < 0 && !arg.Equals("default", StringComparison.OrdinalIgnoreCase))
            {
                error = "argument(s) must be one of the following: default, " + string.Join(", ", s_shutdownFlags);
                return null;
            }
            if (index >= 0)
                set[index] = true;
        }
        if (set[0] && set[1])
        {
            error = "shutdown options SAVE and NOSAVE can't be used simultaneously";
            return null;
        }
        string[] named = [.. s_shutdownFlags.Where((_, i) => set[i])];
        return named.Length == 0 ? "default" : string.Join(' ', named);
    }

    private const int OomScoreAdjValues = 3;

    private static string? NormalizeOomScoreAdjValues(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        if (args.Count != OomScoreAdjValues)
        {
            error = "wrong number of arguments";
            return null;
        }
        var values = new long[OomScoreAdjValues];
        for (int i = 0; i < values.Length; i++)
        {
            if (!NumberParsing.TryParseCLong(args[i], out values[i]) || values[i] is < -2000 or > 2000)
            {
                error = "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
                return null;
            }
        }
        return string.Join(' ', values);
    }
}
