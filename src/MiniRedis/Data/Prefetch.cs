using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace MiniRedis.Data;

/// <summary>
/// Cache-line hints for walks over many scattered objects (a snapshot's): asking for the next few
/// objects' lines before reading any lets their cache misses overlap instead of queueing one after
/// another. A hint never faults, so an object the GC moved meanwhile costs nothing but the hint.
/// </summary>
static class Prefetch
{
    /// <summary>
    /// The lines holding an object's first 56 bytes (a <see cref="KeyEntry"/>'s fields, a table node's): an
    /// 8-byte aligned object starts anywhere in its first line, so one of that size straddles two lines 6 times
    /// in 8, and hinting the first line alone left the fields read first (the key's arena slot) to miss.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Object(object? o)
    {
        if (o is null || !Sse.IsSupported) return;
        byte* start = *(byte**)Unsafe.AsPointer(ref o);
        Sse.Prefetch0(start);
        Sse.Prefetch0(start + ObjectBytes - 1);
    }

    const int ObjectBytes = 56;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Bytes(ref byte first)
    {
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref first));
    }
}
