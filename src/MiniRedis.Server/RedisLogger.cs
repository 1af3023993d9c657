using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;

namespace MiniRedis.Server;

/// <summary>
/// Writes log lines the way redis-server does ("pid:M 22 Nov 2026 03:01:14.123 * message", S on a replica), to
/// stdout or to the configured logfile, filtered by the Redis loglevel, and to syslog when enabled.
/// The logfile stays open; <see cref="Reopen"/> (on SIGHUP) starts a new one after log rotation moved it.
/// </summary>
sealed class RedisLoggerProvider : ILoggerProvider
{
    readonly ServerConfig _config;
    readonly object _lock = new();
    readonly int _pid = Environment.ProcessId;
    readonly Syslog? _syslog;
    readonly TextWriter _console;
    TextWriter _output;

    /// <param name="detached">A daemon: with no logfile, lines go to /dev/null as Redis's do once daemonized.</param>
    public RedisLoggerProvider(ServerConfig config, bool detached)
    {
        _config = config;
        _console = detached ? TextWriter.Null : Console.Out;
        _output = OpenOutput();
        if (config.SyslogEnabled) _syslog = new Syslog(config.SyslogIdent, config.SyslogFacility, _pid);
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

    TextWriter OpenOutput() =>
        _config.LogFile.Length == 0 ? _console : new StreamWriter(_config.LogFile, append: true) { AutoFlush = true };

    /// <summary>Closes the logfile and opens it again by name: logrotate's "postrotate kill -HUP".</summary>
    public void Reopen()
    {
        if (_config.LogFile.Length == 0) return;
        lock (_lock)
        {
            try
            {
                var reopened = OpenOutput();
                _output.Dispose();
                _output = reopened;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Keep writing to the old file rather than lose the lines.
                _output.WriteLine(Format(LogLevel.Warning, $"Can't reopen the log file: {e.Message}"));
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_output != _console) _output.Dispose();
        }
        _syslog?.Dispose();
    }

    string Format(LogLevel level, string message)
    {
        char mark = level switch
        {
            LogLevel.Trace => '.',
            LogLevel.Debug => '-',
            LogLevel.Information => '*',
            _ => '#',
        };
        var stamp = DateTime.Now.ToString("dd MMM yyyy HH:mm:ss.fff", CultureInfo.InvariantCulture);
        // Redis's role char: S on a replica, M on a master (no child processes, no sentinel mode here).
        char role = _config.MasterHost is null ? 'M' : 'S';
        return $"{_pid}:{role} {stamp} {mark} {message}";
    }

    void Write(LogLevel level, string message)
    {
        lock (_lock) _output.WriteLine(Format(level, message));
        _syslog?.Write(level, message);
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

    /// <summary>
    /// syslog(3) as Redis opens it (openlog with LOG_PID | LOG_NDELAY): datagrams to /dev/log in the
    /// traditional format "&lt;PRI&gt;Mmm dd hh:mm:ss ident[pid]: message". With no syslog daemon
    /// listening, lines are dropped, as glibc does.
    /// </summary>
    sealed class Syslog(string ident, SyslogFacility facility, int pid) : IDisposable
    {
        const string SocketPath = "/dev/log";
        readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        readonly UnixDomainSocketEndPoint _endpoint = new(SocketPath);

        public void Write(LogLevel level, string message)
        {
            // Redis's syslogLevelMap: debug, verbose, notice, warning -> LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING.
            int severity = level switch
            {
                LogLevel.Trace => 7,
                LogLevel.Debug => 6,
                LogLevel.Information => 5,
                _ => 4,
            };
            // syslog's "%b %e %T": the day of month padded with a space ("Dec  7 01:53:22").
            var now = DateTime.Now;
            var line = string.Create(CultureInfo.InvariantCulture,
                $"<{(int)facility * 8 + severity}>{now:MMM} {now.Day,2} {now:HH:mm:ss} {ident}[{pid}]: {message}");
            try
            {
                lock (_socket) _socket.SendTo(Encoding.UTF8.GetBytes(line), _endpoint);
            }
            catch (SocketException)
            {
                // No syslog daemon: nothing to tell, and nowhere to tell it.
            }
        }

        public void Dispose() => _socket.Dispose();
    }
}
