using System.Diagnostics;

namespace MiniRedis.Server;

/// <summary>
/// <c>daemonize yes</c>. A .NET process cannot fork, so the launching process starts itself again
/// (same arguments, same working directory, the config text it read from stdin passed on) and waits:
/// the child leaves the terminal's session, and once it serves it writes <see cref="ReadyLine"/> on
/// its standard output and turns stdin/stdout/stderr to /dev/null. The parent exits 0 on that line, or
/// relays the child's error output and exits non-zero if the child ends first: unlike Redis's fork,
/// a daemonized start that fails is seen by whoever launched it.
/// </summary>
static class Daemon
{
    const string ChildVariable = "MINIREDIS_DAEMON_CHILD";
    const string ReadyLine = "miniredis-daemon-ready";

    /// <summary>This process is the detached child of a daemonizing start.</summary>
    public static bool IsChild { get; } = Environment.GetEnvironmentVariable(ChildVariable) == "1";

    /// <summary>Child: leaves the launching terminal's session; nothing this process starts is marked a child.</summary>
    public static void BecomeSessionLeader()
    {
        Environment.SetEnvironmentVariable(ChildVariable, null);
        _ = Native.SetSid();
    }

    /// <summary>Child: the server is serving; tells the waiting parent, then lets go of its pipes.</summary>
    public static void SignalReady()
    {
        if (!IsChild) return;
        try
        {
            Console.Out.WriteLine(ReadyLine);
            Console.Out.Flush();
        }
        catch (IOException)
        {
            // The parent is gone (killed while waiting): nobody to tell, the server serves all the same.
        }
        Native.RedirectStandardStreamsToNull();
    }

    /// <summary>Parent: starts the detached child and returns the exit code this process should end with.</summary>
    public static async Task<int> DetachAsync(string[] args, string launchDirectory, byte[]? stdinConfig)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!)
        {
            WorkingDirectory = launchDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Run through the dotnet host ("dotnet miniredis-server.dll ..."): the child needs the dll again.
        // (Assembly.Location is not used: the native AOT binary has no assembly file, and there ProcessPath is the server.)
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(Daemon).Assembly.GetName().Name + ".dll"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment[ChildVariable] = "1";
        using var child = Process.Start(info)!;
        if (stdinConfig is not null) await child.StandardInput.BaseStream.WriteAsync(stdinConfig).ConfigureAwait(false);
        child.StandardInput.Close();
        var errors = child.StandardError.ReadToEndAsync();
        while (await child.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line == ReadyLine) return 0;
        }
        await child.WaitForExitAsync().ConfigureAwait(false);
        await Console.Error.WriteAsync(await errors.ConfigureAwait(false)).ConfigureAwait(false);
        return child.ExitCode == 0 ? 1 : child.ExitCode;
    }
}
