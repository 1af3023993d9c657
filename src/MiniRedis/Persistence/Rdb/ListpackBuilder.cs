using System.Buffers.Binary;
using MiniRedis.Data;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// Builds a listpack by appending into one reused buffer, then hands out the finished bytes: quicklist
/// nodes and sorted sets on save, hashes and converted ziplists/zipmaps on load. One copy per value
/// instead of the reallocation per entry that <see cref="Listpack.Append(byte[], ReadOnlySpan{byte})"/> costs.
/// </summary>
internal sealed class ListpackBuilder
{
    byte[] _buffer = new byte[1024];
    int _length = Listpack.HeaderSize;

    public int Count { get; private set; }

    /// <summary>Bytes of the finished listpack, end marker included.</summary>
    public int TotalBytes => _length + 1;

    public void Reset()
    {
        _length = Listpack.HeaderSize;
        Count = 0;
    }

    public void Append(in ListpackValue value)
    {
        int size = value.EntrySize;
        if (_length + size + 1 > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + size + 1));
        value.Write(_buffer.AsSpan(_length));
        _length += size;
        Count++;
    }

    public void Append(ReadOnlySpan<byte> value) => Append(new ListpackValue(value));

    public void Append(long value) => Append(new ListpackValue(value));

    /// <summary>The listpack's bytes, valid until the next change.</summary>
    public ReadOnlySpan<byte> Finish()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)TotalBytes);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(4), (ushort)Math.Min(Count, Listpack.UnknownCount));
        _buffer[_length] = 0xFF;
        return _buffer.AsSpan(0, TotalBytes);
    }

    public byte[] ToArray() => Finish().ToArray();

    /// <summary>The buffer the finished listpack starts (for the Listpack API, which walks arrays; the rest is unused).</summary>
    public byte[] Buffer => _buffer;
}
