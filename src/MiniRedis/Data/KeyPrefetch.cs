namespace MiniRedis.Data;

/// <summary>
/// Look-ahead for lookups about to happen: <see cref="Add"/> each key (its bucket starts loading), then
/// <see cref="Start"/> (their entries, then their keys' and string values' bytes start loading, and the next entries of their chains). A lookup
/// of a random key among 100k waits for three or four cache misses one after the other (bucket, entry,
/// key, value): a third of a pipelined SET's or GET's CPU. Announced together, a pipeline's keys miss at
/// once instead. Changes nothing: a key that is not looked up after all, or a table that changed
/// meanwhile, costs only the loads.
/// </summary>
public ref struct KeyPrefetch(Dict table, Span<uint> hashes)
{
    readonly Dict _table = table;
    readonly Span<uint> _hashes = hashes;
    int _count;

    public readonly bool IsFull => _count == _hashes.Length;

    public void Add(ReadOnlySpan<byte> key) => Add(Dict.HashKey(key));

    /// <summary>A key whose hash (<see cref="Dict.HashKey"/>) the caller has already.</summary>
    public void Add(uint hash)
    {
        if (IsFull) return;
        _table.Prefetch(hash, step: 0);
        _hashes[_count++] = hash;
    }

    /// <summary>The later stages, for every key added (each stage reads only what the one before it loaded).</summary>
    public readonly void Start()
    {
        if (_count < 2) return;
        var hashes = _hashes[.._count];
        for (int step = 1; step < Dict.PrefetchSteps; step++)
        {
            foreach (uint hash in hashes) _table.Prefetch(hash, step);
        }
    }
}
