using System.Diagnostics;
using System.Net.Sockets;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// WAIT as a durability promise: under appendfsync always, a write that WAIT reported as reached by
/// both replicas is never lost when the master is killed mid-stream and a replica is promoted
/// (REPLICAOF NO ONE), and the other replica continues from the promoted one.
/// </summary>
[Trait("Category", "Process")]
public sealed class WaitDurabilityTests
{
    [Fact]
    public void AcknowledgedWritesSurviveTheMastersDeath()
    {
        string[] durable = ["--appendonly", "yes", "--appendfsync", "always"];
        using var master = new MiniRedisProcess(durable);
        string masterPort = master.Port.ToString();
        using var promoted = new MiniRedisProcess([.. durable, "--replicaof", "127.0.0.1", masterPort]);
        using var other = new RealRedisProcess("--replicaof", "127.0.0.1", masterPort);
        ReplicationChecks.WaitCaughtUp(master, promoted);
        ReplicationChecks.WaitCaughtUp(master, other);

        var acknowledged = new List<(string Key, string Value)>();
        var writer = Task.Run(() =>
        {
            try
            {
                using var connection = master.Connect();
                for (int i = 0; ; i++)
                {
                    string key = "k" + i, value = "v" + i;
                    connection.Call("SET", key, value);
                    if (connection.Text("WAIT", "2", "5000") == ":2\r\n")
                    {
                        lock (acknowledged) acknowledged.Add((key, value));
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or TimeoutException)
            {
                // The master died under the writer.
            }
        });
        Assert.True(Wait.Until(() => { lock (acknowledged) return acknowledged.Count >= 300; }));
        Process.GetProcessById(master.ProcessId).Kill();
        Assert.True(writer.Wait(TimeSpan.FromSeconds(30)));

        using (var connection = promoted.Connect()) Assert.Equal("+OK\r\n", connection.Text("REPLICAOF", "NO", "ONE"));
        using (var connection = other.Connect()) connection.Call("REPLICAOF", "127.0.0.1", promoted.Port.ToString());
        ReplicationChecks.WaitCaughtUp(promoted, other);
        other.WaitForOutput("Successful partial resynchronization with master.");
        foreach (var server in new ServerProcess[] { promoted, other })
        {
            using var connection = server.Connect();
            foreach (var (key, value) in acknowledged) Assert.Equal($"${value.Length}\r\n{value}\r\n", connection.Text("GET", key));
        }
    }
}
