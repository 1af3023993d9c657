using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>kill -9 in the middle of a write stream, then a restart on the same AOF.</summary>
[Trait("Category", "Process")]
public sealed class AofCrashTests
{
    /// <summary>
    /// Writes pipelined SETs (16 per round trip) until the server is killed, recording each key whose
    /// reply arrived with the time it arrived.
    /// </summary>
    static List<(string Key, long AckedAtMs)> WriteUntilKilled(AofServerProcess server, TimeSpan killAfter)
    {
        var acked = new List<(string, long)>();
        var clock = Stopwatch.StartNew();
        using var connection = server.Connect();
        var killer = Task.Run(async () =>
        {
            await Task.Delay(killAfter);
            server.Dispose();
        });
        try
        {
            for (int batch = 0; ; batch++)
            {
                var keys = Enumerable.Range(0, 16).Select(i => $"key:{batch}:{i}").ToArray();
                var request = new MemoryStream();
                foreach (var key in keys) request.Write(RespConnection.EncodeCommand([Encoding.ASCII.GetBytes("SET"), Encoding.ASCII.GetBytes(key), Encoding.ASCII.GetBytes(key)]));
                connection.Send(request.ToArray());
                foreach (var key in keys)
                {
                    var reply = connection.ReadReply();
                    Assert.Equal("+OK\r\n", reply.Text);
                    acked.Add((key, clock.ElapsedMilliseconds));
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The server died: what was acknowledged before that is the record.
        }
        killer.Wait();
        return acked;
    }

    static HashSet<string> KeysAfterRestart(string dir)
    {
        using var restarted = AofServerProcess.MiniRedis(dir);
        using var connection = restarted.Connect();
        connection.Send(RespConnection.EncodeCommand([Encoding.ASCII.GetBytes("KEYS"), Encoding.ASCII.GetBytes("*")]));
        return [.. connection.ReadReply().Children.Select(child => Encoding.ASCII.GetString(AofTestData.Bulk(child)))];
    }

    [Fact]
    public void AlwaysKeepsEveryAcknowledgedWrite()
    {
        string dir = AofTestData.NewDirectory("aof-crash-always-");
        try
        {
            using var server = AofServerProcess.MiniRedis(dir, "--appendfsync", "always");
            var acked = WriteUntilKilled(server, TimeSpan.FromSeconds(1.5));
            Assert.True(acked.Count > 100, $"only {acked.Count} writes acknowledged");
            var present = KeysAfterRestart(dir);
            Assert.DoesNotContain(acked, a => !present.Contains(a.Key));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void EverysecFileAlwaysLoadsAndLosesAtMostTheLastTwoSeconds()
    {
        string dir = AofTestData.NewDirectory("aof-crash-everysec-");
        try
        {
            for (int round = 0; round < 3; round++)
            {
                using var server = AofServerProcess.MiniRedis(dir, "--appendfsync", "everysec");
                var acked = WriteUntilKilled(server, TimeSpan.FromSeconds(1 + round * 0.37));
                var present = KeysAfterRestart(dir);
                long killedAt = acked.Count == 0 ? 0 : acked[^1].AckedAtMs;
                Assert.DoesNotContain(acked, a => a.AckedAtMs < killedAt - 2000 && !present.Contains(a.Key));
                File.Delete(Path.Combine(dir, "appendonly.aof"));
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
