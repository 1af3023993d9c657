using System.Runtime.InteropServices;

namespace MiniRedis.Io;

/// <summary>Errno texts as Redis prints them, the process exit that runs no shutdown code, and a thread's scheduling weight.</summary>
public static partial class Platform
{
    public const int EIO = 5;
    public const int ENOSPC = 28;

    /// <summary>strerror(3) text, as Redis prints it.</summary>
    public static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>_exit(2): ends the process immediately, no finalizers or shutdown handlers (Environment.Exit elsewhere).</summary>
    public static void ExitProcess(int status)
    {
        if (!OperatingSystem.IsLinux()) Environment.Exit(status);
        _exit(status);
    }

    /// <summary>
    /// Gives the calling thread less of a contended CPU than the others (setpriority(2) on its thread id:
    /// .NET's Thread.Priority is not applied on Linux). For a background thread that should give way
    /// to the threads serving clients; elsewhere, or when the system refuses, nothing changes.
    /// </summary>
    public static void LowerCurrentThreadPriority(int niceness)
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = setpriority(PrioProcess, gettid(), niceness);
        }
        catch (EntryPointNotFoundException)
        {
            // A libc without gettid (glibc before 2.30): the thread keeps its weight.
        }
    }

    const int PrioProcess = 0;

    [LibraryImport("libc")]
    private static partial void _exit(int status);

    [LibraryImport("libc")]
    private static partial int gettid();

    [LibraryImport("libc")]
    private static partial int setpriority(int which, int who, int prio);
}
