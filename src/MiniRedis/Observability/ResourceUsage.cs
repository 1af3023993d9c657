using System.Runtime.InteropServices;

namespace MiniRedis.Observability;

/// <summary>getrusage(2) (INFO's used_cpu_* fields): CPU seconds in user and system mode.</summary>
public static partial class ResourceUsage
{
    const int RusageSelf = 0;
    const int RusageChildren = -1;
    const int RusageThread = 1;

    public readonly record struct Times(double UserSeconds, double SystemSeconds);

    // struct rusage on 64-bit Linux: two timevals, then 14 longs.
    [StructLayout(LayoutKind.Sequential)]
    struct Rusage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NVcsw, NIvcsw;
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, out Rusage usage);

    public static Times Process() => Get(RusageSelf) ?? FromProcess();

    /// <summary>Processes this one waited for: none here, nothing forks.</summary>
    public static Times Children() => Get(RusageChildren) ?? default;

    /// <summary>The calling thread (INFO runs on the executor, Redis's main thread).</summary>
    public static Times CurrentThread() => Get(RusageThread) ?? FromProcess();

    static Times? Get(int who)
    {
        if (!OperatingSystem.IsLinux() || GetRusage(who, out var usage) != 0) return null;
        return new Times(usage.UserSeconds + usage.UserMicroseconds / 1e6, usage.SystemSeconds + usage.SystemMicroseconds / 1e6);
    }

    static Times FromProcess()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return new Times(process.UserProcessorTime.TotalSeconds, process.PrivilegedProcessorTime.TotalSeconds);
    }
}
