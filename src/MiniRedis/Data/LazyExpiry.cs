namespace MiniRedis.Data;

/// <summary>
/// How a lookup treats a key whose TTL has passed (Redis's expireIfNeeded). A master deletes it (and
/// propagates the DEL). A replica leaves its keys to its master's DELs, so that both apply the same
/// commands to the same keys: its own clients find such a key missing, its master's commands find it alive.
/// </summary>
public enum LazyExpiry : byte
{
    Delete,
    Hide,
    KeepAlive,
}
