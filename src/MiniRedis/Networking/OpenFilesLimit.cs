using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;

namespace MiniRedis.Networking;

/// <summary>
/// Redis's adjustOpenFilesLimit: every client is a file descriptor, plus 32 kept for the listeners,
/// persistence and logs. At start the RLIMIT_NOFILE is raised to fit maxclients when the OS allows,
/// otherwise maxclients is lowered to fit, with Redis's log lines.
/// </summary>
static partial class OpenFilesLimit
{
    const int ReservedFds = 32;
    const int RlimitNofile = 7;
    const ulong DecrementStep = 16;

    [StructLayout(LayoutKind.Sequential)]
    struct Rlimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out Rlimit limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, in Rlimit limit);

    /// <summary>At start: raises the limit, or lowers maxclients to what it allows.</summary>
    public static void Adjust(ServerConfig config, ILogger logger)
    {
        if (!OperatingSystem.IsLinux()) return;
        ulong wanted = (ulong)config.MaxClients + ReservedFds;
        if (getrlimit(RlimitNofile, out var limit) != 0)
        {
            logger.LogWarning("Unable to obtain the current NOFILE limit ({Error}), assuming 1024 and setting the max clients configuration accordingly.", Marshal.GetLastPInvokeErrorMessage());
            SetMaxClients(config, 1024 - ReservedFds);
            return;
        }
        ulong old = limit.Current;
        if (old >= wanted) return;
        ulong best = TryRaise(wanted, old, out string? error);
        if (best >= wanted)
        {
            logger.LogInformation("Increased maximum number of open files to {Wanted} (it was originally set to {Old}).", wanted, old);
            return;
        }
        long requested = config.MaxClients;
        if (best <= ReservedFds)
        {
            throw new InvalidOperationException($"Your current 'ulimit -n' of {old} is not enough for the server to start. Please increase your open file limit to at least {wanted}. Exiting.");
        }
        SetMaxClients(config, (long)best - ReservedFds);
        logger.LogWarning("You requested maxclients of {Requested} requiring at least {Wanted} max file descriptors.", requested, wanted);
        logger.LogWarning("Server can't set maximum open files to {Wanted} because of OS error: {Error}.", wanted, error);
        logger.LogWarning("Current maximum open files is {Best}. maxclients has been reduced to {MaxClients} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.", best, config.MaxClients);
    }

    /// <summary>CONFIG SET maxclients: raises the limit when needed; an error when the OS refuses.</summary>
    public static string? Raise(ServerConfig config, ILogger logger)
    {
        if (!OperatingSystem.IsLinux()) return null;
        ulong wanted = (ulong)config.MaxClients + ReservedFds;
        if (getrlimit(RlimitNofile, out var limit) != 0 || limit.Current >= wanted) return null;
        ulong best = TryRaise(wanted, limit.Current, out _);
        if (best >= wanted)
        {
            logger.LogInformation("Increased maximum number of open files to {Wanted} (it was originally set to {Old}).", wanted, limit.Current);
            return null;
        }
        return $"The operating system is not able to handle the specified number of clients, try with {(long)best - ReservedFds}";
    }

    /// <summary>Sets the limit to <paramref name="wanted"/>, or the highest value above <paramref name="old"/> the OS allows, stepping down by 16.</summary>
    static ulong TryRaise(ulong wanted, ulong old, out string? error)
    {
        error = null;
        ulong best = wanted;
        while (best > old)
        {
            if (setrlimit(RlimitNofile, new Rlimit { Current = best, Maximum = best }) == 0) return best;
            error = Marshal.GetLastPInvokeErrorMessage();
            if (best < DecrementStep) return old;
            best -= DecrementStep;
        }
        return old;
    }

    static void SetMaxClients(ServerConfig config, long value)
    {
        if (config.Set([("maxclients", value.ToString())]) is { } error)
            throw new InvalidOperationException(error);
    }
}
