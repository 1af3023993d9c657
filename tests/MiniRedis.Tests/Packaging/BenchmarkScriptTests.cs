using System.Diagnostics;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Packaging;

/// <summary>
/// benchmarks/lib.sh starts MiniRedis beside real Redis: like the real one (<c>--save ""</c>), it has
/// no save points, so stopping it (SIGTERM) writes no dump.rdb that the next run would load.
/// </summary>
[Trait("Category", "Differential")]
public sealed class BenchmarkScriptTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("bench-lib-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void The_benchmark_miniredis_has_no_save_points_and_sigterm_writes_no_dump()
    {
        string script = $"""
            set -euo pipefail
            source benchmarks/lib.sh
            server_dll='{RepoPaths.ServerDll}'
            start_miniredis /dev/null --dir '{_dir}'
            wait_ready "$miniredis_port"
            redis-cli -p "$miniredis_port" set key value
            redis-cli -p "$miniredis_port" config get save
            stop_servers
            """;
        var info = new ProcessStartInfo("bash", ["-c", script])
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var bash = Process.Start(info)!;
        var stderr = bash.StandardError.ReadToEndAsync();
        string stdout = bash.StandardOutput.ReadToEnd();
        Assert.True(bash.WaitForExit(120_000), "the script did not end");
        Assert.True(bash.ExitCode == 0, stdout + stderr.Result);
        Assert.Equal("OK\nsave\n\n", stdout);
        Assert.False(File.Exists(Path.Combine(_dir, "dump.rdb")));
    }
}
