using System.Buffers.Binary;

namespace MiniRedis.Data;

/// <summary>
/// Redis's listpack, byte for byte, in one byte[]: small hashes (and sorted sets, list nodes) are kept
/// in this compact form so that a million of them cost little more than in Redis, and so the RDB
/// writer can store the array as-is (types 16, 17, 18) and the loader can adopt a blob it reads.
///
/// Layout: u32 LE total bytes, u16 LE element count (65535 = too many to count, walk to find out),
/// the entries, then 0xFF. An entry is its encoding byte(s) and data, followed by a back-length (the
/// size of encoding+data in 1-5 bytes, readable from its last byte) so the list walks both ways.
/// A string that reads as an integer (string2ll) is stored as the smallest integer encoding, exactly
/// as Redis does, which is also what keeps the bytes identical to Redis's.
///
/// Entries are addressed by byte offset (like Redis's unsigned char* p): <see cref="First"/>,
/// <see cref="Next"/>, <see cref="Prev"/>, <see cref="Seek"/>, and -1 means "no entry". Operations
/// that change the size return a new array (the caller stores it), as Redis's lpInsert returns the
/// realloc'ed pointer; same-sized replacements happen in place.
/// </summary>
public static class Listpack
{
    public const int HeaderSize = 6;
    public const int UnknownCount = 65535;
    const byte EndMarker = 0xFF;

    public static byte[] Create()
    {
        var lp = new byte[HeaderSize + 1];
        BinaryPrimitives.WriteUInt32LittleEndian(lp, (uint)lp.Length);
        lp[HeaderSize] = EndMarker;
        return lp;
    }

    /// <summary>Checks the header and walks every entry; false for anything a loader must reject.</summary>
    public static bool IsValid(ReadOnlySpan<byte> lp)
    {
        if (lp.Length < HeaderSize + 1 || BinaryPrimitives.ReadUInt32LittleEndian(lp) != lp.Length || lp[^1] != EndMarker) return false;
        int count = 0;
        int p = HeaderSize;
        while (lp[p] != EndMarker)
        {
            if (!TryMeasure(lp, p, out int encoded)) return false;
            int backlen = BacklenSize(encoded);
            if (p + encoded + backlen >= lp.Length || ReadBacklen(lp, p + encoded + backlen - 1) != encoded) return false;
            p += encoded + backlen;
            count++;
        }
        int header = BinaryPrimitives.ReadUInt16LittleEndian(lp[4..]);
        return p == lp.Length - 1 && (header == UnknownCount || header == count);
    }

    public static int Count(byte[] lp)
    {
        int count = BinaryPrimitives.ReadUInt16LittleEndian(lp.AsSpan(4));
        if (count != UnknownCount) return count;
        count = 0;
        for (int p = First(lp); p >= 0; p = Next(lp, p)) count++;
        return count;
    }

    /// <summary>Offset of the first entry, or -1 when empty.</summary>
    public static int First(byte[] lp) => lp[HeaderSize] == EndMarker ? -1 : HeaderSize;

    /// <summary>Offset of the last entry, or -1 when empty.</summary>
    public static int Last(byte[] lp) => Prev(lp, lp.Length - 1);

    public static int Next(byte[] lp, int offset)
    {
        // A 7-bit integer (stream flags and ID deltas, small values) is one byte and a one-byte back-length.
        int next = lp[offset] < 0x80 ? offset + 2 : NextAfter(lp, offset);
        return lp[next] == EndMarker ? -1 : next;
    }

    static int NextAfter(byte[] lp, int offset)
    {
        int encoded = EncodedSize(lp, offset);
        return offset + encoded + BacklenSize(encoded);
    }

    /// <summary>The entry before <paramref name="offset"/> (which may be the end marker's offset), or -1.</summary>
    public static int Prev(byte[] lp, int offset)
    {
        if (offset <= HeaderSize) return -1;
        int encoded = (int)ReadBacklen(lp, offset - 1);
        return offset - encoded - BacklenSize(encoded);
    }

    /// <summary>Offset of element <paramref name="index"/> (negative counts from the end), or -1 when out of range.</summary>
    public static int Seek(byte[] lp, long index)
    {
        int p;
        if (index >= 0)
        {
            for (p = First(lp); p >= 0 && index > 0; index--) p = Next(lp, p);
        }
        else
        {
            for (p = Last(lp); p >= 0 && index < -1; index++) p = Prev(lp, p);
        }
        return p;
    }

    /// <summary>The offset just past the last entry: inserting there appends.</summary>
    public static int EndOffset(byte[] lp) => lp.Length - 1;

    /// <summary>The integer held by the entry at <paramref name="offset"/> (which must hold one).</summary>
    public static long GetInteger(byte[] lp, int offset)
    {
        byte b = lp[offset];
        return b < 0x80 ? b : Get(lp, offset).Integer;
    }

    /// <summary>
    /// The entry at <paramref name="offset"/> and where the one after it starts (the end marker's offset
    /// after the last), in one reading of its header: a walk over known counts (a stream entry's fields)
    /// needs no second pass through <see cref="Next"/>.
    /// </summary>
    public static ListpackEntry Read(byte[] lp, int offset, out int next)
    {
        byte b = lp[offset];
        if (b < 0x80)
        {
            next = offset + 2;
            return new ListpackEntry(b);
        }
        if ((b & 0xC0) == 0x80)
        {
            // A string of up to 63 bytes: one header byte, a one-byte back-length.
            int length = b & 0x3F;
            next = offset + 2 + length;
            return new ListpackEntry(new ReadOnlySpan<byte>(lp, offset + 1, length));
        }
        next = NextAfter(lp, offset);
        return Get(lp, offset);
    }

    public static ListpackEntry Get(byte[] lp, int offset)
    {
        byte b = lp[offset];
        if (b < 0x80) return new ListpackEntry(b);
        if ((b & 0xC0) == 0x80) return new ListpackEntry(new ReadOnlySpan<byte>(lp, offset + 1, b & 0x3F));
        if ((b & 0xE0) == 0xC0)
        {
            int raw = ((b & 0x1F) << 8) | lp[offset + 1];
            return new ListpackEntry(raw >= 1 << 12 ? raw - (1 << 13) : raw);
        }
        if ((b & 0xF0) == 0xE0) return new ListpackEntry(new ReadOnlySpan<byte>(lp, offset + 2, ((b & 0x0F) << 8) | lp[offset + 1]));
        var data = lp.AsSpan(offset + 1);
        return b switch
        {
            0xF0 => new ListpackEntry(lp.AsSpan(offset + 5, (int)BinaryPrimitives.ReadUInt32LittleEndian(data))),
            0xF1 => new ListpackEntry(BinaryPrimitives.ReadInt16LittleEndian(data)),
            0xF2 => new ListpackEntry((data[0] | (data[1] << 8) | (data[2] << 16)) << 8 >> 8),
            0xF3 => new ListpackEntry(BinaryPrimitives.ReadInt32LittleEndian(data)),
            0xF4 => new ListpackEntry(BinaryPrimitives.ReadInt64LittleEndian(data)),
            _ => BadEncoding(b, offset),
        };
    }

    /// <summary>Kept out of <see cref="Get"/>, whose hot path then needs no room for the message's formatting.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    static ListpackEntry BadEncoding(byte b, int offset) => throw new InvalidDataException($"bad listpack encoding byte 0x{b:X2} at {offset}");

    /// <summary>Whether the entry at <paramref name="offset"/> holds exactly <paramref name="value"/>.</summary>
    public static bool EntryEquals(byte[] lp, int offset, in ListpackValue value)
    {
        var entry = Get(lp, offset);
        return entry.IsInteger ? value.IsInteger && entry.Integer == value.Integer : !value.IsInteger && entry.Bytes.SequenceEqual(value.Bytes);
    }

    /// <summary>
    /// Redis's lpFind: from <paramref name="offset"/>, compares every (<paramref name="skip"/>+1)-th entry
    /// with <paramref name="value"/>; the matching offset, or -1.
    /// </summary>
    public static int Find(byte[] lp, int offset, ReadOnlySpan<byte> value, int skip)
    {
        var probe = new ListpackValue(value);
        for (int p = offset; p >= 0;)
        {
            if (EntryEquals(lp, p, probe)) return p;
            p = Next(lp, p);
            for (int i = 0; i < skip && p >= 0; i++) p = Next(lp, p);
        }
        return -1;
    }

    public static byte[] Append(byte[] lp, ReadOnlySpan<byte> value) => Insert(lp, EndOffset(lp), new ListpackValue(value));

    public static byte[] Append(byte[] lp, long value) => Insert(lp, EndOffset(lp), new ListpackValue(value));

    /// <summary>Appends two entries with one reallocation (a hash's field and value, a zset's member and score).</summary>
    public static byte[] AppendPair(byte[] lp, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var a = new ListpackValue(first);
        var b = new ListpackValue(second);
        int sizeA = a.EntrySize, sizeB = b.EntrySize;
        int at = EndOffset(lp);
        var result = Resize(lp, at, 0, sizeA + sizeB, countDelta: 2);
        a.Write(result.AsSpan(at));
        b.Write(result.AsSpan(at + sizeA));
        return result;
    }

    /// <summary>
    /// A copy of <paramref name="lp"/> with <paramref name="bytes"/> of room at its end, at the returned
    /// array's <see cref="EndOffset"/> less <paramref name="bytes"/>, for <paramref name="count"/> entries the
    /// caller writes there (<see cref="ListpackValue.Write"/>): many appends for one allocation.
    /// </summary>
    public static byte[] GrowAtEnd(byte[] lp, int bytes, int count) => Resize(lp, EndOffset(lp), 0, bytes, count);

    /// <summary>Inserts before the entry at <paramref name="offset"/> (or appends at <see cref="EndOffset"/>).</summary>
    public static byte[] Insert(byte[] lp, int offset, in ListpackValue value)
    {
        int size = value.EntrySize;
        var result = Resize(lp, offset, 0, size, countDelta: 1);
        value.Write(result.AsSpan(offset));
        return result;
    }

    public static byte[] Insert(byte[] lp, int offset, ReadOnlySpan<byte> value) => Insert(lp, offset, new ListpackValue(value));

    /// <summary>Replaces the entry at <paramref name="offset"/>; in place when the new entry has the same size.</summary>
    public static byte[] Replace(byte[] lp, int offset, in ListpackValue value)
    {
        int oldSize = EntrySizeAt(lp, offset);
        int size = value.EntrySize;
        var result = size == oldSize ? lp : Resize(lp, offset, oldSize, size, countDelta: 0);
        value.Write(result.AsSpan(offset));
        return result;
    }

    public static byte[] Replace(byte[] lp, int offset, ReadOnlySpan<byte> value) => Replace(lp, offset, new ListpackValue(value));

    /// <summary>Removes <paramref name="count"/> entries starting at <paramref name="offset"/> (fewer if the list ends first).</summary>
    public static byte[] Delete(byte[] lp, int offset, int count)
    {
        int end = offset;
        int removed = 0;
        while (removed < count && lp[end] != EndMarker)
        {
            end += EntrySizeAt(lp, end);
            removed++;
        }
        return Resize(lp, offset, end - offset, 0, -removed);
    }

    /// <summary>The whole entry's size at <paramref name="offset"/>: encoding, data and back-length.</summary>
    public static int EntrySizeAt(byte[] lp, int offset)
    {
        int encoded = EncodedSize(lp, offset);
        return encoded + BacklenSize(encoded);
    }

    /// <summary>A copy of <paramref name="lp"/> with <paramref name="removeBytes"/> at <paramref name="at"/> replaced by <paramref name="insertBytes"/> of room.</summary>
    static byte[] Resize(byte[] lp, int at, int removeBytes, int insertBytes, int countDelta)
    {
        var result = GC.AllocateUninitializedArray<byte>(lp.Length - removeBytes + insertBytes);
        lp.AsSpan(0, at).CopyTo(result);
        lp.AsSpan(at + removeBytes).CopyTo(result.AsSpan(at + insertBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(result, (uint)result.Length);
        if (countDelta != 0)
        {
            int count = BinaryPrimitives.ReadUInt16LittleEndian(lp.AsSpan(4));
            // Once too many to count, the header stays "unknown" (as Redis), and readers walk.
            int updated = count == UnknownCount ? UnknownCount : Math.Min(count + countDelta, UnknownCount);
            BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(4), (ushort)updated);
        }
        return result;
    }

    static int EncodedSize(ReadOnlySpan<byte> lp, int offset) => TryMeasure(lp, offset, out int size) ? size : BadEntry(offset);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    static int BadEntry(int offset) => throw new InvalidDataException($"bad listpack entry at {offset}");

    /// <summary>Size of the encoding and data of the entry at <paramref name="offset"/>, bounds-checked.</summary>
    static bool TryMeasure(ReadOnlySpan<byte> lp, int offset, out int size)
    {
        byte b = lp[offset];
        size = b switch
        {
            < 0x80 => 1,
            < 0xC0 => 1 + (b & 0x3F),
            < 0xE0 => 2,
            < 0xF0 => offset + 1 < lp.Length ? 2 + (((b & 0x0F) << 8) | lp[offset + 1]) : -1,
            0xF0 => offset + 5 <= lp.Length ? (int)Math.Min(int.MaxValue, 5L + BinaryPrimitives.ReadUInt32LittleEndian(lp[(offset + 1)..])) : -1,
            0xF1 => 3,
            0xF2 => 4,
            0xF3 => 5,
            0xF4 => 9,
            _ => -1,
        };
        return size > 0 && offset + size < lp.Length;
    }

    internal static int BacklenSize(int encoded) => encoded switch
    {
        <= 127 => 1,
        < 16383 => 2,
        < 2097151 => 3,
        < 268435455 => 4,
        _ => 5,
    };

    /// <summary>Reads a back-length ending at <paramref name="last"/>: 7 bits per byte, the high bit says "more before".</summary>
    static long ReadBacklen(ReadOnlySpan<byte> lp, int last)
    {
        long value = 0;
        for (int shift = 0; last >= HeaderSize && shift <= 28; shift += 7)
        {
            byte b = lp[last--];
            value |= (long)(b & 127) << shift;
            if ((b & 128) == 0) return value;
        }
        return -1;
    }

    internal static void WriteBacklen(Span<byte> dest, int encoded)
    {
        int size = BacklenSize(encoded);
        // The first byte holds the highest bits without the continuation flag; later bytes carry it.
        for (int i = size - 1, shift = 0; i >= 0; i--, shift += 7)
        {
            dest[i] = (byte)(((encoded >> shift) & 127) | (i == 0 ? 0 : 128));
        }
    }
}

/// <summary>One entry read from a listpack: an integer, or a byte string (a view into the listpack).</summary>
public readonly ref struct ListpackEntry
{
    public ListpackEntry(long integer)
    {
        Integer = integer;
        IsInteger = true;
    }

    public ListpackEntry(ReadOnlySpan<byte> bytes) => Bytes = bytes;

    public bool IsInteger { get; }
    public long Integer { get; }
    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>The entry as text; integers are formatted into <paramref name="scratch"/> (<see cref="RedisNumbers.MaxInt64Length"/> bytes).</summary>
    public ReadOnlySpan<byte> AsBytes(Span<byte> scratch) =>
        IsInteger ? scratch[..RedisNumbers.FormatInt64(Integer, scratch)] : Bytes;

    public byte[] ToArray()
    {
        Span<byte> scratch = stackalloc byte[RedisNumbers.MaxInt64Length];
        return AsBytes(scratch).ToArray();
    }
}

/// <summary>A value about to be written into a listpack, with the encoding Redis would choose for it.</summary>
public readonly ref struct ListpackValue
{
    public ListpackValue(ReadOnlySpan<byte> bytes)
    {
        if (RedisNumbers.TryParseInt64(bytes, out long integer))
        {
            Integer = integer;
            IsInteger = true;
        }
        else Bytes = bytes;
    }

    public ListpackValue(long integer)
    {
        Integer = integer;
        IsInteger = true;
    }

    public bool IsInteger { get; }
    public long Integer { get; }
    public ReadOnlySpan<byte> Bytes { get; }

    int EncodedSize => IsInteger
        ? Integer switch
        {
            >= 0 and <= 127 => 1,
            >= -4096 and <= 4095 => 2,
            >= short.MinValue and <= short.MaxValue => 3,
            >= -8388608 and <= 8388607 => 4,
            >= int.MinValue and <= int.MaxValue => 5,
            _ => 9,
        }
        : Bytes.Length switch
        {
            < 64 => 1 + Bytes.Length,
            < 4096 => 2 + Bytes.Length,
            _ => 5 + Bytes.Length,
        };

    /// <summary>Bytes the whole entry takes: encoding, data and back-length.</summary>
    public int EntrySize
    {
        get
        {
            int encoded = EncodedSize;
            return encoded + Listpack.BacklenSize(encoded);
        }
    }

    /// <summary>Writes the entry (with its back-length) at the start of <paramref name="dest"/>.</summary>
    public void Write(Span<byte> dest)
    {
        int encoded = EncodedSize;
        if (IsInteger) WriteInteger(dest, Integer, encoded);
        else
        {
            int length = Bytes.Length;
            int header = encoded - length;
            if (header == 1) dest[0] = (byte)(0x80 | length);
            else if (header == 2)
            {
                dest[0] = (byte)(0xE0 | (length >> 8));
                dest[1] = (byte)length;
            }
            else
            {
                dest[0] = 0xF0;
                BinaryPrimitives.WriteUInt32LittleEndian(dest[1..], (uint)length);
            }
            Bytes.CopyTo(dest[header..]);
        }
        Listpack.WriteBacklen(dest[encoded..], encoded);
    }

    static void WriteInteger(Span<byte> dest, long value, int encoded)
    {
        switch (encoded)
        {
            case 1:
                dest[0] = (byte)value;
                break;
            case 2:
                // 13-bit two's complement: negatives are stored as 2^13 + value.
                long raw = value < 0 ? (1 << 13) + value : value;
                dest[0] = (byte)(0xC0 | (raw >> 8));
                dest[1] = (byte)raw;
                break;
            case 3:
                dest[0] = 0xF1;
                BinaryPrimitives.WriteInt16LittleEndian(dest[1..], (short)value);
                break;
            case 4:
                dest[0] = 0xF2;
                dest[1] = (byte)value;
                dest[2] = (byte)(value >> 8);
                dest[3] = (byte)(value >> 16);
                break;
            case 5:
                dest[0] = 0xF3;
                BinaryPrimitives.WriteInt32LittleEndian(dest[1..], (int)value);
                break;
            default:
                dest[0] = 0xF4;
                BinaryPrimitives.WriteInt64LittleEndian(dest[1..], value);
                break;
        }
    }
}
