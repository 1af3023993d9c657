using System.Globalization;
using Microsoft.Extensions.Logging;

namespace MiniRedis.Server;

/// <summary>
/// Writes log lines the way redis-server does ("pid:M 22 Nov 2026 03:01:14.123 * message"), to
/// stdout or to the configured logfile, filtered by the Redis loglevel.
/// </summary>
sealed class RedisLoggerProvider : ILoggerProvider
{
    readonly TextWriter _output;
    readonly LogLevel _minimum;
    readonly object _lock = new();
    readonly int _pid = Environment.ProcessId;

    public RedisLoggerProvider(string logFile, string redisLevel)
    {
        _output = logFile.Length == 0 ? Console.Out : new StreamWriter(logFile, append: true) { AutoFlush = true };
        _minimum = redisLevel switch
        {
            "debug" => LogLevel.Trace,
            "verbose" => LogLevel.Debug,
            "warning" => LogLevel.Warning,
            _ => LogLevel.Information,
        };
    }

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

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var message = formatter(state, exception);
            if (exception is not null) message += " " + exception;
            provider.Write(logLevel, message);
        }
    }
}
