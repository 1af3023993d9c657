using MiniRedis.Replication;

namespace MiniRedis.Tests.Replication;

/// <summary>The backlog's offsets and wrap-around: what PSYNC may continue from, and the bytes it gets.</summary>
[Trait("Category", "Unit")]
public sealed class ReplicationBacklogTests
{
    static byte[] From(ReplicationBacklog backlog, long offset)
    {
        var bytes = new List<byte>();
        backlog.CopyFrom(offset, chunk => bytes.AddRange(chunk.ToArray()));
        return [.. bytes];
    }

    [Fact]
    public void HoldsTheLastSizeBytesAcrossWrapAround()
    {
        var backlog = new ReplicationBacklog(16 * 1024, masterOffset: 100);
        Assert.Equal(101, backlog.FirstOffset);
        var stream = Enumerable.Range(0, 40_000).Select(i => (byte)(i * 7)).ToArray();
        for (int i = 0; i < stream.Length; i += 1000) backlog.Append(stream.AsSpan(i, Math.Min(1000, stream.Length - i)));
        Assert.Equal(16 * 1024, backlog.HistoryLength);
        long first = 101 + stream.Length - 16 * 1024;
        Assert.Equal(first, backlog.FirstOffset);
        Assert.False(backlog.Holds(first - 1));
        Assert.True(backlog.Holds(first));
        Assert.True(backlog.Holds(101 + stream.Length));
        Assert.False(backlog.Holds(102 + stream.Length));
        Assert.Equal(stream[^(16 * 1024)..], From(backlog, first));
        Assert.Equal(stream[^10..], From(backlog, 101 + stream.Length - 10));
        Assert.Empty(From(backlog, 101 + stream.Length));
    }

    [Fact]
    public void AnAppendLargerThanTheBufferKeepsItsTail()
    {
        var backlog = new ReplicationBacklog(16 * 1024, masterOffset: 0);
        backlog.Append([1, 2, 3]);
        var big = Enumerable.Range(0, 20_000).Select(i => (byte)i).ToArray();
        backlog.Append(big);
        Assert.Equal(3 + 20_000 - 16 * 1024 + 1, backlog.FirstOffset);
        Assert.Equal(big[^(16 * 1024)..], From(backlog, backlog.FirstOffset));
    }

    [Fact]
    public void ResizeKeepsWhatFits()
    {
        var backlog = new ReplicationBacklog(32 * 1024, masterOffset: 0);
        var stream = Enumerable.Range(0, 30_000).Select(i => (byte)(i % 251)).ToArray();
        backlog.Append(stream);
        backlog.Resize(16 * 1024);
        Assert.Equal(16 * 1024, backlog.Size);
        Assert.Equal(stream[^(16 * 1024)..], From(backlog, backlog.FirstOffset));
        Assert.Equal(1 + 30_000 - 16 * 1024, backlog.FirstOffset);
    }
}
