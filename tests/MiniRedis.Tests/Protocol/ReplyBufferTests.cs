using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Tests.Protocol;

/// <summary>The segmented reply buffer: long rounds of replies never need one array past the segment bound.</summary>
[Trait("Category", "Unit")]
public sealed class ReplyBufferTests
{
    const int SegmentSize = 1024;
    // The client's own first buffer may grow to 16 KiB before pooled segments are used.
    const int LargestArray = 16 * 1024;

    static byte[] Value(int length, byte seed) => [.. Enumerable.Range(0, length).Select(i => (byte)(seed + i))];

    static byte[] ExpectedBulks(IEnumerable<byte[]> values)
    {
        var expected = new MemoryStream();
        foreach (var value in values)
        {
            expected.Write(Encoding.ASCII.GetBytes($"${value.Length}\r\n"));
            expected.Write(value);
            expected.Write("\r\n"u8);
        }
        return expected.ToArray();
    }

    [Fact]
    public void ManyLargeReplies_AreChunkedIntoBoundedSegments()
    {
        var reply = new ReplyBuffer(SegmentSize);
        var values = Enumerable.Range(0, 300).Select(i => Value(3000 + i, (byte)i)).ToList();
        foreach (var value in values) reply.Bulk(value);

        Assert.Equal(ExpectedBulks(values), reply.ToArray());
        Assert.True(reply.SegmentCount > 100);
        for (int i = 0; i < reply.SegmentCount; i++)
            Assert.InRange(reply.Segment(i).Array.Length, 1, LargestArray);
    }

    /// <summary>A command that threw after writing part of its reply: the cut may lie inside an open deferred array.</summary>
    [Fact]
    public void Truncate_DropsAPartialReplyInsideAnOpenDeferredArray()
    {
        var reply = new ReplyBuffer(SegmentSize);
        var before = Value(20_000, 3);
        reply.Bulk(before);
        long mark = reply.Length;
        reply.BeginDeferredArray();
        foreach (var i in Enumerable.Range(0, 100)) reply.Bulk(Value(700, (byte)i));
        Assert.True(reply.Length > mark + 3 * SegmentSize);

        reply.Truncate(mark);
        reply.Error("ERR failed");
        int array = reply.BeginDeferredArray();
        reply.Integer(7);
        reply.EndDeferredArray(array, 1);

        Assert.Equal([.. ExpectedBulks([before]), .. "-ERR failed\r\n*1\r\n:7\r\n"u8], reply.ToArray());
    }

    /// <summary>The cut lies in a segment sealed since: the segments after it are given back.</summary>
    [Fact]
    public void Truncate_DropsAPartialReplyThatSealedSegments()
    {
        var reply = new ReplyBuffer(SegmentSize);
        var before = Value(20_000, 3);
        reply.Bulk(before);
        long mark = reply.Length;
        int segmentsBefore = reply.SegmentCount;
        foreach (var i in Enumerable.Range(0, 40)) reply.Bulk(Value(3000, (byte)i));
        Assert.True(reply.SegmentCount > segmentsBefore + 40);

        reply.Truncate(mark);
        reply.Ok();

        Assert.Equal([.. ExpectedBulks([before]), .. "+OK\r\n"u8], reply.ToArray());
    }

    [Fact]
    public void DeferredArrays_SpanningSegments_GetTheirHeaderInPlace()
    {
        var reply = new ReplyBuffer(SegmentSize);
        var filler = Value(20_000, 7);
        reply.Bulk(filler);
        int outer = reply.BeginDeferredArray();
        reply.Integer(1);
        int inner = reply.BeginDeferredArray();
        var elements = Enumerable.Range(0, 50).Select(i => Value(500, (byte)i)).ToList();
        foreach (var element in elements) reply.Bulk(element);
        reply.EndDeferredArray(inner, elements.Count);
        reply.EndDeferredArray(outer, 2);
        reply.Ok();

        var expected = new MemoryStream();
        expected.Write(ExpectedBulks([filler]));
        expected.Write("*2\r\n:1\r\n*50\r\n"u8);
        expected.Write(ExpectedBulks(elements));
        expected.Write("+OK\r\n"u8);
        Assert.Equal(expected.ToArray(), reply.ToArray());
    }

    [Fact]
    public void MoveTo_HandsOverEverythingAfterTheSentBytes_AndClears()
    {
        var reply = new ReplyBuffer(SegmentSize);
        var values = Enumerable.Range(0, 40).Select(i => Value(900, (byte)i)).ToList();
        foreach (var value in values) reply.Bulk(value);
        var all = reply.ToArray();
        const int sent = 5_000;

        var queue = new Queue<ReplySegment>();
        reply.MoveTo(queue, sent);

        var moved = new MemoryStream();
        foreach (var segment in queue)
        {
            moved.Write(segment.Memory.Span);
            segment.Release();
        }
        Assert.Equal(all[sent..], moved.ToArray());
        Assert.Equal(0, reply.Length);
        reply.Ok();
        Assert.Equal("+OK\r\n"u8.ToArray(), reply.ToArray());
    }

    [Fact]
    public void Clear_KeepsWritingCorrectlyAcrossRounds()
    {
        var reply = new ReplyBuffer(SegmentSize);
        for (int round = 0; round < 5; round++)
        {
            var value = Value(50_000 * round + 10, (byte)round);
            reply.Bulk(value);
            reply.Integer(round);
            Assert.Equal([.. ExpectedBulks([value]), .. Encoding.ASCII.GetBytes($":{round}\r\n")], reply.ToArray());
            reply.Clear();
            Assert.Equal(0, reply.Length);
        }
    }

    [Fact]
    public void PastDropAfter_RepliesAreDroppedAndMemoryStaysBounded()
    {
        var reply = new ReplyBuffer(SegmentSize) { DropAfter = 10_000 };
        for (int i = 0; i < 1000; i++) reply.Bulk(Value(3000, (byte)i));

        Assert.True(reply.Overflowed);
        long held = 0;
        for (int i = 0; i < reply.SegmentCount; i++) held += reply.Segment(i).Array.Length;
        Assert.InRange(held, 0, 10_000 + LargestArray + SegmentSize);
        reply.Clear();
        Assert.False(reply.Overflowed);
    }
}
