using System.Diagnostics;
using System.Text;
using MiniRedis.Persistence.Aof;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// A real full disk: a 1 MiB tmpfs (needs root and permission to mount, as on the project's machines
/// and CI). Also redis-check-aof's verdicts against ours.
/// </summary>
[Trait("Category", "Differential")]
public sealed class AofDiskFullTests
{
    static void Run(string file, params string[] args)
    {
        var (exitCode, _, error) = RunWithInput(file, null, args);
        if (exitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {error}");
    }

    static (int ExitCode, string Output, string Error) RunWithInput(string file, string? input, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true })!;
        if (input is not null) process.StandardInput.Write(input);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }

    /// <summary>A 1 MiB tmpfs mounted for the test, with 400 KiB taken by a filler file.</summary>
    static (string Mount, string Filler) MountSmallDisk()
    {
        string mount = SmallDisk.Mount("aof-tmpfs-");
        string filler = Path.Combine(mount, "filler");
        File.WriteAllBytes(filler, new byte[400 * 1024]);
        return (mount, filler);
    }

    static HashSet<string> Keys(RespConnection connection)
    {
        connection.Send(RespConnection.EncodeCommand([Encoding.ASCII.GetBytes("KEYS"), Encoding.ASCII.GetBytes("*")]));
        return connection.ReadReply().Children.Select(c => Encoding.ASCII.GetString(AofTestData.Bulk(c))).ToHashSet();
    }

    [NeedsRootFact]
    [Trait("Category", "NeedsRoot")]
    public void FullDiskGivesMisconfThenRecoversWithoutLosingAcknowledgedWrites()
    {
        var (mount, filler) = MountSmallDisk();
        try
        {
            var acked = new List<string>();
            var value = new string('v', 8 * 1024);
            using (var server = AofServerProcess.MiniRedis(mount, "--appendfsync", "everysec"))
            using (var connection = server.Connect())
            {
                string reply = "";
                for (int i = 0; i < 1000 && !reply.StartsWith('-'); i++)
                {
                    reply = Encoding.Latin1.GetString(connection.Call("SET", $"key:{i}", value));
                    if (reply == "+OK\r\n") acked.Add($"key:{i}");
                }
                Assert.Equal("-MISCONF Errors writing to the AOF file: No space left on device\r\n", reply);
                Assert.Contains("aof_last_write_status:err\r\n", Encoding.Latin1.GetString(connection.Call("INFO", "persistence")));
                Assert.StartsWith("$8192\r\n", Encoding.Latin1.GetString(connection.Call("GET", acked[0])));
                Assert.Equal(reply, Encoding.Latin1.GetString(connection.Call("PING")));

                File.Delete(filler);
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
                while (Encoding.Latin1.GetString(connection.Call("SET", "after", "recovery")) != "+OK\r\n")
                {
                    Assert.True(DateTime.UtcNow < deadline, "writes were not accepted again after space was freed");
                    Thread.Sleep(100);
                }
                acked.Add("after");
                Assert.Contains("aof_last_write_status:ok\r\n", Encoding.Latin1.GetString(connection.Call("INFO", "persistence")));
            }
            using (var restarted = AofServerProcess.MiniRedis(mount))
            using (var connection = restarted.Connect())
            {
                var present = Keys(connection);
                Assert.DoesNotContain(acked, key => !present.Contains(key));
            }
        }
        finally
        {
            SmallDisk.Unmount(mount);
        }
    }

    /// <summary>
    /// appendfsync always on a full disk: the failed write stops the server (exit 1) before its reply
    /// leaves, and the file, cut back to its last complete command, loads with every acknowledged write.
    /// </summary>
    [NeedsRootFact]
    [Trait("Category", "NeedsRoot")]
    public void FailedWriteUnderAlwaysExitsWithoutAcknowledging()
    {
        var (mount, filler) = MountSmallDisk();
        try
        {
            var acked = new List<string>();
            var value = new string('v', 8 * 1024);
            using (var server = AofServerProcess.MiniRedis(mount, "--appendfsync", "always"))
            {
                using var connection = server.Connect();
                string? unacknowledged = null;
                for (int i = 0; i < 1000 && unacknowledged is null; i++)
                {
                    try
                    {
                        Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(connection.Call("SET", $"key:{i}", value)));
                        acked.Add($"key:{i}");
                    }
                    catch (IOException)
                    {
                        unacknowledged = $"key:{i}";
                    }
                }
                Assert.NotNull(unacknowledged);
                Assert.NotEmpty(acked);
                Assert.Equal(1, server.WaitForExit(TimeSpan.FromSeconds(10)));
                Assert.Contains("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...", server.Output);
            }
            File.Delete(filler);
            using var restarted = AofServerProcess.MiniRedis(mount);
            using var check = restarted.Connect();
            var present = Keys(check);
            Assert.DoesNotContain(acked, key => !present.Contains(key));
            Assert.StartsWith("$8192\r\n", Encoding.Latin1.GetString(check.Call("GET", acked[^1])));
        }
        finally
        {
            SmallDisk.Unmount(mount);
        }
    }

    /// <summary>Every prefix of a real Redis AOF, plus damaged variants: our checker's report and exit status equal redis-check-aof's.</summary>
    [Fact]
    public void CheckAofVerdictsAgreeWithRedisCheckAof()
    {
        string dir = AofTestData.NewDirectory("aof-check-");
        try
        {
            static byte[] Command(params string[] args) => RespConnection.EncodeCommand([.. args.Select(Encoding.ASCII.GetBytes)]);
            byte[] sample = [.. Command("SELECT", "0"), .. "#TS:1700000000\r\n"u8, .. Command("SET", "key", "value"),
                .. Command("MULTI"), .. Command("INCR", "n"), .. Command("EXEC"), .. Command("DEL", "key")];
            var files = Enumerable.Range(0, sample.Length + 1).Select(n => sample[..n]).ToList();
            files.Add([.. Command("SET", "a", "b"), .. "xx"u8, .. Command("SET", "c", "d")]);
            files.Add([.. Command("EXEC")]);
            files.Add([.. Command("MULTI"), .. Command("MULTI")]);
            files.Add([.. "*2\r\n$3\r\nGET\r\n$-1\r\n"u8]);
            files.Add([.. "*1\r\n$4\r\nPINGxx"u8]);
            string path = Path.Combine(dir, "appendonly.aof");
            string tool = RealRedisProcess.ExecutablePath("redis-check-aof");
            foreach (var content in files)
            {
                File.WriteAllBytes(path, content);
                using var process = Process.Start(new ProcessStartInfo(tool, [path]) { RedirectStandardOutput = true, WorkingDirectory = dir })!;
                string expected = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                var (report, exitCode) = AofChecker.Describe(path, AofChecker.Check(path));
                if (exitCode != 0) report += $"AOF {path} is not valid. Use the --fix option to try fixing it.\n";
                Assert.Equal((MaskStaleBytes(expected), process.ExitCode), (MaskStaleBytes(report), exitCode));
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// <c>miniredis-check-aof --fix --yes</c> cuts a damaged file where Debian's <c>redis-check-aof --fix</c>
    /// (answered "y") does, leaving byte-identical files, and keeps the original as <c>.bak</c>.
    /// </summary>
    [Fact]
    public void FixTruncatesLikeRedisCheckAofAndKeepsABackup()
    {
        string dir = AofTestData.NewDirectory("aof-fix-");
        try
        {
            static byte[] Command(params string[] args) => RespConnection.EncodeCommand([.. args.Select(Encoding.ASCII.GetBytes)]);
            byte[] good = [.. Command("SELECT", "0"), .. "#TS:1700000000\r\n"u8, .. Command("SET", "key", "value"), .. Command("MULTI"), .. Command("INCR", "n"), .. Command("EXEC")];
            byte[][] damaged =
            [
                [.. good, .. Command("SET", "torn", "value")[..^3]],
                [.. good, .. Command("MULTI"), .. Command("SET", "a", "b")],
                [.. good, .. "xx"u8, .. Command("SET", "c", "d")],
                [.. good, .. "*2\r\n$3\r\nGET\r\n$-1\r\n"u8],
                [.. good[..20], .. Command("DEL", "key")],
            ];
            string tool = RealRedisProcess.ExecutablePath("redis-check-aof");
            string ours = Path.Combine(RepoPaths.Root, "src", "MiniRedis.CheckAof", "bin", RepoPaths.Configuration, "net10.0", "miniredis-check-aof.dll");
            string redisFile = Path.Combine(dir, "redis.aof"), ourFile = Path.Combine(dir, "ours.aof");
            foreach (var content in damaged)
            {
                File.WriteAllBytes(redisFile, content);
                File.WriteAllBytes(ourFile, content);
                var redis = RunWithInput(tool, "y\n", "--fix", redisFile);
                var mine = RunWithInput("dotnet", null, ours, "--fix", "--yes", ourFile);
                Assert.True(redis.ExitCode == 0, redis.Output);
                Assert.True(mine.ExitCode == 0, mine.Output);
                byte[] fixedByRedis = File.ReadAllBytes(redisFile);
                Assert.True(fixedByRedis.Length < content.Length);
                Assert.Equal(fixedByRedis, File.ReadAllBytes(ourFile));
                Assert.Equal(content, File.ReadAllBytes(ourFile + ".bak"));
                Assert.Equal(0, RunWithInput("dotnet", null, ours, ourFile).ExitCode);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>After a line's NUL, redis-check-aof prints stale stack bytes; those are not part of the verdict.</summary>
    static string MaskStaleBytes(string report) => System.Text.RegularExpressions.Regex.Replace(report, "got: 00[0-9a-f]{2}", "got: 00..");
}
