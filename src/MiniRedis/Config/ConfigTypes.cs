namespace MiniRedis.Config;

/// <summary>The <c>loglevel</c> directive.</summary>
public enum ServerLogLevel { Debug, Verbose, Notice, Warning }

/// <summary>The <c>appendfsync</c> directive.</summary>
public enum AppendFsyncPolicy { EverySec, Always, No }

/// <summary>
/// Redis's protected_action_enum: who may CONFIG SET protected directives (<c>enable-protected-configs</c>),
/// run DEBUG (<c>enable-debug-command</c>) or load modules (<c>enable-module-command</c>).
/// </summary>
public enum ProtectedAction { No, Yes, Local }

/// <summary>One <c>save &lt;seconds&gt; &lt;changes&gt;</c> snapshot rule.</summary>
public readonly record struct SaveRule(long Seconds, long Changes);

/// <summary>
/// One class of <c>client-output-buffer-limit</c>: a client whose pending output reaches
/// <see cref="Hard"/> bytes, or stays at or over <see cref="Soft"/> bytes for more than
/// <see cref="SoftSeconds"/>, is closed (0 disables a limit).
/// </summary>
public readonly record struct OutputBufferLimit(long Hard, long Soft, long SoftSeconds);

/// <summary>How a directive's value is written and checked.</summary>
public enum ConfigKind { Bool, Integer, Memory, Enum, String, Special }

[Flags]
public enum ConfigFlags
{
    None = 0,
    /// <summary>Only settable from the config file or command line, not by CONFIG SET.</summary>
    Immutable = 1,
    /// <summary>CONFIG SET needs <c>enable-protected-configs</c> to allow the client.</summary>
    Protected = 2,
    /// <summary>Takes any number of arguments; CONFIG SET splits its value on spaces.</summary>
    MultiArg = 4,
    /// <summary>Left out of CONFIG GET patterns (a testing or debugging knob); an exact name still finds it.</summary>
    Hidden = 8,
    /// <summary>Redis's VOLATILE_CONFIG: applied on every CONFIG SET, even to the same value (a file to reread).</summary>
    Volatile = 16,
}

/// <summary>
/// A configuration error that stops the server from starting. <see cref="Exception.Message"/> is the
/// complete text to write to stderr, in redis-server's exact format; the host then exits with status 1.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message) : base(message) { }

    public ConfigException() { }

    public ConfigException(string message, Exception innerException) : base(message, innerException) { }
}
