using Microsoft.Extensions.Logging;

namespace MiniRedis;

/// <summary>The status lines Redis's serverCron writes every 5 seconds at loglevel verbose and debug.</summary>
public sealed partial class RedisServer
{
    const int StatusLogPeriodSeconds = 5;
    int _secondsUntilStatusLog = StatusLogPeriodSeconds;

    /// <summary>Called by the once-a-second cron.</summary>
    void LogStatusPeriodically()
    {
        if (--_secondsUntilStatusLog > 0) return;
        _secondsUntilStatusLog = StatusLogPeriodSeconds;
        // Verbose is Debug here, debug is Trace (RedisLoggerProvider's mapping).
        if (Logger.IsEnabled(LogLevel.Debug))
        {
            for (int i = 0; i < Keyspace.Count; i++)
            {
                var db = Keyspace[i];
                if (db.Count > 0 || db.ExpiresCount > 0)
                    Logger.LogDebug("DB {Db}: {Keys} keys ({Volatile} volatile) in {Slots} slots HT.", i, db.Count, db.ExpiresCount, db.Table.BucketCount);
            }
        }
        if (Logger.IsEnabled(LogLevel.Trace))
            Logger.LogTrace("{Clients} clients connected (0 replicas), {Bytes} bytes in use", _clients.Count, Memory.Used);
    }
}
