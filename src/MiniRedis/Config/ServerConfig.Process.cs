namespace MiniRedis.Config;

/// <summary>The <c>supervised</c> directive: who to tell that the server is ready (Redis's supervised_mode).</summary>
public enum SupervisedMode { No, Upstart, Systemd, Auto }

/// <summary>The <c>syslog-facility</c> directive, with syslog(3)'s facility codes.</summary>
public enum SyslogFacility { User = 1, Local0 = 16, Local1, Local2, Local3, Local4, Local5, Local6, Local7 }

/// <summary>How the process runs and reports: daemonizing, supervision, the Unix socket, syslog.</summary>
public sealed partial class ServerConfig
{
    /// <summary>Redis's CONFIG_DEFAULT_PID_FILE, written when daemonized without a pidfile.</summary>
    public const string DefaultDaemonPidFile = "/var/run/redis.pid";

    private const int MaxUnixSocketPermissions = 0b111_111_111;

    public bool Daemonize { get; private set; }

    public SupervisedMode Supervised { get; private set; }

    /// <summary>Path of the Unix socket to listen on as well (relative to <see cref="Dir"/>), or null for none.</summary>
    public string? UnixSocket { get; private set; }

    /// <summary>Permission bits given to the Unix socket file; 0 leaves the umask's.</summary>
    public int UnixSocketPerm { get; private set; }

    public bool SyslogEnabled { get; private set; }

    public string SyslogIdent { get; private set; } = "";

    public SyslogFacility SyslogFacility { get; private set; }

    // Properties, not fields: the directive table in another part of this class reads them while it
    // is initialized, and static field initializers run in no defined order across partial files.
    private static (string, SupervisedMode)[] SupervisedModes =>
        [("upstart", SupervisedMode.Upstart), ("systemd", SupervisedMode.Systemd), ("auto", SupervisedMode.Auto), ("no", SupervisedMode.No)];

    private static (string, SyslogFacility)[] SyslogFacilities =>
        [("user", SyslogFacility.User), ("local0", SyslogFacility.Local0), ("local1", SyslogFacility.Local1),
         ("local2", SyslogFacility.Local2), ("local3", SyslogFacility.Local3), ("local4", SyslogFacility.Local4),
         ("local5", SyslogFacility.Local5), ("local6", SyslogFacility.Local6), ("local7", SyslogFacility.Local7)];

    /// <summary>Redis's only octal directive: read and shown in octal, range checked in octal.</summary>
    private string? SetUnixSocketPerm(string text)
    {
        int value = 0;
        foreach (char digit in text)
        {
            if (digit is < '0' or > '7' || value > MaxUnixSocketPermissions)
                return "argument couldn't be parsed as an octal number";
            value = value * 8 + (digit - '0');
        }
        if (text.Length == 0)
            return "argument couldn't be parsed as an octal number";
        if (value > MaxUnixSocketPermissions)
            return "argument must be between 0 and 777 inclusive";
        UnixSocketPerm = value;
        return null;
    }
}
