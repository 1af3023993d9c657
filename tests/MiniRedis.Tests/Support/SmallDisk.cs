using System.Diagnostics;

namespace MiniRedis.Tests.Support;

/// <summary>
/// A real full disk: a 1 MiB tmpfs mounted on a new directory (needs root and permission to mount,
/// as on the project's machines and CI; tests that use it are <see cref="NeedsRootFactAttribute"/>).
/// </summary>
public static class SmallDisk
{
    /// <summary>Mounts a 1 MiB tmpfs on a new directory; its path.</summary>
    public static string Mount(string prefix)
    {
        string mount = Directory.CreateTempSubdirectory(prefix).FullName;
        Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount);
        return mount;
    }

    public static void Unmount(string mount)
    {
        Run("umount", mount);
        Directory.Delete(mount, true);
    }

    static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {error}");
    }
}

/// <summary>A test that mounts a filesystem: skipped, with the reason, when the process is not root.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NeedsRootFactAttribute : FactAttribute
{
    public NeedsRootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess) Skip = "needs root: mounts a 1 MiB tmpfs to fill a real disk";
    }
}
