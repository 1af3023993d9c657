namespace MiniRedis.Config;

/// <summary>Directives whose parsing does not fit one of the standard kinds.</summary>
public sealed partial class ServerConfig
{
    /// <summary>Set while a config file is loading: save lines then accumulate instead of replacing.</summary>
    private bool _loadingFile;

    /// <summary>Whether the current file load has already replaced the default save rules.</summary>
    private bool _saveRulesReplacedByFile;

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

    private string FormatSaveRules() => string.Join(' ', SaveRules.Select(rule => $"{rule.Seconds} {rule.Changes}"));
}
