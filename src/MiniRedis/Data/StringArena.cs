namespace MiniRedis.Data;

/// <summary>
/// Where the keyspace keeps short string values (Redis's embstr sizes, up to
/// <see cref="KeyEntry.InlineLimit"/> bytes): slots in 1 MB arrays allocated once, addressed by a
/// 32-bit handle, with a free list per 8-byte size class, as jemalloc serves small sizes. The arrays
/// hold no references, so the GC never scans them, and a SET that replaces a value takes a slot from
/// the free list instead of allocating: 1M SETs over 1M keys cause no collection (issue 18; with an
/// array per value every SET made a young object referenced from the old generation, and each young
/// collection copied all of them and scanned the cards of most entries: 50-250 ms pauses).
/// One arena for the process: every server in it (tests run several) allocates under a lock, which
/// the executor thread never contends for in a server process.
/// </summary>
static class StringArena
{
    /// <summary>A handle is the chunk's index above <see cref="SlotBits"/> and the slot's offset in 8-byte units below (32 GB in all).</summary>
    const int ChunkBits = 20, ChunkSize = 1 << ChunkBits, SlotBits = ChunkBits - 3;
    const int Classes = (KeyEntry.InlineLimit + 7) / 8;

    static readonly Lock s_lock = new();
    static byte[][] s_chunks = new byte[16][];
    static int s_chunkCount;

    /// <summary>Per size class: the freed slots, and the unused rest of its newest chunk.</summary>
    static readonly uint[][] s_free = [.. Enumerable.Range(0, Classes).Select(_ => new uint[64])];
    static readonly int[] s_freeCount = new int[Classes];
    static readonly uint[] s_next = new uint[Classes];
    static readonly uint[] s_end = new uint[Classes];

    /// <summary>How often the arena allocated (a chunk, a longer free list): a test tells its own allocations from the arena's.</summary>
    internal static int Growths => Volatile.Read(ref s_growths);
    static int s_growths;

    /// <summary>The size class of a non-empty value: 1-8 bytes, 9-16, ...; the empty string has no slot (-1).</summary>
    static int ClassOf(int length) => (length - 1) >> 3;

    /// <summary>Whether values of these lengths share a slot size (a value may then replace the other in place).</summary>
    public static bool SameClass(int length, int other) => ClassOf(length) == ClassOf(other);

    /// <summary>A slot for a value of 1 to <see cref="KeyEntry.InlineLimit"/> bytes.</summary>
    public static uint Allocate(int length)
    {
        int c = ClassOf(length);
        lock (s_lock)
        {
            if (s_freeCount[c] > 0) return s_free[c][--s_freeCount[c]];
            if (s_next[c] == s_end[c]) NewChunk(c);
            uint handle = s_next[c];
            s_next[c] += (uint)(c + 1);
            return handle;
        }
    }

    static void NewChunk(int c)
    {
        if (s_chunkCount == s_chunks.Length) Array.Resize(ref s_chunks, s_chunkCount * 2);
        if (s_chunkCount == 1 << (32 - SlotBits)) throw new InvalidOperationException("the string arena is full");
        // Uninitialized: every slot is written before it is read.
        s_chunks[s_chunkCount] = GC.AllocateUninitializedArray<byte>(ChunkSize);
        uint first = (uint)s_chunkCount << SlotBits;
        int slotUnits = c + 1;
        s_next[c] = first;
        s_end[c] = first + (uint)((ChunkSize / 8) / slotUnits * slotUnits);
        s_chunkCount++;
        s_growths++;
    }

    /// <summary>Returns the slot of a value of <paramref name="length"/> bytes (its size class) for reuse.</summary>
    public static void Free(uint handle, int length)
    {
        int c = ClassOf(length);
        lock (s_lock)
        {
            if (s_freeCount[c] == s_free[c].Length)
            {
                Array.Resize(ref s_free[c], s_freeCount[c] * 2);
                s_growths++;
            }
            s_free[c][s_freeCount[c]++] = handle;
        }
    }

    public static Span<byte> Slot(uint handle, int length) =>
        s_chunks[handle >> SlotBits].AsSpan((int)(handle & ((1u << SlotBits) - 1)) << 3, length);
}
