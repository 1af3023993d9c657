using System.Runtime.InteropServices;

namespace MiniRedis.Io;

/// <summary>
/// Lowers the calling thread's scheduling priority (Linux nice, per thread), for background writers:
/// on a small machine the executor and the connections come first when cores are short, as a
/// forked child competes with Redis's main thread only as one more process.
/// </summary>
public static partial class BackgroundPriority
{
    const int PrioProcess = 0;
    const int Niceness = 10;

    /// <summary>Best effort: a failure leaves the thread at normal priority.</summary>
    public static void LowerCurrentThread()
    {
        if (!OperatingSystem.IsLinux()) return;
        _ = setpriority(PrioProcess, gettid(), Niceness);
    }

    [LibraryImport("libc")]
    private static partial int gettid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);
}
