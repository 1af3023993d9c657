using System.Runtime.InteropServices;

namespace MiniRedis.Server;

/// <summary>The few libc calls the process needs that .NET has no API for.</summary>
static partial class Native
{
    public const int SigStop = 19;
    const int ReadWrite = 2;

    /// <summary>Starts a new session, leaving the launching terminal's (its hang-ups no longer reach us).</summary>
    [LibraryImport("libc", EntryPoint = "setsid", SetLastError = true)]
    public static partial int SetSid();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int oldFd, int newFd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>Points standard input, output and error at /dev/null, as a daemon's are.</summary>
    public static void RedirectStandardStreamsToNull()
    {
        int fd = Open("/dev/null", ReadWrite);
        if (fd < 0) return;
        for (int standard = 0; standard <= 2; standard++) _ = Dup2(fd, standard);
        if (fd > 2) _ = Close(fd);
    }
}
