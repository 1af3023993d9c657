using System.Buffers;
using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Protocol;

/// <summary>
/// A client's outgoing replies, written by the executor in RESP2 or RESP3 (per <see cref="Resp3"/>)
/// and drained by the connection. Grows as needed and is reused, so steady traffic allocates nothing.
/// </summary>
public sealed class ReplyBuffer : IBufferWriter<byte>
{
    static readonly byte[] OkReply = "+OK\r\n"u8.ToArray();
    static readonly byte[] NullBulkReply = "$-1\r\n"u8.ToArray();
    static readonly byte[] NullArrayReply = "*-1\r\n"u8.ToArray();
    static readonly byte[] Resp3NullReply = "_\r\n"u8.ToArray();

    byte[] _buffer;
    int _length;

    public ReplyBuffer(int initialSize = 4096) => _buffer = new byte[initialSize];

    /// <summary>The protocol negotiated by HELLO: false for RESP2, true for RESP3.</summary>
    public bool Resp3 { get; set; }

    public int Length => _length;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public void Clear()
    {
        _length = 0;
        if (_buffer.Length > 1 << 20) _buffer = new byte[4096];
    }

    /// <summary>Drops the first <paramref name="count"/> bytes (already sent).</summary>
    public void Consume(int count)
    {
        Buffer.BlockCopy(_buffer, count, _buffer, 0, _length - count);
        _length -= count;
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

    void Ensure(int extra)
    {
        if (_length + extra <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + extra));
    }

    public void Raw(ReadOnlySpan<byte> bytes)
    {
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

    /// <summary>Starts an array whose length is known only after its elements are written.</summary>
    public int BeginDeferredArray() => _length;

    /// <summary>Inserts the header for an array begun with <see cref="BeginDeferredArray"/>.</summary>
    public void EndDeferredArray(int start, long count, bool map = false)
    {
        Span<byte> header = stackalloc byte[24];
        header[0] = map && Resp3 ? (byte)'%' : (byte)'*';
        int n = 1 + RedisNumbers.FormatInt64(map && !Resp3 ? count * 2 : count, header[1..]);
        header[n++] = (byte)'\r';
        header[n++] = (byte)'\n';
        Ensure(n);
        Buffer.BlockCopy(_buffer, start, _buffer, start + n, _length - start);
        header[..n].CopyTo(_buffer.AsSpan(start));
        _length += n;
    }
}
