using System.Buffers;
using System.Numerics;
using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Protocol;

/// <summary>A run of reply bytes; <see cref="Pooled"/> arrays go back to the shared pool once sent.</summary>
public readonly record struct ReplySegment(byte[] Array, int Start, int End, bool Pooled)
{
    public int Length => End - Start;
    public ReadOnlyMemory<byte> Memory => Array.AsMemory(Start, End - Start);

    public void Release()
    {
        if (Pooled) ArrayPool<byte>.Shared.Return(Array);
    }
}

/// <summary>
/// A client's outgoing replies, written by the executor in RESP2 or RESP3 (per <see cref="Resp3"/>)
/// and drained by the connection. Like Redis's reply list, it is a chain of segments rather than one
/// array: a small buffer of the client's own (kept across rounds, so steady traffic allocates
/// nothing), then pooled segments of <see cref="SegmentSize"/> bytes, so a round of many large
/// replies never needs one array over that bound (a single array doubling past 1 GiB hung the
/// server). Only a reply written as one contiguous piece (a deferred array's body, a big error text)
/// can make a segment larger.
/// </summary>
public sealed class ReplyBuffer : IBufferWriter<byte>
{
    public const int DefaultSegmentSize = 128 * 1024;
    const int OwnInitialSize = 1024;
    const int OwnMaxSize = 16 * 1024;

    static readonly byte[] OkReply = "+OK\r\n"u8.ToArray();
    static readonly byte[] NullBulkReply = "$-1\r\n"u8.ToArray();
    static readonly byte[] NullArrayReply = "*-1\r\n"u8.ToArray();
    static readonly byte[] Resp3NullReply = "_\r\n"u8.ToArray();

    readonly List<ReplySegment> _sealed = [];
    long _sealedBytes;
    // The client's own buffer: allocated on the first reply, so a client that never gets one holds nothing.
    byte[] _own = [];
    // The buffer being written: _own, or a pooled segment once _own is full.
    byte[] _buffer = [];
    bool _bufferPooled;
    int _length;
    // Start offsets (in _buffer) of deferred arrays not yet ended, innermost last.
    int[] _deferred = new int[4];
    int _deferredCount;

    public ReplyBuffer(int segmentSize = DefaultSegmentSize) => SegmentSize = segmentSize;

    /// <summary>The size of the pooled segments a long reply is written into.</summary>
    public int SegmentSize { get; }

    /// <summary>The protocol negotiated by HELLO: false for RESP2, true for RESP3.</summary>
    public bool Resp3 { get; set; }

    public long Length => _sealedBytes + _length;

    /// <summary>The client's own buffer's size (CLIENT LIST rbs and rbp): it grows on demand up to 16 KiB, so it is also its peak use.</summary>
    public int OwnBufferSize => _own.Length;

    /// <summary>
    /// Bytes after which the round's replies are dropped instead of kept (0: no bound). The
    /// connection sets it to what is left of the client's output buffer hard limit: a client over it
    /// is closed after the round, so its replies must not grow memory meanwhile (Redis checks the
    /// limit on every reply added).
    /// </summary>
    public long DropAfter { get; set; }

    /// <summary>Whether replies were dropped this round because of <see cref="DropAfter"/>.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>The segments in order (the last one is the buffer being written).</summary>
    public int SegmentCount => _sealed.Count + (_length > 0 ? 1 : 0);

    public ReplySegment Segment(int index) =>
        index < _sealed.Count ? _sealed[index] : new ReplySegment(_buffer, 0, _length, _bufferPooled);

    /// <summary>Every byte written, as one array (tests and small callers only).</summary>
    public byte[] ToArray()
    {
        var all = new byte[Length];
        int at = 0;
        for (int i = 0; i < SegmentCount; i++)
        {
            var segment = Segment(i);
            segment.Memory.Span.CopyTo(all.AsSpan(at));
            at += segment.Length;
        }
        return all;
    }

    /// <summary>Every byte written as one span: the buffer itself while it is one segment, else a copy (a script reading a command's reply).</summary>
    public ReadOnlySpan<byte> ContiguousSpan() => SegmentCount switch
    {
        0 => default,
        1 => Segment(0).Memory.Span,
        _ => ToArray(),
    };

    /// <summary>Forgets the replies (sent), returning pooled segments; the client's own buffer is kept.</summary>
    public void Clear()
    {
        foreach (var segment in _sealed) segment.Release();
        _sealed.Clear();
        _sealedBytes = 0;
        if (_bufferPooled) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = _own;
        _bufferPooled = false;
        _length = 0;
        _deferredCount = 0;
        Overflowed = false;
    }

    /// <summary>
    /// Drops what was written after the first <paramref name="length"/> bytes (the partial reply of a
    /// command that threw): segments sealed past that point are given back, and deferred arrays
    /// opened after it are forgotten. After an overflow dropped replies there is nothing to cut.
    /// </summary>
    public void Truncate(long length)
    {
        if (length >= Length) return;
        while (length < _sealedBytes)
        {
            // Sealed segments start at 0; the one holding the cut becomes the buffer being written.
            // No deferred array spans a seal, so none is open in it.
            var last = _sealed[^1];
            _sealed.RemoveAt(_sealed.Count - 1);
            _sealedBytes -= last.Length;
            if (_bufferPooled) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = last.Array;
            _bufferPooled = last.Pooled;
            _deferredCount = 0;
        }
        _length = (int)(length - _sealedBytes);
        while (_deferredCount > 0 && _deferred[_deferredCount - 1] >= _length) _deferredCount--;
    }

    /// <summary>
    /// Hands every byte after the first <paramref name="skip"/> to <paramref name="into"/> (pooled
    /// segments move, bytes of the client's own buffer are copied into pooled ones), then clears.
    /// </summary>
    public void MoveTo(Queue<ReplySegment> into, long skip)
    {
        for (int i = 0; i < SegmentCount; i++)
        {
            var segment = Segment(i);
            int start = segment.Start + (int)Math.Min(skip, segment.Length);
            skip -= start - segment.Start;
            if (start == segment.End) continue;
            if (segment.Pooled)
            {
                into.Enqueue(segment with { Start = start });
                if (i < _sealed.Count) _sealed[i] = segment with { Pooled = false };
                else _bufferPooled = false;
            }
            else
            {
                int count = segment.End - start;
                var copy = ArrayPool<byte>.Shared.Rent(count);
                segment.Array.AsSpan(start, count).CopyTo(copy);
                into.Enqueue(new ReplySegment(copy, 0, count, Pooled: true));
            }
        }
        Clear();
    }

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 1));
        return _buffer.AsSpan(_length);
    }

    /// <summary>Makes room for <paramref name="extra"/> contiguous bytes after what is written.</summary>
    void Ensure(int extra)
    {
        if (_buffer.Length - _length < extra) Grow(extra);
    }

    void Grow(int extra)
    {
        if (_own.Length == 0 && _buffer.Length == 0 && extra <= OwnMaxSize)
        {
            _own = _buffer = new byte[Math.Max(OwnInitialSize, (int)BitOperations.RoundUpToPowerOf2((uint)extra))];
            return;
        }
        // An open deferred array gets its header inserted later, so its bytes must stay in one piece.
        int keepFrom = _deferredCount > 0 ? _deferred[0] : _length;
        int keep = _length - keepFrom;
        if (!_bufferPooled && _buffer.Length < OwnMaxSize)
        {
            // The client's own buffer grows up to OwnMaxSize before segments are used.
            int size = Math.Min(OwnMaxSize, Math.Max(_buffer.Length * 2, (int)BitOperations.RoundUpToPowerOf2((uint)(_length + extra))));
            if (_length + extra <= size)
            {
                Array.Resize(ref _own, size);
                _buffer = _own;
                return;
            }
        }
        var next = ArrayPool<byte>.Shared.Rent(Math.Max(SegmentSize, keep > 0 && keepFrom == 0 ? 2 * (keep + extra) : keep + extra));
        _buffer.AsSpan(keepFrom, keep).CopyTo(next);
        if (keepFrom > 0)
        {
            _sealed.Add(new ReplySegment(_buffer, 0, keepFrom, _bufferPooled));
            _sealedBytes += keepFrom;
            if (DropAfter > 0 && _sealedBytes + keep > DropAfter) DropSealed();
        }
        else if (_bufferPooled)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
        for (int i = 0; i < _deferredCount; i++) _deferred[i] -= keepFrom;
        _buffer = next;
        _bufferPooled = true;
        _length = keep;
    }

    void DropSealed()
    {
        Overflowed = true;
        foreach (var segment in _sealed) segment.Release();
        _sealed.Clear();
        _sealedBytes = 0;
    }

    public void Raw(ReadOnlySpan<byte> bytes)
    {
        // Long values are copied piecewise, filling each segment, instead of growing one array.
        while (bytes.Length > _buffer.Length - _length && _deferredCount == 0)
        {
            int room = _buffer.Length - _length;
            bytes[..room].CopyTo(_buffer.AsSpan(_length));
            _length += room;
            bytes = bytes[room..];
            Grow(Math.Min(bytes.Length, SegmentSize));
        }
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    void RawAscii(string text)
    {
        Ensure(text.Length);
        _length += Encoding.ASCII.GetBytes(text, _buffer.AsSpan(_length));
    }

    void Prefixed(byte prefix, long value)
    {
        Ensure(24);
        _buffer[_length++] = prefix;
        _length += RedisNumbers.FormatInt64(value, _buffer.AsSpan(_length));
        _buffer[_length++] = (byte)'\r';
        _buffer[_length++] = (byte)'\n';
    }

    void Crlf()
    {
        Ensure(2);
        _buffer[_length++] = (byte)'\r';
        _buffer[_length++] = (byte)'\n';
    }

    public void Ok() => Raw(OkReply);

    public void SimpleString(ReadOnlySpan<byte> text)
    {
        Ensure(text.Length + 3);
        _buffer[_length++] = (byte)'+';
        Raw(text);
        Crlf();
    }

    public void SimpleString(string text)
    {
        Ensure(text.Length + 3);
        _buffer[_length++] = (byte)'+';
        RawAscii(text);
        Crlf();
    }

    /// <summary>An error reply; <paramref name="message"/> starts with its code ("ERR ...", "WRONGTYPE ...").</summary>
    public void Error(string message)
    {
        Ensure(message.Length + 3);
        _buffer[_length++] = (byte)'-';
        // Error texts may quote client bytes; as Redis's addReplyErrorFormat, newlines at the end are
        // trimmed and the others replaced, so the reply stays one line.
        var text = message.AsSpan().TrimEnd("\r\n");
        int start = _length;
        _length += Encoding.Latin1.GetBytes(text, GetSpan(text.Length));
        foreach (ref var b in _buffer.AsSpan(start, _length - start))
        {
            if (b is (byte)'\r' or (byte)'\n') b = (byte)' ';
        }
        Crlf();
    }

    public void Integer(long value) => Prefixed((byte)':', value);

    public void Bulk(ReadOnlySpan<byte> value)
    {
        Prefixed((byte)'$', value.Length);
        Raw(value);
        Crlf();
    }

    public void Bulk(string value)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        Prefixed((byte)'$', count);
        Ensure(count + 2);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
        Crlf();
    }

    public void BulkInteger(long value)
    {
        Span<byte> digits = stackalloc byte[24];
        Bulk(digits[..RedisNumbers.FormatInt64(value, digits)]);
    }

    public void NullBulk() => Raw(Resp3 ? Resp3NullReply : NullBulkReply);

    public void NullArray() => Raw(Resp3 ? Resp3NullReply : NullArrayReply);

    public void ArrayHeader(long count) => Prefixed((byte)'*', count);

    /// <summary>A map of <paramref name="pairs"/> entries (RESP2: a flat array of twice as many).</summary>
    public void MapHeader(long pairs)
    {
        if (Resp3) Prefixed((byte)'%', pairs);
        else Prefixed((byte)'*', pairs * 2);
    }

    /// <summary>An out-of-band message (pub/sub, invalidation): a RESP3 push, a plain array in RESP2.</summary>
    public void PushHeader(long count) => Prefixed(Resp3 ? (byte)'>' : (byte)'*', count);

    public void SetHeader(long count) => Prefixed(Resp3 ? (byte)'~' : (byte)'*', count);

    public void Double(double value)
    {
        Span<byte> text = stackalloc byte[64];
        int n = RedisNumbers.FormatDouble(value, text);
        if (Resp3)
        {
            Ensure(n + 3);
            _buffer[_length++] = (byte)',';
            Raw(text[..n]);
            Crlf();
        }
        else
        {
            Bulk(text[..n]);
        }
    }

    public void Boolean(bool value)
    {
        if (Resp3) Raw(value ? "#t\r\n"u8 : "#f\r\n"u8);
        else Integer(value ? 1 : 0);
    }

    /// <summary>Text meant for humans (INFO, CLIENT LIST): a verbatim string in RESP3, a bulk in RESP2.</summary>
    public void Verbatim(string text)
    {
        if (!Resp3)
        {
            Bulk(text);
            return;
        }
        int count = Encoding.UTF8.GetByteCount(text);
        Prefixed((byte)'=', count + 4);
        Raw("txt:"u8);
        Ensure(count + 2);
        _length += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
        Crlf();
    }

    /// <summary>Starts an array whose length is known only after its elements are written; returns its handle.</summary>
    public int BeginDeferredArray()
    {
        if (_deferredCount == _deferred.Length) Array.Resize(ref _deferred, _deferredCount * 2);
        _deferred[_deferredCount] = _length;
        return _deferredCount++;
    }

    /// <summary>Inserts the header for the array begun with <see cref="BeginDeferredArray"/> (the innermost open one).</summary>
    public void EndDeferredArray(int handle, long count, bool map = false)
    {
        if (handle != _deferredCount - 1) throw new InvalidOperationException("Deferred arrays must end innermost first");
        Span<byte> header = stackalloc byte[24];
        header[0] = map && Resp3 ? (byte)'%' : (byte)'*';
        int n = 1 + RedisNumbers.FormatInt64(map && !Resp3 ? count * 2 : count, header[1..]);
        header[n++] = (byte)'\r';
        header[n++] = (byte)'\n';
        Ensure(n);
        // Read after Ensure: making room may have moved the array's bytes.
        int start = _deferred[--_deferredCount];
        Buffer.BlockCopy(_buffer, start, _buffer, start + n, _length - start);
        header[..n].CopyTo(_buffer.AsSpan(start));
        _length += n;
    }
}
