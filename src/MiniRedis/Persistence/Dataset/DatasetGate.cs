using Microsoft.Extensions.Logging;

namespace MiniRedis.Persistence.Dataset;

/// <summary>
/// The one question every writer of dump.rdb and the AOF asks before writing the dataset: is the
/// keyspace the complete one (<see cref="Data.Keyspace.Complete"/>)? During a load, or after one
/// that failed, it holds part of the files' data or none, and writing it would replace the files
/// it came from. Redis exits on a failed load and never saves while loading; we also stay up
/// after a failed DEBUG RELOAD, so every writer refuses instead.
/// </summary>
public static class DatasetGate
{
    /// <summary>The reply of BGSAVE and BGREWRITEAOF when the gate is closed.</summary>
    public const string RefusedError = "ERR The dataset in memory is incomplete (a load failed or is still running), so it is not written to disk. Check logs.";

    /// <summary>Whether <paramref name="writer"/> may write the dataset; a refusal is logged.</summary>
    public static bool Allows(PersistenceHost server, string writer)
    {
        if (server.Keyspace.Complete) return true;
        server.Logger.LogWarning("{Writer} refused: the dataset in memory is not the complete one (a load failed or is still running), so it is not written over the files it came from.", writer);
        return false;
    }
}
