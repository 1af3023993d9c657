
namespace MiniRedis.Data;

/// <summary>Redis's maxmemory-policy values: which keys are candidates, and how they are ranked.</summary>
public enum MaxmemoryPolicy : byte
{
    NoEviction,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

/// <summary>
/// Redis's access tracking in each key's 24-bit lru field (<see cref="KeyEntry.LastAccess"/>), as
/// evict.c keeps it: the LRU clock in seconds, or under an LFU policy the last decrement time in
/// minutes (16 bits) and an 8-bit logarithmic counter that rises with probability 1/((c-5)*factor+1)
/// and falls by one every lfu-decay-time minutes. No object per key beyond the entry itself.
/// </summary>
public sealed class KeyAccess
{
    public const uint LruClockMax = (1 << 24) - 1;

    /// <summary>LFU_INIT_VAL: a new key starts here so it is not evicted before it had a chance to be used.</summary>
    public const int LfuInitialCounter = 5;

    public MaxmemoryPolicy Policy { get; set; }
    public int LfuLogFactor { get; set; } = 10;
    public int LfuDecayTime { get; set; } = 1;

    public bool Lfu => Policy is MaxmemoryPolicy.AllkeysLfu or MaxmemoryPolicy.VolatileLfu;

    /// <summary>LRU_CLOCK(): seconds, 24 bits.</summary>
    public static uint LruClock(long nowMs) => (uint)(nowMs / 1000) & LruClockMax;

    static uint Minutes(long nowMs) => (uint)(nowMs / 60000) & 65535;

    /// <summary>The lru field of a new object (createObject).</summary>
    public uint NewStamp(long nowMs) => Lfu ? Minutes(nowMs) << 8 | LfuInitialCounter : LruClock(nowMs);

    /// <summary>
    /// RESTORE's IDLETIME and FREQ (Redis's objectSetLRUOrLFU): under an LFU policy a given frequency
    /// becomes the counter, otherwise a given idle time (seconds) backdates the LRU clock; the other is
    /// ignored. Negative means not given.
    /// </summary>
    public void SetIdleOrFrequency(KeyEntry entry, long frequency, long idleSeconds, long nowMs)
    {
        if (Lfu)
        {
            if (frequency >= 0) entry.LastAccess = Minutes(nowMs) << 8 | (uint)frequency;
            return;
        }
        if (idleSeconds < 0) return;
        // Before the clock's zero, Redis 7.0 adds the clock's maximum once and keeps the low 24 bits.
        long stamp = LruClock(nowMs) - idleSeconds;
        if (stamp < 0) stamp += LruClockMax;
        entry.LastAccess = (uint)(stamp & LruClockMax);
    }

    /// <summary>A lookup's touch (lookupKey): LRU takes the clock, LFU decays then maybe increments the counter.</summary>
    public void Touch(KeyEntry entry, long nowMs)
    {
        if (!Lfu)
        {
            entry.LastAccess = LruClock(nowMs);
            return;
        }
        uint counter = DecayedCounter(entry.LastAccess, nowMs);
        if (counter < 255)
        {
            double baseValue = Math.Max(0, (int)counter - LfuInitialCounter);
            if (Random.Shared.NextDouble() < 1.0 / (baseValue * LfuLogFactor + 1)) counter++;
        }
        entry.LastAccess = Minutes(nowMs) << 8 | counter;
    }

    /// <summary>LFUDecrAndReturn: the counter less one per lfu-decay-time minutes since its last decrement.</summary>
    public uint DecayedCounter(uint stamp, long nowMs)
    {
        uint last = stamp >> 8, counter = stamp & 255, now = Minutes(nowMs);
        uint elapsed = now >= last ? now - last : 65535 - last + now;
        uint periods = LfuDecayTime > 0 ? elapsed / (uint)LfuDecayTime : 0;
        return periods > counter ? 0 : counter - periods;
    }

    /// <summary>estimateObjectIdleTime in milliseconds, the 24-bit clock wrapping.</summary>
    public static long IdleMs(uint stamp, long nowMs)
    {
        uint clock = LruClock(nowMs), lru = stamp & LruClockMax;
        return (clock >= lru ? clock - lru : LruClockMax - lru + clock) * 1000L;
    }
}
