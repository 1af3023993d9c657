using System.Buffers.Binary;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MiniRedis.Data;

/// <summary>
/// The keyspace hash table: chained buckets over a power-of-two array, keyed by bytes. It is our
/// own (not Dictionary) because SCAN needs Redis's reverse-binary cursor over buckets, which
/// returns every key present for the whole scan even when the table grows or shrinks between
/// calls, and RANDOMKEY/expiry sampling need random buckets.
///
/// Like Redis's dict, it resizes incrementally: a resize allocates the new bucket array and then
/// every lookup, insert and delete moves one bucket over (plus the cron's 1 ms of
/// <see cref="RehashFor"/>), so growing past a million keys never stops the server for the whole
/// copy. While that runs, keys live in either array; new keys go to the new one.
///
/// Entries do not cache their hash (4 bytes per key): a lookup compares the keys of a chain (about
/// one long), and moving an entry to a new array hashes its key again.
/// </summary>
public sealed class Dict
{
    const int MinBuckets = 16;
    /// <summary>Redis's dictRehash: a step gives up after this many empty buckets, so its cost stays bounded.</summary>
    const int EmptyBucketsPerStep = 10;
    static readonly ulong Seed = (ulong)Random.Shared.NextInt64();

    KeyEntry?[] _buckets = new KeyEntry?[MinBuckets];
    /// <summary>The array being moved into; null when no resize runs.</summary>
    KeyEntry?[]? _rehashTarget;
    /// <summary>Buckets of <see cref="_buckets"/> below this index are already moved (and empty).</summary>
    int _rehashIndex;

    public int Count { get; private set; }
    public int BucketCount => _buckets.Length + (_rehashTarget?.Length ?? 0);
    public bool IsRehashing => _rehashTarget is not null;

    public static uint HashKey(ReadOnlySpan<byte> key)
    {
        const ulong Prime = 0x9E3779B97F4A7C15;
        ulong h = Seed ^ ((ulong)key.Length * Prime);
        while (key.Length >= 8)
        {
            h = BitOperations.RotateLeft((h ^ BinaryPrimitives.ReadUInt64LittleEndian(key)) * Prime, 29);
            key = key[8..];
        }
        ulong tail = 0;
        for (int i = 0; i < key.Length; i++) tail |= (ulong)key[i] << (i * 8);
        h = (h ^ tail) * Prime;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccd;
        h ^= h >> 33;
        return (uint)h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyEntry? Find(ReadOnlySpan<byte> key)
    {
        if (_rehashTarget is not null) RehashStep();
        uint hash = HashKey(key);
        var found = FindIn(_buckets, key, hash);
        return found is null && _rehashTarget is not null ? FindIn(_rehashTarget, key, hash) : found;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static KeyEntry? FindIn(KeyEntry?[] buckets, ReadOnlySpan<byte> key, uint hash)
    {
        for (var e = buckets[hash & (buckets.Length - 1)]; e is not null; e = e.Next)
        {
            if (key.SequenceEqual(e.Key)) return e;
        }
        return null;
    }

    /// <summary>
    /// Starts fetching into the cache what a lookup of a key hashing to <paramref name="hash"/> reads,
    /// one step of its chain at a time: <paramref name="step"/> 0 its bucket (in both arrays during a
    /// resize), 1 the bucket's first entry, 2 that entry's key and, for a string, its value's bytes, and the
    /// second entry of the chain, 3 the second entry's key and value (each step reads only what the one
    /// before fetched; at the table's load of up to 1, about a third of the keys looked up are not first in
    /// their chain, and each of those waited for two misses of its own). Callers run the steps for many keys before looking
    /// any up — a pipelined batch's keys (<see cref="KeyPrefetch"/>), an RDB loader's next keys — so
    /// their cache misses overlap instead of each lookup waiting for its own (a third of a pipelined SET's
    /// CPU, and of a 1M-key RDB load). Only a hint: nothing changes, and a step made stale by a resize
    /// fetches for nothing. Step 0 reads only the arrays (each once), so it may run on a thread other than the
    /// executor role's holder (the event loop as it queues a batch) while the table changes.
    /// </summary>
    public void Prefetch(uint hash, int step)
    {
        var buckets = _buckets;
        ref var slot = ref buckets[hash & (buckets.Length - 1)];
        if (step == 0)
        {
            Data.Prefetch.Bytes(ref Unsafe.As<KeyEntry?, byte>(ref slot));
            if (_rehashTarget is { } target) Data.Prefetch.Bytes(ref Unsafe.As<KeyEntry?, byte>(ref target[hash & (target.Length - 1)]));
            return;
        }
        var head = slot;
        if (head is null) return;
        switch (step)
        {
            case 1:
                Data.Prefetch.Object(head);
                return;
            case 2:
                PrefetchKeyAndValue(head);
                Data.Prefetch.Object(head.Next);
                return;
            default:
                if (head.Next is { } second) PrefetchKeyAndValue(second);
                return;
        }
    }

    /// <summary>The number of <see cref="Prefetch"/>'s steps.</summary>
    public const int PrefetchSteps = 4;

    static void PrefetchKeyAndValue(KeyEntry entry)
    {
        var key = entry.Key;
        if (!key.IsEmpty) Data.Prefetch.Bytes(ref MemoryMarshal.GetReference(key));
        if (entry.Type != RedisType.String) return;
        var value = entry.StringValue;
        if (!value.IsEmpty) Data.Prefetch.Bytes(ref MemoryMarshal.GetReference(value));
    }

    /// <summary>The entry of <paramref name="key"/> (its <paramref name="hash"/> given) without moving a bucket of a resize: a look-ahead changes nothing.</summary>
    public KeyEntry? Peek(ReadOnlySpan<byte> key, uint hash)
        => FindIn(_buckets, key, hash) ?? (_rehashTarget is { } target ? FindIn(target, key, hash) : null);

    /// <summary>Inserts an entry whose key is known to be absent.</summary>
    public void Insert(KeyEntry entry)
    {
        if (_rehashTarget is not null) RehashStep();
        else if (Count >= _buckets.Length) BeginResize(_buckets.Length * 2);
        var buckets = _rehashTarget ?? _buckets;
        ref var head = ref buckets[entry.Hash & (buckets.Length - 1)];
        entry.Next = head;
        head = entry;
        Count++;
    }

    public void Remove(KeyEntry entry)
    {
        if (_rehashTarget is not null) RehashStep();
        uint hash = entry.Hash;
        if (!Unlink(_buckets, entry, hash)) Unlink(_rehashTarget!, entry, hash);
        entry.Next = null;
        Count--;
        // Redis's htNeedsResize: shrink below 1/8 fill, to the smallest power of two that holds every key.
        if (_rehashTarget is null && _buckets.Length > MinBuckets && Count < _buckets.Length / 8)
            BeginResize(Math.Max(MinBuckets, (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(Count, 1))));
    }

    static bool Unlink(KeyEntry?[] buckets, KeyEntry entry, uint hash)
    {
        ref var link = ref buckets[hash & (buckets.Length - 1)];
        while (link is not null && link != entry) link = ref link.Next;
        if (link is null) return false;
        link = entry.Next;
        return true;
    }

    public void Clear()
    {
        _buckets = new KeyEntry?[MinBuckets];
        _rehashTarget = null;
        _rehashIndex = 0;
        Count = 0;
    }

    /// <summary>Makes room for <paramref name="count"/> keys in one go (a loader that knows the size ahead, like Redis's RESIZEDB).</summary>
    public void EnsureCapacity(int count)
    {
        if (count <= BucketCount) return;
        while (_rehashTarget is not null) RehashStep();
        _buckets = ChainedBuckets.Rehash(_buckets, NewBuckets((int)BitOperations.RoundUpToPowerOf2((uint)count)));
    }

    static KeyEntry?[] NewBuckets(int size)
    {
        var buckets = new KeyEntry?[size];
        HugePages.Advise(buckets);
        return buckets;
    }

    void BeginResize(int size)
    {
        _rehashTarget = NewBuckets(size);
        _rehashIndex = 0;
    }

    /// <summary>Moves the next non-empty bucket (visiting at most <see cref="EmptyBucketsPerStep"/> empty ones) into the new array.</summary>
    void RehashStep()
    {
        var target = _rehashTarget!;
        int mask = target.Length - 1;
        for (int empty = 0; _rehashIndex < _buckets.Length; _rehashIndex++)
        {
            var e = _buckets[_rehashIndex];
            if (e is null)
            {
                if (++empty == EmptyBucketsPerStep) return;
                continue;
            }
            _buckets[_rehashIndex++] = null;
            while (e is not null)
            {
                var next = e.Next;
                ref var slot = ref target[e.Hash & mask];
                e.Next = slot;
                slot = e;
                e = next;
            }
            break;
        }
        if (_rehashIndex < _buckets.Length) return;
        _buckets = target;
        _rehashTarget = null;
        _rehashIndex = 0;
    }

    /// <summary>Redis's incrementallyRehash from the cron: moves buckets until the resize ends or the deadline (a Stopwatch timestamp) passes.</summary>
    public void RehashFor(long deadline)
    {
        while (_rehashTarget is not null)
        {
            for (int i = 0; i < 100 && _rehashTarget is not null; i++) RehashStep();
            if (Stopwatch.GetTimestamp() > deadline) return;
        }
    }

    /// <summary>
    /// Visits one bucket (and so every key in it) and returns the next cursor; 0 when done.
    /// The cursor counts with its bits reversed so it stays valid across resizes. During a resize
    /// it visits the bucket of the smaller array and every bucket of the larger one that bucket
    /// expands to, as Redis's dictScan, so no key present for the whole scan is missed.
    /// </summary>
    public ulong Scan<TVisitor>(ulong cursor, ref TVisitor visitor) where TVisitor : struct, IEntryVisitor
    {
        if (_rehashTarget is null)
        {
            ulong mask = (ulong)_buckets.Length - 1;
            VisitChain(_buckets[cursor & mask], ref visitor);
            return NextScanCursor(cursor, mask);
        }
        var (small, large) = _buckets.Length <= _rehashTarget.Length ? (_buckets, _rehashTarget) : (_rehashTarget, _buckets);
        ulong smallMask = (ulong)small.Length - 1, largeMask = (ulong)large.Length - 1;
        VisitChain(small[cursor & smallMask], ref visitor);
        do
        {
            VisitChain(large[cursor & largeMask], ref visitor);
            cursor = NextScanCursor(cursor, largeMask);
        }
        while ((cursor & (smallMask ^ largeMask)) != 0);
        return cursor;
    }

    /// <summary>
    /// For a walk over every key in memory order (a snapshot's, which takes each key once and so
    /// tolerates seeing one again): the bucket array to walk after <paramref name="walked"/> (null to
    /// start), or null when every key present throughout has been seen. Keys only move from the array
    /// being resized into its target, so after the first array comes the target. An array retired
    /// meanwhile (its resize ended) may have lost unwalked keys anywhere in the live ones:
    /// <paramref name="retired"/> is then set and the walk must finish with <see cref="Scan"/>, whose
    /// cursor survives any number of resizes (restarting in memory order could go on for ever while
    /// keys are added as fast as they are walked).
    /// </summary>
    internal KeyEntry?[]? ArrayAfter(KeyEntry?[]? walked, out bool retired)
    {
        retired = walked is not null && walked != _buckets && walked != _rehashTarget;
        if (walked is null) return _buckets;
        return walked == _buckets ? _rehashTarget : null;
    }

    /// <summary>
    /// Visits every chain of buckets [<paramref name="start"/>, <paramref name="end"/>) of one of the
    /// table's arrays (<see cref="ArrayAfter"/>). The heads are prefetched first, then their values,
    /// so the cache misses of a few dozen keys overlap instead of coming one after another.
    /// </summary>
    internal static void VisitBuckets<TVisitor>(KeyEntry?[] array, int start, int end, ref TVisitor visitor) where TVisitor : struct, IEntryVisitor
    {
        for (int i = start; i < end; i++) Data.Prefetch.Object(array[i]);
        for (int i = start; i < end; i++) array[i]?.PrefetchValue();
        for (int i = start; i < end; i++) VisitChain(array[i], ref visitor);
    }

    static void VisitChain<TVisitor>(KeyEntry? e, ref TVisitor visitor) where TVisitor : struct, IEntryVisitor
    {
        for (; e is not null; e = e.Next) visitor.Visit(e);
    }

    /// <summary>The cursor after bucket <paramref name="cursor"/> of a table with this bucket mask (also used by <see cref="FieldTable"/>).</summary>
    internal static ulong NextScanCursor(ulong cursor, ulong mask)
    {
        cursor |= ~mask;
        cursor = ReverseBits(cursor);
        cursor++;
        return ReverseBits(cursor);
    }

    static ulong ReverseBits(ulong v)
    {
        v = ((v >> 1) & 0x5555555555555555) | ((v & 0x5555555555555555) << 1);
        v = ((v >> 2) & 0x3333333333333333) | ((v & 0x3333333333333333) << 2);
        v = ((v >> 4) & 0x0F0F0F0F0F0F0F0F) | ((v & 0x0F0F0F0F0F0F0F0F) << 4);
        return BinaryPrimitives.ReverseEndianness(v);
    }

    /// <summary>A key chosen with roughly uniform probability: a random bucket not yet moved, of either array during a resize.</summary>
    public KeyEntry? RandomEntry()
    {
        if (Count == 0) return null;
        if (_rehashTarget is null) return ChainedBuckets.RandomNode(_buckets);
        RehashStep();
        if (_rehashTarget is null) return ChainedBuckets.RandomNode(_buckets);
        KeyEntry? head;
        do
        {
            int index = Random.Shared.Next(_rehashIndex, _buckets.Length + _rehashTarget.Length);
            head = index < _buckets.Length ? _buckets[index] : _rehashTarget[index - _buckets.Length];
        }
        while (head is null);
        return ChainedBuckets.RandomInChain(head);
    }

    /// <summary>Walks every entry (both arrays during a resize); the table must not change meanwhile.</summary>
    public ChainedBuckets.Enumerator<KeyEntry> GetEnumerator() => new(_buckets, _rehashTarget);
}

public interface IEntryVisitor
{
    void Visit(KeyEntry entry);
}
