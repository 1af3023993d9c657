using MiniRedis.Config;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// The RDB loader's stream entry, as a replica's full sync will use it: an image read from a stream
/// that cannot seek and hands over a few bytes per read (as a socket does) loads the same dataset;
/// a transfer cut short is refused and leaves the dataset marked incomplete.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RdbStreamLoadTests() : AofBootTests("rdb-stream-")
{
    RedisServer Start()
    {
        var server = InProcessClient.StartServer(ServerConfig.Parse($"save \"\"\nenable-debug-command yes\ndir {Dir}"));
        Servers.Add(server);
        return server;
    }

    static readonly string[] Reads =
        ["DBSIZE", "GET key:0", "GET key:1999", "LRANGE list 0 -1", "HGETALL hash", "SORT set ALPHA", "ZRANGE zset 0 -1 WITHSCORES", "XRANGE stream - +", "GET volatile", "EXISTS key:2000"];

    /// <summary>What reads of every type answer: two servers answering the same hold the same dataset.</summary>
    static string Dataset(InProcessClient client) => string.Join("|", Reads.Select(client.Run));

    /// <summary>A master's dataset of every type, saved: the dump's bytes and what reads of it answer.</summary>
    (byte[] Image, string Digest) MasterImage()
    {
        var master = new InProcessClient(Start());
        Assert.Equal("+OK\r\n", master.Run("DEBUG POPULATE 2000 key 20"));
        master.Run("RPUSH list a b c");
        master.Run("HSET hash f1 v1 f2 v2");
        master.Run("SADD set x y z");
        master.Run("ZADD zset 1 a 2 b");
        master.Run("XADD stream 1-1 f v");
        master.Run("SET volatile v PX 600000");
        Assert.Equal("+OK\r\n", master.Run("SAVE"));
        return (File.ReadAllBytes(Path.Combine(Dir, "dump.rdb")), Dataset(master));
    }

    [Fact]
    public void An_image_arriving_a_few_bytes_at_a_time_loads_the_masters_dataset()
    {
        var (image, digest) = MasterImage();
        var replica = Start();
        using var transfer = new TrickleStream(image);
        bool loaded = replica.Executor.InvokeAsync(() =>
            RdbLoading.Load(replica.Persistence.Host, replica.Rdb, transfer, image.Length, RdbLoadOptions.ReplicaSync("master"))).GetAwaiter().GetResult();
        Assert.True(loaded);
        var client = new InProcessClient(replica);
        Assert.Equal(digest, Dataset(client));
        Assert.StartsWith(":2006\r\n", digest);
        Assert.True(long.Parse(client.Run("PTTL volatile")[1..^2]) > 0);
        Assert.Contains("loading:0\r\n", client.Run("INFO persistence"));
    }

    [Fact]
    public void A_transfer_cut_short_is_refused_and_the_dataset_stays_incomplete()
    {
        var (image, _) = MasterImage();
        var replica = Start();
        using var transfer = new TrickleStream(image[..(image.Length / 2)]);
        bool loaded = replica.Executor.InvokeAsync(() =>
            RdbLoading.Load(replica.Persistence.Host, replica.Rdb, transfer, image.Length, RdbLoadOptions.ReplicaSync("master"))).GetAwaiter().GetResult();
        Assert.False(loaded);
        Assert.False(replica.Keyspace.Complete);
        Assert.Contains("loading:0\r\n", new InProcessClient(replica).Run("INFO persistence"));
    }

    /// <summary>A stream that cannot seek and gives at most 7 bytes per read.</summary>
    sealed class TrickleStream(byte[] data) : Stream
    {
        int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 7), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }
    }
}
