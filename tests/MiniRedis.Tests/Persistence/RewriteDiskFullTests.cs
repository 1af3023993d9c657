using System.Diagnostics;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// A rewrite that runs out of disk (a 1 MiB tmpfs; needs root and permission to mount, as the AOF
/// disk-full tests): it fails cleanly and the old AOF stays valid and in use.
/// </summary>
[Trait("Category", "Process")]
public sealed class RewriteDiskFullTests
{
    static void WaitWhileRewriting(RespConnection connection)
    {
        var clock = Stopwatch.StartNew();
        while (RdbTestSupport.Info(connection, "aof_rewrite_in_progress") == "1")
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the rewrite did not end");
            Thread.Sleep(20);
        }
    }

    [NeedsRootFact]
    [Trait("Category", "NeedsRoot")]
    public void Rewrite_failing_on_a_full_disk_leaves_the_aof_valid_reports_err_and_succeeds_once_space_is_back()
    {
        string mount = SmallDisk.Mount("rewrite-tmpfs-");
        try
        {
            string value = new('v', 1000);
            SortedDictionary<string, string> live;
            // The RDB preamble without compression: the repetitive values must not shrink below the room left.
            using (var server = AofServerProcess.MiniRedis(mount, "--rdbcompression", "no"))
            {
                using var connection = server.Connect();
                for (int i = 0; i < 300; i++) connection.Call("SET", $"k{i}", value);
                // Leave less room than the rewritten file needs (about 300 KB).
                long free = new DriveInfo(mount).AvailableFreeSpace;
                File.WriteAllBytes(Path.Combine(mount, "filler"), new byte[free - 100 * 1024]);

                Assert.Equal("+Background append only file rewriting started\r\n", Encoding.Latin1.GetString(connection.Call("BGREWRITEAOF")));
                WaitWhileRewriting(connection);
                Assert.Equal("err", RdbTestSupport.Info(connection, "aof_last_bgrewrite_status"));
                Assert.Equal("1", RdbTestSupport.Info(connection, "aof_rewrites_consecutive_failures"));
                Assert.Equal("0", RdbTestSupport.Info(connection, "aof_rewrites"));
                Assert.Empty(Directory.GetFiles(mount, "temp-rewriteaof-*"));
                RewriteBackgroundTests.AssertLogged(server, "Background AOF rewrite terminated with error");

                // The old file is still the AOF: writes go on and survive a restart.
                Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(connection.Call("SET", "after", "failure")));
                File.Delete(Path.Combine(mount, "filler"));
                Assert.Equal("+Background append only file rewriting started\r\n", Encoding.Latin1.GetString(connection.Call("BGREWRITEAOF")));
                WaitWhileRewriting(connection);
                Assert.Equal("ok", RdbTestSupport.Info(connection, "aof_last_bgrewrite_status"));
                Assert.Equal("0", RdbTestSupport.Info(connection, "aof_rewrites_consecutive_failures"));
                Assert.Equal("1", RdbTestSupport.Info(connection, "aof_rewrites"));
                Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(connection.Call("SET", "after", "rewrite")));
                live = AofTestData.Snapshot(connection);
            }
            using var restarted = AofServerProcess.MiniRedis(mount);
            using var again = restarted.Connect();
            Assert.Equal(live, AofTestData.Snapshot(again));
        }
        finally
        {
            SmallDisk.Unmount(mount);
        }
    }
}
