using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Config;

/// <summary>What the host should do with its arguments.</summary>
public enum CommandLineAction
{
    Run,
    /// <summary>Print <see cref="CommandLine.VersionText"/> to stdout and exit 0.</summary>
    ShowVersion,
    /// <summary>Print <see cref="CommandLine.UsageText"/> to stderr and exit 1, as redis-server does.</summary>
    ShowUsage,
}

/// <summary>
/// <c>miniredis-server [config-file] [-] [--directive value ...]</c>, parsed like redis-server 7.0's main():
/// each <c>--name</c> starts a config line, following arguments are its (quoted) values, and the lines
/// are appended after the file so they override it.
/// </summary>
/// <param name="ConfigFile">The config file as given, or null.</param>
/// <param name="ReadConfigFromStdin">A lone "-" as first or last argument: read more config from stdin.</param>
/// <param name="Options">The options as config-file lines.</param>
public sealed record CommandLine(CommandLineAction Action, string? ConfigFile, bool ReadConfigFromStdin, string Options)
{
    public static string VersionText =>
        $"MiniRedis server v={ServerConfig.RedisVersion} sha=00000000:0 malloc=libc bits={IntPtr.Size * 8} build=0000000000000000";

    public const string UsageText = """
        Usage: ./miniredis-server [/path/to/redis.conf] [options] [-]
               ./miniredis-server - (read config from stdin)
               ./miniredis-server -v or --version
               ./miniredis-server -h or --help

        Examples:
               ./miniredis-server (run the server with default conf)
               echo 'port 7777' | ./miniredis-server -
               ./miniredis-server /etc/redis/6379.conf
               ./miniredis-server --port 7777
               ./miniredis-server /etc/myredis.conf --loglevel verbose -
               ./miniredis-server /etc/myredis.conf --loglevel verbose

        """;

    /// <param name="args">The arguments after the program name.</param>
    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0)
            return new CommandLine(CommandLineAction.Run, null, false, "");
        if (args[0] is "-v" or "--version")
            return new CommandLine(CommandLineAction.ShowVersion, null, false, "");
        if (args[0] is "--help" or "-h")
            return new CommandLine(CommandLineAction.ShowUsage, null, false, "");

        string? configFile = args[0].StartsWith('-') ? null : args[0];
        bool readStdin = false;
        var options = new StringBuilder();
        // False right after a bare "--name": the next argument is its value even if it starts with "--".
        bool lastOptionHasValue = true;
        for (int i = configFile is null ? 0 : 1; i < args.Count; i++)
        {
            string arg = args[i];
            bool isLast = i == args.Count - 1;
            if (arg == "-" && (i == 0 || isLast))
            {
                readStdin = true;
            }
            else if (lastOptionHasValue && arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (options.Length > 0)
                    options.Append('\n');
                options.Append(arg, 2, arg.Length - 2).Append(' ');
                // "--port 6380" as one argument already carries its value.
                lastOptionHasValue = ArgSplitter.SplitToList(Encoding.UTF8.GetBytes(arg)) is not { Count: 1 };
                // A bare --save followed by another option (or nothing) means save "", as before Redis 7.0.1.
                if (!lastOptionHasValue && arg.Equals("--save", StringComparison.OrdinalIgnoreCase)
                    && (isLast || args[i + 1].StartsWith("--", StringComparison.Ordinal)))
                {
                    options.Append("\"\"");
                    lastOptionHasValue = true;
                }
            }
            else
            {
                options.Append(ConfigArgs.Quote(arg)).Append(' ');
                lastOptionHasValue = true;
            }
        }
        return new CommandLine(CommandLineAction.Run, configFile, readStdin, options.ToString());
    }
}
