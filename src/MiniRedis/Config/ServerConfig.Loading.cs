using System.Text;
using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Config;

/// <summary>Loading configuration text the way redis-server 7.0 does at startup.</summary>
public sealed partial class ServerConfig
{
    /// <summary>
    /// Builds the startup configuration: the config file (if any), then standard input (if asked), then the
    /// command-line options, later lines overriding earlier ones.
    /// </summary>
    /// <exception cref="ConfigException">The configuration is invalid; print the message to stderr and exit 1.</exception>
    public static ServerConfig Load(CommandLine commandLine, Stream? stdin = null)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var config = new ServerConfig();
        var text = new List<byte>();
        if (commandLine.ConfigFile is { } file)
        {
            config.ConfigFile = Path.GetFullPath(file, config.Dir);
            text.AddRange(config.ReadConfigSource(file));
            config._including.Add(config.ConfigFile);
        }
        if (commandLine.ReadConfigFromStdin && stdin is not null)
        {
            using var buffer = new MemoryStream();
            stdin.CopyTo(buffer);
            text.AddRange(buffer.ToArray());
        }
        if (commandLine.Options.Length > 0)
            text.AddRange(Encoding.UTF8.GetBytes("\n" + commandLine.Options));
        config.LoadText([.. text]);
        return config;
    }

    /// <summary>Builds a configuration from config-file text on top of the defaults.</summary>
    /// <exception cref="ConfigException">The text is invalid.</exception>
    public static ServerConfig Parse(string text)
    {
        var config = new ServerConfig();
        config.LoadText(Encoding.UTF8.GetBytes(text));
        return config;
    }

    private void LoadText(byte[] text)
    {
        _loadingFile = true;
        try
        {
            LoadLines(text);
        }
        finally
        {
            _loadingFile = false;
        }
        CheckLogFile();
    }

    /// <summary>Applies each line; an include loads its file's lines in place, reporting its own line numbers.</summary>
    private void LoadLines(ReadOnlySpan<byte> text)
    {
        int lineNumber = 0;
        foreach (Range range in text.Split((byte)'\n'))
        {
            lineNumber++;
            ReadOnlySpan<byte> line = text[range].Trim(" \t\r\n"u8);
            if (line.IsEmpty || line[0] == '#')
                continue;
            string? error = LoadLine(line);
            if (error is not null)
                throw new ConfigException(FatalError($"Reading the configuration file, at line {lineNumber}\n>>> '{Decode(line)}'\n{error}"));
        }
    }

    private string? LoadLine(ReadOnlySpan<byte> line)
    {
        List<byte[]>? split = ArgSplitter.SplitToList(line);
        if (split is null)
            return "Unbalanced quotes in configuration line";
        if (split.Count == 0)
            return null;
        string name = Decode(split[0]).ToLowerInvariant();
        string[] args = [.. split.Skip(1).Select(arg => Decode(arg))];
        if (_byName.TryGetValue(name, out ConfigDirective? directive))
        {
            if (!directive.Flags.HasFlag(ConfigFlags.MultiArg))
                return args.Length != 1 ? "wrong number of arguments" : directive.Set(this, args);
            // Like Redis, one non-empty argument of a multi-argument directive is split again, so
            // `--save "900 1 300 10"` works; an empty one still means "none" (`--save ""`).
            if (args.Length == 1 && args[0].Length > 0)
            {
                List<byte[]>? values = ArgSplitter.SplitToList(split[1]);
                if (values is null)
                    return "Unbalanced quotes in configuration line";
                args = [.. values.Select(arg => Decode(arg))];
            }
            return directive.Set(this, args);
        }
        return name switch
        {
            _ when s_deprecatedDirectives.Contains(name) && args.Length == 1 => null,
            "include" when args.Length == 1 => Include(args[0]),
            "rename-command" when args.Length == 2 => RenameCommand(args[0], args[1]),
            "user" when args.Length >= 1 => DeclareUser(args),
            _ => "Bad directive or wrong number of arguments",
        };
    }

    /// <summary>Directives Redis 7.0 still accepts in a file and ignores.</summary>
    private static readonly string[] s_deprecatedDirectives = ["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

    /// <summary>Files whose include is being loaded, outermost first: a file met again includes itself.</summary>
    private readonly List<string> _including = [];

    /// <summary>
    /// Loads the file in place. A file that includes itself (directly or through others) is an error here;
    /// Redis recurses until its stack overflows and dies of SIGSEGV.
    /// </summary>
    private string? Include(string path)
    {
        foreach (string file in ConfigSources(path))
        {
            if (_including.Contains(file))
                return $"Config file '{file}' includes itself";
            byte[] text = ReadConfigFile(file == Path.GetFullPath(path, Dir) ? path : file, file);
            _including.Add(file);
            try
            {
                LoadLines(text);
            }
            finally
            {
                _including.RemoveAt(_including.Count - 1);
            }
        }
        return null;
    }

    /// <summary>Redis 7.0's command names as renamed so far by this load; built at the first rename-command.</summary>
    private HashSet<string>? _commandNames;

    private readonly List<(string From, string To)> _commandRenames = [];

    /// <summary>rename-command lines in file order, for the command table; an empty new name removes the command.</summary>
    public IReadOnlyList<(string From, string To)> CommandRenames => _commandRenames;

    private string? RenameCommand(string from, string to)
    {
        _commandNames ??= new HashSet<string>(Vocabulary!.RedisCommandNames, StringComparer.OrdinalIgnoreCase);
        if (!_commandNames.Remove(from))
            return "No such command in rename-command";
        if (to.Length > 0 && !_commandNames.Add(to))
            return "Target command name already exists";
        _commandRenames.Add((from, to));
        return null;
    }

    /// <summary>Reads the config file(s) <paramref name="path"/> names, concatenated (see <see cref="ConfigSources"/>).</summary>
    private byte[] ReadConfigSource(string path)
    {
        string[] files = [.. ConfigSources(path)];
        return files is [var single] && single == Path.GetFullPath(path, Dir)
            ? ReadConfigFile(path, single)
            : [.. files.SelectMany(file => ReadConfigFile(file, file))];
    }

    /// <summary>
    /// The files a config path names, relative to <see cref="Dir"/>. A name with glob characters names every
    /// matching file in name order (none is fine); a plain name one file, which must exist when read.
    /// </summary>
    private IEnumerable<string> ConfigSources(string path)
    {
        string full = Path.GetFullPath(path, Dir);
        if (path.AsSpan().IndexOfAny("*?[") < 0)
            return [full];
        string directory = Path.GetDirectoryName(full) ?? full;
        byte[] pattern = Encoding.UTF8.GetBytes(Path.GetFileName(full));
        if (!Directory.Exists(directory))
            return [];
        // Like glob(3): sorted, and hidden files only when the pattern itself starts with a dot.
        return Directory.EnumerateFiles(directory)
            .Where(file => Path.GetFileName(file) is var name
                && (!name.StartsWith('.') || pattern is [(byte)'.', ..])
                && GlobPattern.Match(pattern, Encoding.UTF8.GetBytes(name), ignoreCase: false))
            .Order(StringComparer.Ordinal);
    }

    private static byte[] ReadConfigFile(string shownPath, string fullPath)
    {
        try
        {
            return File.ReadAllBytes(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"Fatal error, can't open config file '{shownPath}': {DescribeIoFailure(e)}\n", e);
        }
    }

    /// <summary>Redis refuses to start when it cannot append to the log file (creating it if needed).</summary>
    private void CheckLogFile()
    {
        if (LogFile.Length == 0)
            return;
        try
        {
            using var log = new FileStream(Path.GetFullPath(LogFile, Dir), FileMode.Append, FileAccess.Write);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(FatalError($"Can't open the log file: {DescribeIoFailure(e)}"), e);
        }
    }

    private static string FatalError(string details) =>
        $"\n*** FATAL CONFIG FILE ERROR (Redis {RedisVersion}) ***\n{details}\n";

    /// <summary>The strerror() text Redis would print for the failure.</summary>
    private static string DescribeIoFailure(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => NoSuchFile,
        UnauthorizedAccessException => "Permission denied",
        _ => e.Message,
    };

    private static string Decode(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
