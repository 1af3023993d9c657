using System.Numerics;

namespace MiniRedis.Data;

/// <summary>
/// What Redis 7.0 would allocate for a key and its value, so used_memory, MEMORY USAGE and maxmemory
/// see the same figures Redis's allocator accounting does for the same data. It follows Redis's
/// layouts (robj, sds headers, dict entries and buckets, listpacks, quicklist nodes, skiplist nodes)
/// rounded up to jemalloc's size classes, as objectComputeSize does with zmalloc_size. The .NET
/// objects behind a value differ; the managed heap is reported beside it in INFO memory.
/// </summary>
public static class AllocationModel
{
    /// <summary>sizeof(robj).</summary>
    public const int ObjectHeader = 16;

    /// <summary>sizeof(dictEntry): one per key, one more per key with a TTL, one per hashtable element.</summary>
    public const int DictEntry = 24;

    /// <summary>sizeof(dict) in 7.0.</summary>
    const int DictHeader = 56;

    const int QuicklistHeader = 40;
    const int QuicklistNode = 40;
    const int ListpackHeader = 7;

    /// <summary>A quicklist node's listpack holds up to 8 KB (list-max-listpack-size -2, the default).</summary>
    const int QuicklistNodeBytes = 8192;

    const int ZsetHeader = 16;
    const int SkiplistHeader = 32;

    /// <summary>zmalloc_size of the skiplist's header node (32 levels).</summary>
    const int SkiplistHeaderNode = 640;

    /// <summary>A skiplist node's mean allocation: 24 bytes plus 16 per level, 1.33 levels on average, in jemalloc's classes.</summary>
    const int SkiplistNode = 52;

    /// <summary>jemalloc's size class for an allocation of <paramref name="size"/> bytes (8, 16, then 16-byte steps to 128, then four classes per doubling).</summary>
    public static long SizeClass(long size)
    {
        if (size <= 8) return 8;
        if (size <= 128) return (size + 15) & ~15L;
        long step = (long)BitOperations.RoundUpToPowerOf2((ulong)size) / 8;
        // step is a power of two: rounding up to a multiple of it is a mask, not a division.
        return (size + step - 1) & -step;
    }

    /// <summary>sdsZmallocSize of a new sds string of <paramref name="length"/> bytes: header by type, data, NUL.</summary>
    public static long Sds(long length) => SizeClass(SdsHeader(length) + length + 1);

    static int SdsHeader(long length) => length switch
    {
        < 32 => 1,
        < 256 => 3,
        < 65536 => 5,
        <= uint.MaxValue => 9,
        _ => 17,
    };

    /// <summary>A dict's own allocations: the struct and its bucket array.</summary>
    public static long DictTable(long buckets) => DictHeader + buckets * 8;

    /// <summary>Redis's dict bucket count for <paramref name="count"/> elements: a power of two, at least 4.</summary>
    public static long DictBuckets(long count) => count <= 4 ? 4 : (long)BitOperations.RoundUpToPowerOf2((ulong)count);

    /// <summary>The key's share of the main dict: its sds and its dictEntry (MEMORY USAGE counts these too).</summary>
    public static long Key(KeyEntry entry) => Sds(entry.Key.Length) + DictEntry;

    /// <summary>
    /// What a key costs in used_memory: key, value, and the expires dict's entry when it has a TTL, the
    /// dict entries at their allocated size (MEMORY USAGE counts sizeof, as Redis does).
    /// </summary>
    public static long Entry(KeyEntry entry) =>
        Sds(entry.Key.Length) + AllocatedDictEntry + Value(entry) + (entry.ExpireAt != 0 ? AllocatedDictEntry : 0);

    /// <summary>A dictEntry as jemalloc hands it out.</summary>
    const int AllocatedDictEntry = 32;

    /// <summary>objectComputeSize for the value, from figures the value types keep up to date (no walk over elements).</summary>
    /// <remarks>The sealed types first: each test is one compare, where byte[]'s goes through the runtime's cast helper (arrays are covariant).</remarks>
    public static long Value(KeyEntry entry) => entry.Type == RedisType.String ? String(entry.StringValue.Length, entry.Encoding) : entry.Value switch
    {
        ListValue list => ObjectHeader + Quicklist(list.EntryBytes),
        FieldTable table => ObjectHeader + DictTable(table.BucketCount) + table.StringBytes + (long)table.Count * DictEntry,
        SortedSetValue zset => ObjectHeader + SortedSet(zset),
        StreamValue stream => ObjectHeader + Stream(stream),
        byte[] compact => ObjectHeader + SizeClass(compact.Length),
        _ => ObjectHeader,
    };

    /// <summary>
    /// Redis's stream struct and rax, the listpacks, and per node the rax nodes of its 16-byte key and
    /// jemalloc's rounding of the listpack (estimates); groups: a pending entry is a NACK in two raxes.
    /// </summary>
    static long Stream(StreamValue stream)
    {
        const int StreamHeader = 80 + 32, PerNode = 96, PerPending = 112, PerGroupOrConsumer = 96;
        long bytes = StreamHeader + stream.NodeBytes + (long)stream.Nodes.Count * PerNode;
        if (stream.Groups is not { } groups) return bytes;
        // By index: runs after every command on a stream key, and an interface's enumerator would be an allocation.
        for (int i = 0; i < groups.Count; i++)
            bytes += PerGroupOrConsumer * (1 + groups[i].Consumers.Count) + (long)groups[i].Pending.Count * PerPending;
        return bytes;
    }

    static long String(int length, ObjectEncoding encoding) => encoding switch
    {
        ObjectEncoding.Int => ObjectHeader,
        // robj, sdshdr8 and the bytes in one allocation.
        ObjectEncoding.Embstr => SizeClass(ObjectHeader + 3 + length + 1),
        _ => ObjectHeader + Sds(length),
    };

    /// <summary>A quicklist whose listpack entries take <paramref name="entryBytes"/>, split into full 8 KB nodes.</summary>
    static long Quicklist(long entryBytes)
    {
        long nodes = Math.Max(1, (entryBytes + QuicklistNodeBytes - ListpackHeader - 1) / (QuicklistNodeBytes - ListpackHeader));
        return QuicklistHeader + nodes * (QuicklistNode + SizeClass(entryBytes / nodes + ListpackHeader));
    }

    static long SortedSet(SortedSetValue zset) => zset.Encoding == ObjectEncoding.Listpack
        ? SizeClass(ListpackHeader + zset.ElementBytes)
        : ZsetHeader + SkiplistHeader + DictTable(DictBuckets(zset.Count)) + SkiplistHeaderNode
          + zset.ElementBytes + zset.Count * (DictEntry + SkiplistNode);
}
