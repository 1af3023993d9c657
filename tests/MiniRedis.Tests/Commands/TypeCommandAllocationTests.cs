using MiniRedis.Config;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// The bitmap, HyperLogLog, geo and stream writes of the issue 16/17 benchmarks allocate nothing per
/// command in steady state beyond what they store, run as a connection's batch. PFADD once wrapped a
/// sparse value in a new object per call (32 bytes).
/// </summary>
[Trait("Category", "Unit")]
public sealed class TypeCommandAllocationTests : IDisposable
{
    readonly RedisServer _server = InProcessClient.StartServer(ServerConfig.Parse("save \"\""));

    public void Dispose() => _server.Stop();

    [Theory]
    [InlineData("PFADD", "hll", "element")]
    [InlineData("SETBIT", "bits", "1000", "1")]
    [InlineData("GEOADD", "geo", "13.361389", "38.115556", "Palermo")]
    public void Writes_allocate_nothing_per_call(params string[] command)
    {
        var client = new InProcessClient(_server);
        long allocated = AllocationProbe.BytesFor10000Calls(_server, client, command);
        Assert.True(allocated < 10_000, $"10,000 {command[0]} calls allocated {allocated} bytes");
    }

    [Fact]
    public void Pfadd_to_a_dense_value_allocates_nothing_per_call()
    {
        var client = new InProcessClient(_server);
        client.Run("CONFIG SET hll-sparse-max-bytes 0");
        client.Run("PFADD dense a b c");
        Assert.Equal("+dense\r\n", client.Run("PFDEBUG ENCODING dense"));
        long allocated = AllocationProbe.BytesFor10000Calls(_server, client, "PFADD", "dense", "element");
        Assert.True(allocated < 10_000, $"10,000 PFADDs allocated {allocated} bytes");
    }

    [Fact]
    public void Geoadd_moving_a_member_of_a_skiplist_set_allocates_nothing_per_call()
    {
        var client = new InProcessClient(_server);
        client.Run("CONFIG SET zset-max-listpack-entries 0");
        client.Run("GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania");
        Assert.Equal("$8\r\nskiplist\r\n", client.Run("OBJECT ENCODING geo"));
        // Each call moves Palermo away and the call after it back: the score update's dictionary write and skiplist relink every time.
        var back = AllocationProbe.Batch("GEOADD", "geo", "2.352222", "48.856613", "Palermo");
        long allocated = AllocationProbe.BytesFor10000Calls(_server, client, () =>
        {
            _server.Executor.ProcessBatch(client.Session, back);
            client.Session.Reply.Clear();
        }, "GEOADD", "geo", "13.361389", "38.115556", "Palermo");
        // The last move (the one after the last call) left Palermo at the other place.
        client.Run("GEOADD other 2.352222 48.856613 Palermo");
        Assert.Equal(client.Run("ZSCORE other Palermo"), client.Run("ZSCORE geo Palermo"));
        Assert.True(allocated < 10_000, $"10,000 GEOADD score moves allocated {allocated} bytes");
    }

    [Fact]
    public void Xadd_allocates_no_more_than_the_entries_it_stores()
    {
        var client = new InProcessClient(_server);
        long allocated = AllocationProbe.BytesFor10000Calls(_server, client, "XADD", "events", "*", "sensor", "1", "value", "1");
        // Each entry's listpack bytes (about 17: flags, ID deltas, the value, the back-length) plus the
        // spare room of full nodes; nothing per command besides.
        Assert.Equal(":11000\r\n", client.Run("XLEN events"));
        Assert.True(allocated < 10_000 * 24, $"10,000 XADDs allocated {allocated} bytes");
    }

    /// <summary>A stream with a consumer group and entries pending, as streams-compare.sh builds it.</summary>
    static InProcessClient ClientWithQueue(RedisServer server)
    {
        var client = new InProcessClient(server);
        for (int i = 0; i < 300; i++) client.Run($"XADD queue 1-{i} job {i}");
        client.Run("XGROUP CREATE queue workers 0");
        client.Run("XREADGROUP GROUP workers consumer COUNT 200 STREAMS queue >");
        return client;
    }

    [Theory]
    [InlineData("XACK", "queue", "workers", "1-000000000150")]
    [InlineData("XRANGE", "queue", "-", "+", "COUNT", "100")]
    [InlineData("XREVRANGE", "queue", "+", "-", "COUNT", "10")]
    public void Stream_reads_and_acknowledgements_allocate_nothing_per_call(params string[] command)
    {
        // used_memory's re-measure of the key after each command walked the groups through a sorted
        // dictionary's enumerator, which allocates: every command on a stream with groups paid for it.
        var client = ClientWithQueue(_server);
        long allocated = AllocationProbe.BytesFor10000Calls(_server, client, command);
        Assert.True(allocated < 10_000, $"10,000 {command[0]} calls allocated {allocated} bytes");
    }
}
