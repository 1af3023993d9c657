using System.Globalization;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// The full sync at size, both ways: a dataset of every type (<see cref="Keys"/> keys) on the
/// master, a replica of the other kind synced from it (diskless, the default), then live writes;
/// the datasets compared key by key.
/// </summary>
[Trait("Category", "Differential")]
public sealed class LargeDatasetTests
{
    /// <summary>
    /// The 1M keys. Each test costs ~40 s of CPU (loading both sides, the sync, one DEBUG
    /// DIGEST-VALUE per 10,000 keys on each side; benchmarks/RESULTS.md, session 8, s8-repl).
    /// </summary>
    const int Keys = 1_000_000;

    [Fact]
    public void RealReplicaOfMiniRedisMaster() => SyncThenLiveWrites(new MiniRedisProcess(), master => new RealRedisProcess("--replicaof", "127.0.0.1", master));

    [Fact]
    public void MiniRedisReplicaOfRealMaster() => SyncThenLiveWrites(new RealRedisProcess(), master => new MiniRedisProcess("--replicaof", "127.0.0.1", master));

    static void SyncThenLiveWrites(ServerProcess masterProcess, Func<string, ServerProcess> startReplica)
    {
        using var master = masterProcess;
        LargeDataset.Load(master, 0, Keys);
        using var replica = startReplica(master.Port.ToString(CultureInfo.InvariantCulture));
        // A live stream beside the sync: new keys and overwrites of synced ones.
        LargeDataset.Load(master, Keys - 2_000, Keys + 2_000, pass: 1);
        using (var connection = master.Connect()) ReplicationChecks.LiveWrites(connection);
        ReplicationChecks.WaitCaughtUp(master, replica);
        var expected = LargeDataset.Lines(master);
        Assert.Equal(Keys + 2_000 + 17, expected.Count);
        Assert.Equal(expected, LargeDataset.Lines(replica));
    }
}
