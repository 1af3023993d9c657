using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MiniRedis.Data;

/// <summary>
/// Where the keyspace keeps string values of up to <see cref="LongestValue"/> bytes: slots in 1 MB
/// chunks allocated once, addressed by a 32-bit handle, with a free list per size class, as jemalloc
/// serves small sizes (classes 8 bytes apart up to 128, then four per doubling up to 4 KB). The chunks
/// are native memory, outside the GC's heap: the GC neither scans nor counts them, so 20 MB of a
/// cache's values are no large-object allocations that start full collections while the cache fills,
/// and the heap the GC sizes its generations and regions by is only the objects (issue 13: the
/// cache workload's RSS followed when those collections happened). A SET that replaces a value takes a slot from
/// the free list instead of allocating: 1M SETs over 1M keys cause no collection (issue 18; with an
/// array per value every SET made a young object referenced from the old generation, and each young
/// collection copied all of them and scanned the cards of most entries: 50-250 ms pauses), and under
/// eviction the evicted key's slot is the next SET's, so the heap stays at the live data's size
/// instead of filling with dead values between compactions (issue 13's cache workload).
/// A slot holds a key's bytes and its string value after them (<see cref="KeyEntry"/>: one slot, one
/// rounding to a size class, one cache line to read first), or either alone. A value shorter than
/// <see cref="PrefixedLength"/> has its length in the key's entry (one byte); a longer one carries it
/// in two bytes before its own.
/// One arena for the process: every server in it (tests run several) allocates under a lock, which
/// the executor thread never contends for in a server process.
/// </summary>
static unsafe class StringArena
{
    /// <summary>A handle is the chunk's index above <see cref="SlotBits"/> and the slot's offset in 8-byte units below (32 GB in all).</summary>
    const int ChunkBits = 20, ChunkSize = 1 << ChunkBits, SlotBits = ChunkBits - 3;
    const int LengthPrefix = 2;

    /// <summary>The largest slot: what a key and its value in one slot (<see cref="Stored"/>) may take together.</summary>
    public const int LargestSlot = 4096;

    /// <summary>The longest value the arena keeps (alone in its slot).</summary>
    public const int LongestValue = LargestSlot - LengthPrefix;

    /// <summary>The length code of a value whose length is in its slot (see <see cref="CodeOf"/>).</summary>
    public const byte PrefixedLength = byte.MaxValue;

    /// <summary>Slot sizes per class, and the class of each size in 8-byte units.</summary>
    static readonly int[] s_slotSizes = SlotSizes();
    static readonly byte[] s_classOfUnits = ClassesByUnits();
    static int Classes => s_slotSizes.Length;

    static readonly Lock s_lock = new();
    /// <summary>The chunks' addresses: native memory, outside the GC's heap (see the class comment).</summary>
    static nint[] s_chunks = new nint[16];
    static int s_chunkCount;

    /// <summary>Per size class: the freed slots, and the unused rest of its newest chunk.</summary>
    static readonly uint[][] s_free = [.. Enumerable.Range(0, Classes).Select(_ => new uint[64])];
    static readonly int[] s_freeCount = new int[Classes];
    static readonly uint[] s_next = new uint[Classes];
    static readonly uint[] s_end = new uint[Classes];

    /// <summary>How often the arena allocated (a chunk, a longer free list): a test tells its own allocations from the arena's.</summary>
    internal static int Growths => Volatile.Read(ref s_growths);
    static int s_growths;

    static int[] SlotSizes()
    {
        var sizes = new List<int>();
        for (int size = 8; size <= 128; size += 8) sizes.Add(size);
        for (int group = 128; group < LargestSlot; group *= 2)
        {
            for (int step = 1; step <= 4; step++) sizes.Add(group + step * group / 4);
        }
        return [.. sizes];
    }

    static byte[] ClassesByUnits()
    {
        var classes = new byte[LargestSlot / 8 + 1];
        int c = 0;
        for (int units = 1; units < classes.Length; units++)
        {
            if (units * 8 > s_slotSizes[c]) c++;
            classes[units] = (byte)c;
        }
        return classes;
    }

    /// <summary>What the entry keeps of a value's length: the length itself, or <see cref="PrefixedLength"/>.</summary>
    public static byte CodeOf(int length) => length < PrefixedLength ? (byte)length : PrefixedLength;

    /// <summary>The bytes a value of <paramref name="length"/> takes in a slot: its own and, when long, its length prefix.</summary>
    public static int Stored(int length) => length < PrefixedLength ? length : length + LengthPrefix;

    /// <summary>Whether a slot holds this many bytes (1 to <see cref="LargestSlot"/>; 0 needs no slot).</summary>
    public static bool Fits(int bytes) => bytes <= LargestSlot;

    /// <summary>The size class of a slot holding 1 to <see cref="LargestSlot"/> bytes.</summary>
    static int ClassOf(int bytes) => s_classOfUnits[(bytes + 7) >> 3];

    /// <summary>Whether slots of these byte counts are of one size class (the contents of one may then replace the other's in place).</summary>
    public static bool SameClass(int bytes, int other) => bytes > 0 && other > 0 && ClassOf(bytes) == ClassOf(other);

    /// <summary>A slot for 1 to <see cref="LargestSlot"/> bytes (a key and a value's <see cref="Stored"/> bytes); <see cref="Write"/> fills it.</summary>
    public static uint Allocate(int bytes)
    {
        int c = ClassOf(bytes);
        lock (s_lock)
        {
            if (s_freeCount[c] > 0) return s_free[c][--s_freeCount[c]];
            if (s_next[c] == s_end[c]) NewChunk(c);
            uint handle = s_next[c];
            s_next[c] += (uint)(s_slotSizes[c] >> 3);
            return handle;
        }
    }

    static void NewChunk(int c)
    {
        if (s_chunkCount == s_chunks.Length) Array.Resize(ref s_chunks, s_chunkCount * 2);
        if (s_chunkCount == 1 << (32 - SlotBits)) throw new InvalidOperationException("the string arena is full");
        // Never freed (slots are reused), and never read before written: pages not yet written stay untouched.
        s_chunks[s_chunkCount] = (nint)NativeMemory.Alloc(ChunkSize);
        uint first = (uint)s_chunkCount << SlotBits;
        int slotUnits = s_slotSizes[c] >> 3;
        s_next[c] = first;
        s_end[c] = first + (uint)((ChunkSize / 8) / slotUnits * slotUnits);
        s_chunkCount++;
        s_growths++;
    }

    /// <summary>Returns a slot allocated for <paramref name="bytes"/> bytes (its size class) for reuse.</summary>
    public static void Free(uint handle, int bytes)
    {
        int c = ClassOf(bytes);
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

    /// <summary>Puts <paramref name="value"/> into a slot at <paramref name="offset"/> (its length prefix too) and returns its length code.</summary>
    public static byte Write(uint handle, int offset, ReadOnlySpan<byte> value)
    {
        byte code = CodeOf(value.Length);
        var start = Start(handle)[offset..];
        if (code == PrefixedLength)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(start, (ushort)value.Length);
            start = start[LengthPrefix..];
        }
        value.CopyTo(start);
        return code;
    }

    /// <summary>The bytes of the value at <paramref name="offset"/> in the slot, given the length code <see cref="Write"/> returned.</summary>
    /// <remarks>Inlined: every GET reads a value through it.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<byte> Value(uint handle, int offset, byte code)
    {
        var start = Start(handle)[offset..];
        return code == PrefixedLength ? start.Slice(LengthPrefix, BinaryPrimitives.ReadUInt16LittleEndian(start)) : start[..code];
    }

    /// <summary>The first <paramref name="length"/> bytes of the slot (a key, which has no length prefix).</summary>
    /// <remarks>Inlined: every key comparison of a table lookup reads a key through it.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<byte> Bytes(uint handle, int length) => new((byte*)s_chunks[handle >> SlotBits] + Offset(handle), length);

    /// <summary>Hints the CPU to bring the slot in (<see cref="MiniRedis.Data.Prefetch"/>): a snapshot's walk, a few keys ahead of reading them.</summary>
    public static void Prefetch(uint handle) => Data.Prefetch.Bytes(ref MemoryMarshal.GetReference(Start(handle)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Span<byte> Start(uint handle) => new((byte*)s_chunks[handle >> SlotBits] + Offset(handle), ChunkSize - Offset(handle));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Offset(uint handle) => (int)(handle & ((1u << SlotBits) - 1)) << 3;

    /// <summary>The native memory the arena holds (its chunks; what of it is resident is the pages written so far).</summary>
    public static long ReservedBytes => (long)Volatile.Read(ref s_chunkCount) * ChunkSize;
}
