using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>The connected clients, which the root keeps: disconnecting one reaches every service that holds client state.</summary>
public interface IClientRegistry
{
    IReadOnlyCollection<ClientSession> Clients { get; }
    ClientSession? FindClient(long id);
    ClientSession NewSession(IClientConnection connection);
    void Connect(ClientSession session);
    void Disconnect(ClientSession session);
}

/// <summary>Client-side caching around each command: the keys a read-only command read, the invalidations its round sends.</summary>
public interface IClientTracking
{
    /// <summary>Returns the client whose command was running (a script or MULTI resumes inside another), for <see cref="AfterCommand"/>.</summary>
    ClientSession? BeforeCommand(ClientSession client);
    void AfterCommand(ClientSession client, ReadOnlySpan<byte> commandName, ClientSession? previous);
    void RememberKeys(ClientSession executing, CommandDef command, ArgVector args);
    void BroadcastPending();
}

/// <summary>MISCONF: writes refused while the last background save or AOF write failed.</summary>
public interface IDiskWriteGate
{
    string? WriteDeniedError { get; }
}

/// <summary>The replication's refusals: writes on a read-only replica or without enough good replicas, any data on a stale one.</summary>
public interface IReplicationGate
{
    string? WriteDeniedError(ClientSession session);
    bool DeniesStaleData(ClientSession session);
    LazyExpiry LazyExpiryFor(ClientSession session, bool write);
}

/// <summary>A script that ran past busy-reply-threshold: only commands allowed while busy run.</summary>
public interface IBusyScript
{
    bool TimedOut { get; }
    string BusyError { get; }
}

/// <summary>maxmemory before a command: evict what the policy allows, and say whether memory is still over.</summary>
public interface IMemoryGate
{
    bool StillOutOfMemoryBefore(ArgVector args);
    bool OutOfMemoryAtCommandStart { get; }
}

/// <summary>
/// Redis's getCommandFlags for EVAL/EVALSHA/FCALL and their _RO forms: a script or function that
/// declares flags is checked before it runs, or is queued, as a command of those flags.
/// </summary>
public interface IScriptCommandFlags
{
    CommandFlags FlagsOf(CommandDef command, ArgVector args);
}
