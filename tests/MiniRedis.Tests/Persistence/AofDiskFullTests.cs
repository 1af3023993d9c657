using System.Diagnostics;
using System.Text;
using MiniRedis.Persistence.Aof;
using MiniRedis.Tests.Infrastructure;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// A real full disk: a 1 MiB tmpfs (needs root and permission to mount, as on the project's machines
/// and CI). Also redis-check-aof's verdicts against ours.
/// </summary>
public sealed class AofDiskFullTests
{
    static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {process.StandardError.ReadToEnd()}");
    }

    [Fact]
    public void FullDiskGivesMisconfThenRecoversWithoutLosingAcknowledgedWrites()
    {
        string mount = AofTestData.NewDirectory("aof-tmpfs-");
        Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount);
        try
        {
            string filler = Path.Combine(mount, "filler");
            File.WriteAllBytes(filler, new byte[400 * 1024]);
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
                connection.Send(RespConnection.EncodeCommand([Encoding.ASCII.GetBytes("KEYS"), Encoding.ASCII.GetBytes("*")]));
                var present = connection.ReadReply().Children.Select(c => Encoding.ASCII.GetString(AofTestData.Bulk(c))).ToHashSet();
                Assert.DoesNotContain(acked, key => !present.Contains(key));
            }
        }
        finally
        {
            Run("umount", mount);
            Directory.Delete(mount, true);
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

    /// <summary>After a line's NUL, redis-check-aof prints stale stack bytes; those are not part of the verdict.</summary>
    static string MaskStaleBytes(string report) => System.Text.RegularExpressions.Regex.Replace(report, "got: 00[0-9a-f]{2}", "got: 00..");
}
