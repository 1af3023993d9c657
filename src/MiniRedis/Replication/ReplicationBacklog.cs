namespace MiniRedis.Replication;

/// <summary>
/// Redis's replication backlog: a circular buffer of the last <c>repl-backlog-size</c> bytes of the
/// replication stream, so a replica that lost its link can continue (PSYNC, +CONTINUE) from its
/// offset instead of a full sync. <see cref="FirstOffset"/> is the stream offset of the oldest byte
/// held (Redis's repl_backlog->offset), the newest is the master offset.
/// </summary>
public sealed class ReplicationBacklog
{
    byte[] _buffer;
    int _head;

    /// <param name="size">Capacity in bytes (repl-backlog-size).</param>
    /// <param name="masterOffset">The master offset now: the next byte fed is the one after it.</param>
    public ReplicationBacklog(long size, long masterOffset)
    {
        _buffer = new byte[Math.Clamp(size, 16 * 1024, Array.MaxLength)];
        FirstOffset = masterOffset + 1;
    }

    public long Size => _buffer.Length;

    /// <summary>repl_backlog_first_byte_offset.</summary>
    public long FirstOffset { get; private set; }

    /// <summary>repl_backlog_histlen: bytes held.</summary>
    public long HistoryLength { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.Length >= _buffer.Length)
        {
            // Only the tail fits: the history is exactly the last Size bytes.
            FirstOffset += HistoryLength + data.Length - _buffer.Length;
            data[^_buffer.Length..].CopyTo(_buffer);
            _head = 0;
            HistoryLength = _buffer.Length;
            return;
        }
        int first = Math.Min(data.Length, _buffer.Length - _head);
        data[..first].CopyTo(_buffer.AsSpan(_head));
        data[first..].CopyTo(_buffer);
        _head = (_head + data.Length) % _buffer.Length;
        HistoryLength += data.Length;
        if (HistoryLength > _buffer.Length)
        {
            FirstOffset += HistoryLength - _buffer.Length;
            HistoryLength = _buffer.Length;
        }
    }

    /// <summary>Whether the bytes from <paramref name="offset"/> to the end are all held (Redis's PSYNC range check).</summary>
    public bool Holds(long offset) => offset >= FirstOffset && offset <= FirstOffset + HistoryLength;

    /// <summary>Copies the bytes from stream offset <paramref name="offset"/> to the newest, in order, to <paramref name="write"/>.</summary>
    public long CopyFrom(long offset, Action<ReadOnlyMemory<byte>> write)
    {
        long skip = offset - FirstOffset;
        long length = HistoryLength - skip;
        if (length <= 0) return 0;
        int tail = (int)((_head - HistoryLength + _buffer.Length) % _buffer.Length);
        int start = (int)((tail + skip) % _buffer.Length);
        int first = (int)Math.Min(length, _buffer.Length - start);
        write(_buffer.AsMemory(start, first));
        if (length > first) write(_buffer.AsMemory(0, (int)(length - first)));
        return length;
    }

    /// <summary>The history held moves <paramref name="delta"/> bytes later in the stream (a master restarted from its dump: the DELs fed while loading follow the saved offset).</summary>
    public void Rebase(long delta) => FirstOffset += delta;

    /// <summary>CONFIG SET repl-backlog-size: a new buffer holding as much of the history as fits.</summary>
    public void Resize(long size)
    {
        var old = this;
        var resized = new ReplicationBacklog(size, FirstOffset - 1);
        old.CopyFrom(FirstOffset, chunk => resized.Append(chunk.Span));
        (_buffer, _head, FirstOffset, HistoryLength) = (resized._buffer, resized._head, resized.FirstOffset, resized.HistoryLength);
    }
}
