using System.Diagnostics;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// A real Redis 7.0.15 replica of MiniRedis: full sync of every type, then the live stream (EXPIRE,
/// MULTI/EXEC, EVAL effects, other databases), partial resync after CLIENT KILL TYPE replica, and
/// redis-cli's --rdb and --replica against MiniRedis.
/// </summary>
[Trait("Category", "Differential")]
public sealed class RealReplicaTests
{
    [Fact]
    public void RealReplicaFollowsFullSyncThenLiveWrites()
    {
        using var master = new MiniRedisProcess();
        using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
        using var replica = new RealRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(replica));

        using (var connection = master.Connect())
        {
            ReplicationChecks.LiveWrites(connection);
            connection.Call("SET", "gone", "x", "PX", "1");
            connection.Call("SELECT", "0");
            connection.Call("DEL", "hash");
        }
        // The expired key is deleted by the master (active expiry) and replicated as a DEL.
        Assert.True(Wait.Until(() => ReplicationChecks.Dataset(master).All(line => !line.Contains(" gone ", StringComparison.Ordinal))));
        ReplicationChecks.WaitCaughtUp(master, replica);
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(replica));
        master.WaitForOutput("Synchronization with replica 127.0.0.1:" + replica.Port + " succeeded");

        using (var connection = master.Connect())
        {
            Assert.Equal("role:master", ReplicationChecks.InfoField(master, "role") is { } role ? "role:" + role : null);
            Assert.StartsWith($"ip=127.0.0.1,port={replica.Port},state=online,", ReplicationChecks.InfoField(master, "slave0"));
            Assert.Contains("flags=S ", connection.Text("CLIENT", "LIST", "TYPE", "replica"));
        }
    }

    [Fact]
    public void ClientKillTypeReplicaThenPartialResync()
    {
        using var master = new MiniRedisProcess();
        using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
        using var replica = new RealRedisProcess("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationChecks.WaitCaughtUp(master, replica);
        using (var connection = master.Connect())
        {
            Assert.Equal(":1\r\n", connection.Text("CLIENT", "KILL", "TYPE", "replica"));
            connection.Call("SET", "after-kill", "1");
        }
        master.WaitForOutput("Partial resynchronization request from 127.0.0.1:" + replica.Port + " accepted");
        ReplicationChecks.WaitCaughtUp(master, replica);
        replica.WaitForOutput("Successful partial resynchronization with master.");
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(replica));
    }

    [Fact]
    public void RedisCliRdbWritesTheDataset()
    {
        using var master = new MiniRedisProcess();
        using (var connection = master.Connect()) ReplicationChecks.Fill(connection);
        string file = Path.Combine(master.DataDirectory, "from-cli.rdb");
        var cli = RunCli("-p", master.Port.ToString(), "--rdb", file);
        Assert.True(cli.ExitCode == 0, cli.Output);
        Assert.Contains("Transfer finished with success", cli.Output);
        // Real Redis loads the file into the same dataset.
        string dir = Directory.CreateTempSubdirectory("repl-rdb-").FullName;
        File.Copy(file, Path.Combine(dir, "dump.rdb"));
        using var loaded = new RealRedisProcess("--dir", dir, "--dbfilename", "dump.rdb");
        Assert.Equal(ReplicationChecks.Dataset(master), ReplicationChecks.Dataset(loaded));
    }

    [Fact]
    public void RedisCliReplicaPrintsTheStream()
    {
        // The stream's last line is printed when the next command comes: a PING every second.
        using var master = new MiniRedisProcess("--repl-ping-replica-period", "1");
        // Line-buffered: redis-cli's stdout into a pipe is block-buffered otherwise.
        var info = new ProcessStartInfo("stdbuf", ["-oL", RealRedisProcess.ExecutablePath("redis-cli"), "-p", master.Port.ToString(), "--replica"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var cli = Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        cli.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        cli.BeginOutputReadLine();
        try
        {
            string Seen()
            {
                lock (output) return output.ToString();
            }
            Assert.True(Wait.Until(() => Seen().Contains("\"PING\"", StringComparison.Ordinal)), Seen());
            using (var connection = master.Connect()) connection.Call("SET", "streamed", "value");
            Assert.True(Wait.Until(() => Seen().Contains("\"SET\",\"streamed\",\"value\"", StringComparison.OrdinalIgnoreCase)), Seen());
        }
        finally
        {
            cli.Kill();
        }
    }

    static (int ExitCode, string Output) RunCli(params string[] args)
    {
        var info = new ProcessStartInfo(RealRedisProcess.ExecutablePath("redis-cli"), args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000)) process.Kill();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
