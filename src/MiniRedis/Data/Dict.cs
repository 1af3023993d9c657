using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace MiniRedis.Data;

/// <summary>
/// The keyspace hash table: chained buckets over a power-of-two array, keyed by bytes. It is our
/// own (not Dictionary) because SCAN needs Redis's reverse-binary cursor over buckets, which
/// returns every key present for the whole scan even when the table grows or shrinks between
/// calls, and RANDOMKEY/expiry sampling need random buckets.
/// </summary>
public sealed class Dict
{
    const int MinBuckets = 16;
    static readonly ulong Seed = (ulong)Random.Shared.NextInt64();

    KeyEntry?[] _buckets = new KeyEntry?[MinBuckets];

    public int Count { get; private set; }
    public int BucketCount => _buckets.Length;

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
        uint hash = HashKey(key);
        for (var e = _buckets[hash & (_buckets.Length - 1)]; e is not null; e = e.Next)
        {
            if (e.Hash == hash && key.SequenceEqual(e.Key)) return e;
        }
        return null;
    }

    /// <summary>Inserts an entry whose key is known to be absent.</summary>
    public void Insert(KeyEntry entry)
    {
        if (Count >= _buckets.Length) Resize(_buckets.Length * 2);
        ref var head = ref _buckets[entry.Hash & (_buckets.Length - 1)];
        entry.Next = head;
        head = entry;
        Count++;
    }

    public void Remove(KeyEntry entry)
    {
        ref var link = ref _buckets[entry.Hash & (_buckets.Length - 1)];
        while (link != entry) link = ref link!.Next;
        link = entry.Next;
        entry.Next = null;
        Count--;
        if (_buckets.Length > MinBuckets && Count < _buckets.Length / 8) Resize(_buckets.Length / 2);
    }

    public void Clear()
    {
        _buckets = new KeyEntry?[MinBuckets];
        Count = 0;
    }

    void Resize(int size) => _buckets = ChainedBuckets.Rehash(_buckets, size);

    /// <summary>
    /// Visits one bucket (and so every key in it) and returns the next cursor; 0 when done.
    /// The cursor counts with its bits reversed so it stays valid across resizes.
    /// </summary>
    public ulong Scan<TVisitor>(ulong cursor, ref TVisitor visitor) where TVisitor : struct, IEntryVisitor
    {
        ulong mask = (ulong)_buckets.Length - 1;
        for (var e = _buckets[cursor & mask]; e is not null; e = e.Next) visitor.Visit(e);
        return NextScanCursor(cursor, mask);
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

    /// <summary>A key chosen with roughly uniform probability.</summary>
    public KeyEntry? RandomEntry() => Count == 0 ? null : ChainedBuckets.RandomNode(_buckets);

    public ChainedBuckets.Enumerator<KeyEntry> GetEnumerator() => new(_buckets);
}

public interface IEntryVisitor
{
    void Visit(KeyEntry entry);
}
