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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Object(object? o)
    {
        if (o is not null && Sse.IsSupported) Sse.Prefetch0(*(void**)Unsafe.AsPointer(ref o));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Bytes(ref byte first)
    {
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref first));
    }
}
