using System.Runtime.InteropServices;

namespace MiniRedis.Io;

/// <summary>Errno texts as Redis prints them, and the process exit that runs no shutdown code.</summary>
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

    [LibraryImport("libc")]
    private static partial void _exit(int status);
}
