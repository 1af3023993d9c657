using MiniRedis.Notifications;

namespace MiniRedis.Config;

/// <summary>Directives whose parsing does not fit one of the standard kinds.</summary>
public sealed partial class ServerConfig
{
    /// <summary>Set while a config file is loading: save lines then accumulate instead of replacing.</summary>
    private bool _loadingFile;

    /// <summary>Whether the current file load has already replaced the default save rules.</summary>
    private bool _saveRulesReplacedByFile;

    private const string DefaultBind = "* -::*";

    /// <summary>Redis leaves bind out at its default; "" stands for no address.</summary>
    private static IReadOnlyList<RewriteLine> RewriteBind(ServerConfig config) =>
        string.Join(' ', config.Bind) is var addresses && addresses == DefaultBind ? []
        : [new RewriteLine("bind " + (config.Bind.Count == 0 ? "\"\"" : addresses), true)];

    private string? SetBind(IReadOnlyList<string> args)
    {
        if (args.Count > MaxBindAddresses)
            return "Too many bind addresses specified.";
        Bind = args is [""] ? [] : [.. args];
        return null;
    }

    /// <summary>Validates like chdir(): the path, relative to the current dir, must be an existing directory.</summary>
    private string? SetDir(string path)
    {
        string? error = DirectoryError(path);
        if (error is null)
            Dir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path, Dir));
        return error;
    }

    private string? DirectoryError(string path)
    {
        if (path.Length == 0)
            return NoSuchFile;
        string full = Path.GetFullPath(path, Dir);
        if (Directory.Exists(full))
            return null;
        // chdir reports ENOTDIR when the path or any of its ancestors is a regular file.
        for (string? current = full; current is not null; current = Path.GetDirectoryName(current))
        {
            if (File.Exists(current))
                return "Not a directory";
        }
        return NoSuchFile;
    }

    private const string NoSuchFile = "No such file or directory";

    /// <summary>
    /// Pairs of seconds (at least 1) and changes (at least 0). An empty list or a single "" clears the rules.
    /// In a config file the first save line replaces the defaults and later ones add to it.
    /// </summary>
    private string? SetSaveRules(IReadOnlyList<string> args)
    {
        if (args is [""])
            args = [];
        if (args.Count % 2 != 0)
            return InvalidSaveParameters;
        var rules = new List<SaveRule>(args.Count / 2);
        for (int i = 0; i < args.Count; i += 2)
        {
            if (!NumberParsing.TryParseCLong(args[i], out long seconds) || seconds < 1
                || !NumberParsing.TryParseCLong(args[i + 1], out long changes) || changes < 0)
                return InvalidSaveParameters;
            rules.Add(new SaveRule(seconds, changes));
        }
        bool append = _loadingFile && _saveRulesReplacedByFile && rules.Count > 0;
        _saveRulesReplacedByFile |= _loadingFile;
        SaveRules = append ? [.. SaveRules, .. rules] : rules;
        return null;
    }

    private const string InvalidSaveParameters = "Invalid save parameters";

    /// <summary>One line per rule, always written; no rules is save "" so the defaults do not come back.</summary>
    private static IReadOnlyList<RewriteLine> RewriteSaveRules(ServerConfig config) =>
        config.SaveRules.Count == 0 ? [new RewriteLine("save \"\"", true)]
        : [.. config.SaveRules.Select(rule => new RewriteLine($"save {rule.Seconds} {rule.Changes}", true))];

    private string FormatSaveRules() => string.Join(' ', SaveRules.Select(rule => $"{rule.Seconds} {rule.Changes}"));

    /// <summary>The classes of client-output-buffer-limit in Redis's order ("replica" is accepted for "slave").</summary>
    private static readonly string[] s_outputBufferClasses = ["normal", "slave", "pubsub"];

    private readonly OutputBufferLimit[] _outputBufferLimits = new OutputBufferLimit[3];

    /// <summary>Triples of class, hard limit, soft limit and soft seconds; only the classes named change.</summary>
    private string? SetOutputBufferLimits(IReadOnlyList<string> args)
    {
        if (args is [""])
            args = [];
        if (args.Count % 4 != 0)
            return "Wrong number of arguments in buffer limit configuration.";
        var limits = (OutputBufferLimit[])_outputBufferLimits.Clone();
        for (int i = 0; i < args.Count; i += 4)
        {
            string name = args[i].Equals("replica", StringComparison.OrdinalIgnoreCase) ? "slave" : args[i];
            int index = Array.FindIndex(s_outputBufferClasses, c => c.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
                return "Invalid client class specified in buffer limit configuration.";
            // Redis reads the seconds with strtoll and checks only the sign.
            _ = NumberParsing.TryParseCLong(args[i + 3], out long seconds);
            if (!NumberParsing.TryParseMemory(args[i + 1], out ulong hard) || !NumberParsing.TryParseMemory(args[i + 2], out ulong soft)
                || hard > long.MaxValue || soft > long.MaxValue || seconds < 0)
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            limits[index] = new OutputBufferLimit((long)hard, (long)soft, seconds);
        }
        limits.CopyTo(_outputBufferLimits, 0);
        NormalOutputBufferLimit = limits[0];
        ReplicaOutputBufferLimit = limits[1];
        PubSubOutputBufferLimit = limits[2];
        return null;
    }

    private string FormatOutputBufferLimits() =>
        string.Join(' ', s_outputBufferClasses.Select((name, i) =>
            $"{name} {_outputBufferLimits[i].Hard} {_outputBufferLimits[i].Soft} {_outputBufferLimits[i].SoftSeconds}"));

    private static readonly OutputBufferLimit[] s_defaultOutputBufferLimits =
        [new(0, 0, 0), new(256L << 20, 64L << 20, 60), new(32L << 20, 8L << 20, 60)];

    /// <summary>One line per class ("replica" for slave), sizes in units, each forced when not its default.</summary>
    private static IReadOnlyList<RewriteLine> RewriteOutputBufferLimits(ServerConfig config) =>
        [.. s_outputBufferClasses.Select((name, i) => OutputBufferLimitLine(name == "slave" ? "replica" : name,
            config._outputBufferLimits[i], s_defaultOutputBufferLimits[i]))];

    private static RewriteLine OutputBufferLimitLine(string name, OutputBufferLimit limit, OutputBufferLimit defaultLimit) =>
        new($"client-output-buffer-limit {name} {ConfigDirective.FormatMemory(limit.Hard)} {ConfigDirective.FormatMemory(limit.Soft)} {limit.SoftSeconds}",
            limit != defaultLimit);

    /// <summary>The keyspace event classes to publish (letters of notify-keyspace-events).</summary>
    public NotifyClass NotifyKeyspaceEvents { get; private set; }

    private static IReadOnlyList<RewriteLine> RewriteNotifyKeyspaceEvents(ServerConfig config) =>
        [new RewriteLine("notify-keyspace-events " + ConfigArgs.Quote(KeyspaceEvents.Format(config.NotifyKeyspaceEvents)),
            config.NotifyKeyspaceEvents != 0)];

    private string? SetNotifyKeyspaceEvents(string classes)
    {
        if (KeyspaceEvents.Parse(classes) is not { } flags)
            return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
        NotifyKeyspaceEvents = flags;
        return null;
    }
}
