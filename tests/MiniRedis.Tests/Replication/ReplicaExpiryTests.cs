using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// A replica leaves keys whose TTL passed to its master's DEL (Redis's expireIfNeeded): its clients find
/// them missing, but they stay in the dataset, and its master's commands still see them alive — so a read
/// on a lagging replica never makes it diverge from its master. Same script on a Redis 7.0.15 pair.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ReplicaExpiryTests
{
    [Fact]
    public void ReplicaHidesExpiredKeysUntilItsMastersDelArrives()
    {
        Assert.Equal(Script(new RealRedisProcess(), new RealRedisProcess()), Script(new MiniRedisProcess(), new MiniRedisProcess()));
    }

    static List<string> Script(ServerProcess master, ServerProcess replica)
    {
        using (master)
        using (replica)
        {
            using var onMaster = master.Connect();
            using var onReplica = replica.Connect();
            // The master deletes nothing on its own: a key expires only when the master looks it up.
            onMaster.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
            onReplica.Call("REPLICAOF", "127.0.0.1", master.Port.ToString());
            onMaster.Call("SET", "short", "v", "PX", "3000");
            onMaster.Call("SET", "counter", "10", "PX", "3000");
            onMaster.Call("SET", "plain", "v");
            ReplicationChecks.WaitCaughtUp(master, replica);
            // A lagging replica: it applies the master's INCR (sent while the key lives) once the TTL has
            // passed on its own clock, where the key must still count as alive (else it would make a new one).
            var sleeping = Task.Run(() =>
            {
                using var slow = replica.Connect();
                return slow.Text("DEBUG", "SLEEP", "3.5");
            });
            var seen = new List<string> { onMaster.Text("INCR", "counter"), sleeping.Result };
            ReplicationChecks.WaitCaughtUp(master, replica);
            seen.AddRange(
            [
                onReplica.Text("GET", "short"), onReplica.Text("EXISTS", "short"), onReplica.Text("TTL", "short"),
                onReplica.Text("GET", "counter"), onReplica.Text("DBSIZE"),
            ]);
            // The master's lookup deletes the key and its DEL reaches the replica.
            seen.Add(onMaster.Text("GET", "short"));
            ReplicationChecks.WaitCaughtUp(master, replica);
            seen.Add(onReplica.Text("DBSIZE"));
            seen.Add(onMaster.Text("GET", "counter"));
            ReplicationChecks.WaitCaughtUp(master, replica);
            seen.Add(onReplica.Text("DBSIZE"));
            seen.Add(onReplica.Text("GET", "plain"));
            return seen;
        }
    }
}
