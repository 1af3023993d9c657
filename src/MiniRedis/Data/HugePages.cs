using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MiniRedis.Data;

/// <summary>
/// Transparent huge pages (madvise MADV_HUGEPAGE, which the kernel's default THP setting "madvise" waits
/// for) for the keyspace's bucket arrays: a lookup reads one bucket at random, and over an 8 MB array of
/// 4 KB pages nearly every one missed the TLB (on a 1M-key RDB load the prefetch instructions waiting for
/// those page walks were a tenth of the load). 2 MB pages make the whole array a few TLB entries. Only the
/// bucket arrays: the GC heap's objects are many times larger, and a huge page the kernel has to find and
/// clear costs more there than the page walks it saves (benchmarks/RESULTS.md, session 11, s11-load).
/// </summary>
static partial class HugePages
{
    const nuint PageBytes = 2 << 20;
    const int AdviseHugePage = 14;

    /// <summary>Smaller arrays are a few hundred 4 KB pages, which the TLB holds.</summary>
    const long MinBytes = 4 << 20;

    /// <summary>
    /// Asks for huge pages under the whole 2 MB pages inside <paramref name="array"/>'s elements. For a new
    /// large-object array, before its pages are first written: the kernel gives a huge page on a fault.
    /// A hint: where it is refused (another OS, THP off) nothing changes.
    /// </summary>
    public static unsafe void Advise<T>(T[] array) where T : class?
    {
        long bytes = (long)array.Length * sizeof(nint);
        if (bytes < MinBytes || !OperatingSystem.IsLinux()) return;
        fixed (byte* data = &Unsafe.As<T, byte>(ref MemoryMarshal.GetArrayDataReference(array)))
        {
            nuint start = ((nuint)data + PageBytes - 1) & ~(PageBytes - 1);
            nuint end = ((nuint)data + (nuint)bytes) & ~(PageBytes - 1);
            if (end > start) _ = madvise((nint)start, end - start, AdviseHugePage);
        }
    }

    [LibraryImport("libc")]
    private static partial int madvise(nint address, nuint length, int advice);
}
