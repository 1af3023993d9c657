using MiniRedis.Data;
using MiniRedis.Notifications;

namespace MiniRedis.Config;

public sealed partial class ServerConfig
{
    private const ConfigFlags Immutable = ConfigFlags.Immutable;

    /// <summary>Every directive the server accepts. Adding one is one line here (plus its typed property).</summary>
    private static readonly ConfigDirective[] s_directives =
    [
        ConfigDirective.Integer("port", 0, 65535, 6379, c => c.Port, (c, v) => c.Port = (int)v),
        ConfigDirective.Special("bind", DefaultBind, c => string.Join(' ', c.Bind), (c, args) => c.SetBind(args), ConfigFlags.MultiArg, RewriteBind),
        ConfigDirective.Bool("protected-mode", true, c => c.ProtectedMode, (c, v) => c.ProtectedMode = v),
        ConfigDirective.Integer("tcp-backlog", 0, int.MaxValue, 511, c => c.TcpBacklog, (c, v) => c.TcpBacklog = (int)v, Immutable),
        ConfigDirective.Integer("timeout", 0, int.MaxValue, 0, c => c.Timeout, (c, v) => c.Timeout = (int)v),
        ConfigDirective.Integer("tcp-keepalive", 0, int.MaxValue, 300, c => c.TcpKeepAlive, (c, v) => c.TcpKeepAlive = (int)v).Inert(KeepAlive),
        ConfigDirective.Bool("daemonize", false, c => c.Daemonize, (c, v) => c.Daemonize = v, Immutable),
        ConfigDirective.Enum("supervised", SupervisedMode.No, SupervisedModes, c => c.Supervised, (c, v) => c.Supervised = v, Immutable),
        ConfigDirective.String("pidfile", "", c => c.PidFile, (c, v) => c.PidFile = v.Length == 0 ? null : v, Immutable),
        ConfigDirective.Enum("loglevel", ServerLogLevel.Notice,
            [("debug", ServerLogLevel.Debug), ("verbose", ServerLogLevel.Verbose), ("notice", ServerLogLevel.Notice), ("warning", ServerLogLevel.Warning)],
            c => c.LogLevel, (c, v) => c.LogLevel = v),
        ConfigDirective.String("logfile", "", c => c.LogFile, (c, v) => c.LogFile = v, Immutable),
        ConfigDirective.Bool("syslog-enabled", false, c => c.SyslogEnabled, (c, v) => c.SyslogEnabled = v, Immutable),
        ConfigDirective.String("syslog-ident", "redis", c => c.SyslogIdent, (c, v) => c.SyslogIdent = v, Immutable),
        ConfigDirective.Enum("syslog-facility", SyslogFacility.Local0, SyslogFacilities, c => c.SyslogFacility, (c, v) => c.SyslogFacility = v, Immutable),
        ConfigDirective.String("unixsocket", "", c => c.UnixSocket, (c, v) => c.UnixSocket = v.Length == 0 ? null : v, Immutable),
        ConfigDirective.Special("unixsocketperm", "0", c => Convert.ToString(c.UnixSocketPerm, 8), (c, args) => c.SetUnixSocketPerm(args[0]), Immutable),
        ConfigDirective.Integer("databases", 1, int.MaxValue, 16, c => c.Databases, (c, v) => c.Databases = (int)v, Immutable),
        ConfigDirective.Special("dir", ".", c => c.Dir, (c, args) => c.SetDir(args[0]), ConfigFlags.Protected,
            c => [new RewriteLine("dir " + ConfigArgs.Quote(c.Dir), true)]),
        ConfigDirective.String("requirepass", "", c => c.RequirePass, (c, v) => c.RequirePass = v.Length == 0 ? null : v),
        ConfigDirective.String("aclfile", "", c => c.AclFile, (c, v) => c.AclFile = v, Immutable),
        ConfigDirective.Integer("acllog-max-len", 0, long.MaxValue, 128, c => c.AclLogMaxLen, (c, v) => c.AclLogMaxLen = v),
        ConfigDirective.Enum("acl-pubsub-default", false, [("allchannels", true), ("resetchannels", false)], c => c.AclPubsubAllChannels, (c, v) => c.AclPubsubAllChannels = v),
        ConfigDirective.Integer("maxclients", 1, uint.MaxValue, 10000, c => c.MaxClients, (c, v) => c.MaxClients = v),
        ConfigDirective.Memory("proto-max-bulk-len", 1024 * 1024, long.MaxValue, 512L * 1024 * 1024, c => c.ProtoMaxBulkLen, (c, v) => c.ProtoMaxBulkLen = v),
        ConfigDirective.Special("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            c => c.FormatOutputBufferLimits(), (c, args) => c.SetOutputBufferLimits(args), ConfigFlags.MultiArg, RewriteOutputBufferLimits),
        ConfigDirective.Integer("tracking-table-max-keys", 0, long.MaxValue, 1000000, c => c.TrackingTableMaxKeys, (c, v) => c.TrackingTableMaxKeys = v),
        ConfigDirective.Memory("client-query-buffer-limit", 1024 * 1024, long.MaxValue, 1024L * 1024 * 1024, c => c.ClientQueryBufferLimit, (c, v) => c.ClientQueryBufferLimit = v),
        // Redis accepts any non-negative hz but runs within 1..500, and reports the clamped value.
        ConfigDirective.Integer("hz", 0, int.MaxValue, 10, c => c.Hz, (c, v) => c.Hz = (int)Math.Clamp(v, MinHz, MaxHz)),
        ConfigDirective.Bool("activerehashing", true, c => c.ActiveRehashing, (c, v) => c.ActiveRehashing = v),
        ConfigDirective.Integer("busy-reply-threshold", 0, long.MaxValue, 5000, c => c.BusyReplyThreshold, (c, v) => c.BusyReplyThreshold = v).WithAlias("lua-time-limit"),
        ConfigDirective.Integer("active-expire-effort", 1, 10, 1, c => c.ActiveExpireEffort, (c, v) => c.ActiveExpireEffort = (int)v).Inert(ExpireEffort),
        ConfigDirective.Bool("lazyfree-lazy-user-flush", false, c => c.LazyfreeLazyUserFlush, (c, v) => c.LazyfreeLazyUserFlush = v).Inert(Lazyfree),
        ConfigDirective.Bool("lazyfree-lazy-user-del", false, c => c.LazyfreeLazyUserDel, (c, v) => c.LazyfreeLazyUserDel = v).Inert(Lazyfree),
        ConfigDirective.Bool("lazyfree-lazy-expire", false, c => c.LazyfreeLazyExpire, (c, v) => c.LazyfreeLazyExpire = v),
        ConfigDirective.Bool("lazyfree-lazy-server-del", false, c => c.LazyfreeLazyServerDel, (c, v) => c.LazyfreeLazyServerDel = v).Inert(Lazyfree),
        ConfigDirective.Special("save", "3600 1 300 100 60 10000", c => c.FormatSaveRules(), (c, args) => c.SetSaveRules(args), ConfigFlags.MultiArg, RewriteSaveRules),
        ConfigDirective.Bool("appendonly", false, c => c.AppendOnly, (c, v) => c.AppendOnly = v),
        ConfigDirective.String("dbfilename", "dump.rdb", c => c.DbFilename, (c, v) => c.DbFilename = v, ConfigFlags.Protected, ValidateDbFilename),
        ConfigDirective.String("appendfilename", "appendonly.aof", c => c.AppendFilename, (c, v) => c.AppendFilename = v, Immutable, ValidateAppendFilename),
        ConfigDirective.String("appenddirname", "appendonlydir", c => c.AppendDirname, (c, v) => c.AppendDirname = v, Immutable, ValidateAppendDirname),
        ConfigDirective.Bool("rdbcompression", true, c => c.RdbCompression, (c, v) => c.RdbCompression = v),
        ConfigDirective.Bool("rdbchecksum", true, c => c.RdbChecksum, (c, v) => c.RdbChecksum = v, Immutable),
        ConfigDirective.Bool("stop-writes-on-bgsave-error", true, c => c.StopWritesOnBgsaveError, (c, v) => c.StopWritesOnBgsaveError = v),
        ConfigDirective.Bool("rdb-del-sync-files", false, c => c.RdbDelSyncFiles, (c, v) => c.RdbDelSyncFiles = v).Inert(Replication),
        ConfigDirective.Bool("rdb-save-incremental-fsync", true, c => c.RdbSaveIncrementalFsync, (c, v) => c.RdbSaveIncrementalFsync = v),
        ConfigDirective.Integer("rdb-key-save-delay", int.MinValue, int.MaxValue, 0, c => c.RdbKeySaveDelay, (c, v) => c.RdbKeySaveDelay = (int)v, ConfigFlags.Hidden),
        ConfigDirective.Integer("key-load-delay", int.MinValue, int.MaxValue, 0, c => c.KeyLoadDelay, (c, v) => c.KeyLoadDelay = (int)v, ConfigFlags.Hidden),
        ConfigDirective.Bool("aof-use-rdb-preamble", true, c => c.AofUseRdbPreamble, (c, v) => c.AofUseRdbPreamble = v),
        ConfigDirective.Enum("appendfsync", AppendFsyncPolicy.EverySec,
            [("everysec", AppendFsyncPolicy.EverySec), ("always", AppendFsyncPolicy.Always), ("no", AppendFsyncPolicy.No)],
            c => c.AppendFsync, (c, v) => c.AppendFsync = v),
        ConfigDirective.Bool("aof-load-truncated", true, c => c.AofLoadTruncated, (c, v) => c.AofLoadTruncated = v),
        ConfigDirective.Bool("aof-timestamp-enabled", false, c => c.AofTimestampEnabled, (c, v) => c.AofTimestampEnabled = v),
        ConfigDirective.Integer("auto-aof-rewrite-percentage", 0, int.MaxValue, 100, c => c.AutoAofRewritePercentage, (c, v) => c.AutoAofRewritePercentage = v),
        ConfigDirective.Memory("auto-aof-rewrite-min-size", 0, long.MaxValue, 64L * 1024 * 1024, c => c.AutoAofRewriteMinSize, (c, v) => c.AutoAofRewriteMinSize = v),
        ConfigDirective.Bool("no-appendfsync-on-rewrite", false, c => c.NoAppendFsyncOnRewrite, (c, v) => c.NoAppendFsyncOnRewrite = v),
        ConfigDirective.Bool("aof-rewrite-incremental-fsync", true, c => c.AofRewriteIncrementalFsync, (c, v) => c.AofRewriteIncrementalFsync = v),
        ConfigDirective.Integer("hash-max-listpack-entries", 0, long.MaxValue, 512, c => c.HashMaxListpackEntries, (c, v) => c.HashMaxListpackEntries = v).WithAlias("hash-max-ziplist-entries"),
        ConfigDirective.Memory("hash-max-listpack-value", 0, long.MaxValue, 64, c => c.HashMaxListpackValue, (c, v) => c.HashMaxListpackValue = v).WithAlias("hash-max-ziplist-value"),
        ConfigDirective.Integer("set-max-intset-entries", 0, long.MaxValue, 512, c => c.SetMaxIntsetEntries, (c, v) => c.SetMaxIntsetEntries = v),
        ConfigDirective.Integer("zset-max-listpack-entries", 0, long.MaxValue, 128, c => c.ZsetMaxListpackEntries, (c, v) => c.ZsetMaxListpackEntries = v).WithAlias("zset-max-ziplist-entries"),
        ConfigDirective.Memory("zset-max-listpack-value", 0, long.MaxValue, 64, c => c.ZsetMaxListpackValue, (c, v) => c.ZsetMaxListpackValue = v).WithAlias("zset-max-ziplist-value"),
        ConfigDirective.Enum("enable-protected-configs", ProtectedAction.No, ProtectedActions,
            c => c.EnableProtectedConfigs, (c, v) => c.EnableProtectedConfigs = v, Immutable),
        ConfigDirective.Enum("enable-debug-command", ProtectedAction.No, ProtectedActions,
            c => c.EnableDebugCommand, (c, v) => c.EnableDebugCommand = v, Immutable),
        ConfigDirective.Enum("enable-module-command", ProtectedAction.No, ProtectedActions,
            c => c.EnableModuleCommand, (c, v) => c.EnableModuleCommand = v, Immutable),
        ConfigDirective.Integer("list-max-listpack-size", int.MinValue, int.MaxValue, -2, c => c.ListMaxListpackSize, (c, v) => c.ListMaxListpackSize = (int)v).WithAlias("list-max-ziplist-size").Inert(ListNodes),
        ConfigDirective.Integer("list-compress-depth", 0, int.MaxValue, 0, c => c.ListCompressDepth, (c, v) => c.ListCompressDepth = (int)v).Inert(ListNodes),
        ConfigDirective.Memory("maxmemory", 0, long.MaxValue, 0, c => c.Maxmemory, (c, v) => c.Maxmemory = v),
        ConfigDirective.Enum("maxmemory-policy", MaxmemoryPolicy.NoEviction,
            [("volatile-lru", MaxmemoryPolicy.VolatileLru), ("volatile-lfu", MaxmemoryPolicy.VolatileLfu),
             ("volatile-random", MaxmemoryPolicy.VolatileRandom), ("volatile-ttl", MaxmemoryPolicy.VolatileTtl),
             ("allkeys-lru", MaxmemoryPolicy.AllkeysLru), ("allkeys-lfu", MaxmemoryPolicy.AllkeysLfu),
             ("allkeys-random", MaxmemoryPolicy.AllkeysRandom), ("noeviction", MaxmemoryPolicy.NoEviction)],
            c => c.MaxmemoryPolicy, (c, v) => c.MaxmemoryPolicy = v),
        ConfigDirective.Integer("maxmemory-samples", 1, int.MaxValue, 5, c => c.MaxmemorySamples, (c, v) => c.MaxmemorySamples = (int)v),
        ConfigDirective.Integer("maxmemory-eviction-tenacity", 0, 100, 10, c => c.MaxmemoryEvictionTenacity, (c, v) => c.MaxmemoryEvictionTenacity = (int)v),
        ConfigDirective.Integer("lfu-log-factor", 0, int.MaxValue, 10, c => c.LfuLogFactor, (c, v) => c.LfuLogFactor = (int)v),
        ConfigDirective.Integer("lfu-decay-time", 0, int.MaxValue, 1, c => c.LfuDecayTime, (c, v) => c.LfuDecayTime = (int)v),
        ConfigDirective.Bool("lazyfree-lazy-eviction", false, c => c.LazyfreeLazyEviction, (c, v) => c.LazyfreeLazyEviction = v),
        ConfigDirective.Special("maxmemory-clients", "0", c => c.FormatMaxmemoryClients(), (c, args) => c.SetMaxmemoryClients(args), rewrite: RewriteMaxmemoryClients),
        ConfigDirective.Special("notify-keyspace-events", "", c => KeyspaceEvents.Format(c.NotifyKeyspaceEvents), (c, args) => c.SetNotifyKeyspaceEvents(args[0]), rewrite: RewriteNotifyKeyspaceEvents),
        ConfigDirective.Memory("hll-sparse-max-bytes", 0, long.MaxValue, 3000, c => c.HllSparseMaxBytes, (c, v) => c.HllSparseMaxBytes = v),
        // Slow log, latency monitor, latency tracking (ServerConfig.Observability.cs).
        ConfigDirective.Integer("slowlog-log-slower-than", -1, long.MaxValue, 10000, c => c.SlowlogLogSlowerThan, (c, v) => c.SlowlogLogSlowerThan = v),
        ConfigDirective.Integer("slowlog-max-len", 0, long.MaxValue, 128, c => c.SlowlogMaxLen, (c, v) => c.SlowlogMaxLen = v),
        ConfigDirective.Integer("latency-monitor-threshold", 0, long.MaxValue, 0, c => c.LatencyMonitorThreshold, (c, v) => c.LatencyMonitorThreshold = v),
        ConfigDirective.Bool("latency-tracking", true, c => c.LatencyTracking, (c, v) => c.LatencyTracking = v),
        ConfigDirective.Special("latency-tracking-info-percentiles", "50 99 99.9", c => c.FormatLatencyTrackingInfoPercentiles(),
            (c, args) => c.SetLatencyTrackingInfoPercentiles(args), ConfigFlags.MultiArg,
            // Redis's rewriteConfigLatencyTrackingInfoPercentilesOutputOption always writes the line, default or not.
            c => [new RewriteLine("latency-tracking-info-percentiles " + c.FormatLatencyTrackingInfoPercentiles(), true)]),
        ConfigDirective.Memory("stream-node-max-bytes", 0, long.MaxValue, 4096, c => c.StreamNodeMaxBytes, (c, v) => c.StreamNodeMaxBytes = v),
        ConfigDirective.Integer("stream-node-max-entries", 0, long.MaxValue, 100, c => c.StreamNodeMaxEntries, (c, v) => c.StreamNodeMaxEntries = v),
    ];

    // A property: the directive table above initializes before any field declared after it.
    private static (string, ProtectedAction)[] ProtectedActions =>
        [("no", ProtectedAction.No), ("yes", ProtectedAction.Yes), ("local", ProtectedAction.Local)];

    private const int MinHz = 1;
    private const int MaxHz = 500;
    private const int MaxBindAddresses = 16;

    private static string? ValidateDbFilename(string name) =>
        IsBaseName(name) ? null : "dbfilename can't be a path, just a filename";

    private static string? ValidateAppendFilename(string name) =>
        name.Length == 0 ? "appendfilename can't be empty"
        : IsBaseName(name) ? null : "appendfilename can't be a path, just a filename";

    private static string? ValidateAppendDirname(string name) =>
        IsBaseName(name) ? null : "appenddirname can't be a path, just a dirname";

    private static bool IsBaseName(string name) => !name.Contains('/') && !name.Contains('\\');
}
