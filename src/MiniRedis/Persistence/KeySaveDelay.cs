namespace MiniRedis.Persistence;

/// <summary>
/// Redis's debugDelay for <c>rdb-key-save-delay</c>, its testing aid that slows a background save or
/// AOF rewrite after each key: a positive value waits that many µs (here rounded up to whole ms); a
/// negative one waits 1 µs once every |value| keys on average. Read per key: CONFIG SET applies at once.
/// </summary>
static class KeySaveDelay
{
    /// <summary>How long the writer waits after a key; zero for none.</summary>
    public static TimeSpan After(int micros)
    {
        if (micros < 0) micros = Random.Shared.NextInt64(-(long)micros) == 0 ? 1 : 0;
        return micros > 0 ? TimeSpan.FromMilliseconds(Math.Ceiling(micros / 1000.0)) : TimeSpan.Zero;
    }
}
