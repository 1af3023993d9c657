using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Replication;

/// <summary>
/// A diskless full sync (Redis's rdbSaveToSlavesSockets and its pipe): the background save job
/// writes the RDB image into <see cref="Sink"/> on its writer thread, framed as
/// <c>$EOF:&lt;40 random hex&gt;\r\n</c> image <c>&lt;the same 40&gt;</c>, and no file is written. On the
/// executor, <see cref="Pump"/> hands each chunk to every replica of the transfer, and only while
/// all of them have room, so the slowest replica paces the snapshot walk and memory stays bounded
/// (a few chunks queued plus each replica's output). Replicas arriving later wait for the next one.
/// </summary>
sealed class DisklessTransfer : IRdbSaveTarget
{
    const int ChunkBytes = 64 * 1024;
    const int MaxQueuedChunks = 16;

    readonly BlockingCollection<(byte[] Buffer, int Length)> _chunks = new(MaxQueuedChunks);
    readonly CancellationTokenSource _stop = new();
    readonly ManualResetEventSlim _delivered = new();
    readonly ILogger _logger;
    readonly byte[] _mark = Encoding.ASCII.GetBytes(Io.RandomId.NewHex());
    readonly ChunkStream _sink;

    public DisklessTransfer(List<ReplicaLink> replicas, ILogger logger)
    {
        Replicas = replicas;
        _logger = logger;
        _sink = new ChunkStream(this);
        _sink.Write("$EOF:"u8);
        _sink.Write(_mark);
        _sink.Write("\r\n"u8);
    }

    /// <summary>The replicas it feeds (executor): one leaves when its connection closes.</summary>
    public List<ReplicaLink> Replicas { get; }

    public Stream Sink => _sink;
    public bool IsSocket => true;

    // ---- writer thread -----------------------------------------------------------------------

    void Publish(byte[] buffer, int length)
    {
        try
        {
            _chunks.Add((buffer, length), _stop.Token);
        }
        catch (OperationCanceledException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new IOException("the transfer to the replicas was stopped");
        }
    }

    /// <summary>The image is written: the mark ends it, and the job ends once every byte is in the replicas' output.</summary>
    public bool Complete()
    {
        _sink.Write(_mark);
        _sink.Flush();
        _chunks.CompleteAdding();
        WaitHandle.WaitAny([_delivered.WaitHandle, _stop.Token.WaitHandle]);
        return _delivered.IsSet;
    }

    /// <summary>The child's failure is logged by the job's end (Background transfer error).</summary>
    public void WriteFailed(Exception error) => _stop.Cancel();

    public void Interrupt() => _stop.Cancel();

    public void Abandon()
    {
        while (_chunks.TryTake(out var chunk)) ArrayPool<byte>.Shared.Return(chunk.Buffer);
    }

    public void Dispose()
    {
        Abandon();
        _sink.Dispose();
        _chunks.Dispose();
        _stop.Dispose();
        _delivered.Dispose();
    }

    // ---- executor ----------------------------------------------------------------------------

    /// <summary>
    /// Moves queued chunks into every replica's output while each has less than
    /// <paramref name="maxInFlight"/> bytes unsent (Redis's rdbPipeReadHandler); returns the replicas written to.
    /// </summary>
    public bool Pump(long maxInFlight)
    {
        bool wrote = false;
        while (Replicas.TrueForAll(r => HasRoom(r, maxInFlight)) && _chunks.TryTake(out var chunk))
        {
            foreach (var replica in Replicas) replica.Session.Reply.Raw(chunk.Buffer.AsSpan(0, chunk.Length));
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
            wrote = true;
        }
        if (!_delivered.IsSet && _chunks.IsCompleted)
        {
            _logger.LogWarning("Diskless rdb transfer, done reading from pipe, {Count} replicas still up.", Replicas.Count);
            _delivered.Set();
        }
        return wrote;
    }

    static bool HasRoom(ReplicaLink replica, long maxInFlight) =>
        replica.Session.Connection is not { } connection || replica.Session.Closed
        || connection.PendingOutputBytes + replica.Session.Reply.Length < maxInFlight;

    /// <summary>The writer thread's side: bytes gathered into pooled chunks, each queued when full.</summary>
    sealed class ChunkStream(DisklessTransfer transfer) : Stream
    {
        byte[] _buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        int _used;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                int n = Math.Min(buffer.Length, _buffer.Length - _used);
                buffer[..n].CopyTo(_buffer.AsSpan(_used));
                _used += n;
                buffer = buffer[n..];
                if (_used == _buffer.Length) Flush();
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush()
        {
            if (_used == 0) return;
            var full = _buffer;
            int length = _used;
            _buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            _used = 0;
            transfer.Publish(full, length);
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && _buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
            }
            base.Dispose(disposing);
        }
    }
}
