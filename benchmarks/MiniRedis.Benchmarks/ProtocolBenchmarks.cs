using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using MiniRedis.Protocol;

namespace MiniRedis.Benchmarks;

/// <summary>
/// The per-command protocol work of a connection: parsing a pipelined batch of GET/SET commands
/// (as redis-benchmark -P sends them) and writing their replies. Results are per command; with the
/// batch and reply buffers already grown, steady state must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    const int Commands = 100;
    const int Value = 3; // redis-benchmark's default payload size

    readonly CommandBatch _batch = new();
    readonly ReplyBuffer _replies = new();
    readonly byte[] _value = Encoding.ASCII.GetBytes(new string('x', Value));
    ReadOnlySequence<byte> _pipeline;

    /// <summary>
    /// 0: the whole batch in one buffer. Otherwise the batch arrives in segments of this size, so some
    /// commands straddle a boundary, as they do at the end of every buffer a pipe hands over.
    /// </summary>
    [Params(0, 256)]
    public int SegmentBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var request = new StringBuilder();
        for (int i = 0; i < Commands; i++)
        {
            string key = $"key:{i:D12}";
            request.Append(i % 2 == 0
                ? $"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n${Value}\r\n{new string('x', Value)}\r\n"
                : $"*2\r\n$3\r\nGET\r\n${key.Length}\r\n{key}\r\n");
        }
        _pipeline = BufferSegment.Split(Encoding.ASCII.GetBytes(request.ToString()), SegmentBytes);
        // Grow the reusable buffers once, as the first batches on a connection do.
        ParsePipelinedBatch();
        WriteReplies();
    }

    [Benchmark(OperationsPerInvoke = Commands)]
    public int ParsePipelinedBatch()
    {
        _batch.Clear();
        RespParser.Parse(_pipeline, _batch, new ParseLimits(MaxBulkLength: 512L * 1024 * 1024, MaxBatchBytes: int.MaxValue, Unauthenticated: false));
        if (_batch.Count != Commands) throw new InvalidOperationException($"parsed {_batch.Count} commands");
        return _batch.Count;
    }

    [Benchmark(OperationsPerInvoke = Commands)]
    public long WriteReplies()
    {
        _replies.Clear();
        for (int i = 0; i < Commands; i++)
        {
            if (i % 2 == 0) _replies.Bulk(_value);
            else _replies.Integer(i);
        }
        return _replies.Length;
    }
}

/// <summary>Cuts a byte array into a multi-segment sequence, like the buffers a PipeReader returns.</summary>
sealed class BufferSegment : ReadOnlySequenceSegment<byte>
{
    BufferSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, int segmentBytes)
    {
        if (segmentBytes <= 0 || segmentBytes >= bytes.Length) return new ReadOnlySequence<byte>(bytes);
        var first = new BufferSegment(bytes.AsMemory(0, segmentBytes), 0);
        var last = first;
        for (int start = segmentBytes; start < bytes.Length; start += segmentBytes)
        {
            var next = new BufferSegment(bytes.AsMemory(start, Math.Min(segmentBytes, bytes.Length - start)), start);
            last.Next = next;
            last = next;
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
