using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;

namespace MiniRedis.Server;

/// <summary>
/// <c>supervised upstart|systemd|auto</c>, as Redis's redisIsSupervised: systemd is sent sd_notify
/// datagrams on NOTIFY_SOCKET (STATUS while loading, READY=1 once serving, STOPPING=1 at shutdown);
/// upstart's "expect stop" is told by the process stopping itself (SIGSTOP) once serving. The datagram
/// is written here rather than through a hosting package, whose systemd support only turns on when
/// its parent process is systemd.
/// </summary>
sealed class Supervision
{
    const string NotifySocketVariable = "NOTIFY_SOCKET";
    const string UpstartJobVariable = "UPSTART_JOB";

    readonly SupervisedMode _mode;
    readonly ILogger _logger;

    Supervision(SupervisedMode mode, bool active, ILogger logger)
    {
        _mode = mode;
        Active = active;
        _logger = logger;
    }

    /// <summary>Supervised by systemd or upstart, whose variable was found: Redis then ignores <c>daemonize</c>.</summary>
    public bool Active { get; }

    /// <summary>Resolves <c>auto</c> from the environment and drops a requested mode whose supervisor is absent (no side effects but the log lines).</summary>
    public static Supervision Resolve(ServerConfig config, ILogger logger)
    {
        var mode = config.Supervised;
        if (mode == SupervisedMode.Auto)
        {
            mode = Environment.GetEnvironmentVariable(UpstartJobVariable) is not null ? SupervisedMode.Upstart
                : Environment.GetEnvironmentVariable(NotifySocketVariable) is not null ? SupervisedMode.Systemd
                : SupervisedMode.No;
            if (mode == SupervisedMode.Upstart) logger.LogDebug("Upstart supervision detected.");
            if (mode == SupervisedMode.Systemd) logger.LogDebug("Systemd supervision detected.");
        }
        switch (mode)
        {
            case SupervisedMode.Upstart when Environment.GetEnvironmentVariable(UpstartJobVariable) is null:
                logger.LogWarning("upstart supervision requested, but UPSTART_JOB not found!");
                return new(SupervisedMode.No, false, logger);
            case SupervisedMode.Upstart:
                logger.LogInformation("supervised by upstart, will stop to signal readiness.");
                return new(mode, true, logger);
            // As Redis 7.0.15: not supervised then, yet each notification is still tried (and warned about).
            case SupervisedMode.Systemd when Environment.GetEnvironmentVariable(NotifySocketVariable) is null:
                logger.LogWarning("systemd supervision error: NOTIFY_SOCKET not found!");
                return new(mode, false, logger);
            case SupervisedMode.Systemd:
                logger.LogInformation("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.");
                return new(mode, true, logger);
            default:
                return new(SupervisedMode.No, false, logger);
        }
    }

    public void Loading() => NotifySystemd("STATUS=Redis is loading...\n");

    public void Ready()
    {
        NotifySystemd("STATUS=Ready to accept connections\n");
        NotifySystemd("READY=1\n");
        if (_mode != SupervisedMode.Upstart) return;
        // Upstart's "expect stop": it resumes us with SIGCONT once it has seen the stop.
        Environment.SetEnvironmentVariable(UpstartJobVariable, null);
        _ = Native.Kill(Environment.ProcessId, Native.SigStop);
    }

    public void Stopping() => NotifySystemd("STOPPING=1\n");

    /// <summary>sd_notify: one datagram per message; an abstract socket is named with a leading '@'.</summary>
    void NotifySystemd(string message)
    {
        if (_mode != SupervisedMode.Systemd) return;
        if (Environment.GetEnvironmentVariable(NotifySocketVariable) is not { Length: > 0 } path)
        {
            _logger.LogWarning("systemd supervision error: NOTIFY_SOCKET not found!");
            return;
        }
        if (path[0] == '@') path = "\0" + path[1..];
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.ASCII.GetBytes(message), new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            _logger.LogWarning("systemd supervision error: sd_notify: {Error}", e.Message);
        }
    }
}
