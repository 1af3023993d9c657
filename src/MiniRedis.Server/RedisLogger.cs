using System.Globalization;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;

namespace MiniRedis.Server;

/// <summary>
/// Writes log lines the way redis-server does ("pid:M 22 Nov 2026 03:01:14.123 * message"), to
/// stdout or to the configured logfile, filtered by the Redis loglevel.
/// </summary>
sealed class RedisLoggerProvider : ILoggerProvider
{
    readonly TextWriter _output;
    readonly ServerConfig _config;
    readonly object _lock = new();
    readonly int _pid = Environment.ProcessId;

    public RedisLoggerProvider(ServerConfig config)
    {
        _config = config;
        _output = config.LogFile.Length == 0 ? Console.Out : new StreamWriter(config.LogFile, append: true) { AutoFlush = true };
    }

    /// <summary>Read on every call: loglevel can change with CONFIG SET.</summary>
    LogLevel Minimum => _config.LogLevel switch
    {
        ServerLogLevel.Debug => LogLevel.Trace,
        ServerLogLevel.Verbose => LogLevel.Debug,
        ServerLogLevel.Warning => LogLevel.Warning,
        _ => LogLevel.Information,
    };

    public ILogger CreateLogger(string categoryName) => new RedisLogger(this);

    public void Dispose()
    {
        if (_output != Console.Out) _output.Dispose();
    }

    void Write(LogLevel level, string message)
    {
        char mark = level switch
        {
            LogLevel.Trace => '.',
            LogLevel.Debug => '-',
            LogLevel.Information => '*',
            _ => '#',
        };
        var stamp = DateTime.Now.ToString("dd MMM yyyy HH:mm:ss.fff", CultureInfo.InvariantCulture);
        lock (_lock) _output.WriteLine($"{_pid}:M {stamp} {mark} {message}");
    }

    sealed class RedisLogger(RedisLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider.Minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var message = formatter(state, exception);
            if (exception is not null) message += " " + exception;
            provider.Write(logLevel, message);
        }
    }
}
