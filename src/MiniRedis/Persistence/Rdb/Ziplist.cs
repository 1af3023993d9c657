using System.Buffers.Binary;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// Reads the ziplists of Redis 6 and older dumps (list, hash and zset types 10, 12, 13 and quicklist v1
/// nodes) by converting them into a listpack, as Redis 7.0's loader does.
///
/// Layout: u32 LE total bytes, u32 LE offset of the last entry, u16 LE count (65535 = count by walking),
/// entries, 0xFF. An entry is the previous entry's length (1 byte below 254, else 0xFE and u32 LE), an
/// encoding, and data: 00xxxxxx, 01xxxxxx+1 byte (big-endian) and 10xxxxxx+4 bytes (big-endian) are
/// strings of that length; 0xC0 int16, 0xD0 int32, 0xE0 int64, 0xF0 int24, 0xFE int8 (little-endian);
/// 0xF1..0xFD the value 0..12 with no data.
/// </summary>
internal static class Ziplist
{
    const int HeaderSize = 10;
    const byte EndMarker = 0xFF;
    const int UnknownCount = 65535;
    const byte WidePreviousLength = 0xFE;

    /// <summary>Checks every header field and entry while appending the entries to <paramref name="listpack"/>; false if anything is inconsistent.</summary>
    public static bool TryConvert(ReadOnlySpan<byte> zl, ListpackBuilder listpack)
    {
        if (zl.Length < HeaderSize + 1 || BinaryPrimitives.ReadUInt32LittleEndian(zl) != zl.Length || zl[^1] != EndMarker) return false;
        uint tail = BinaryPrimitives.ReadUInt32LittleEndian(zl[4..]);
        int declared = BinaryPrimitives.ReadUInt16LittleEndian(zl[8..]);
        int end = zl.Length - 1;
        int p = HeaderSize, previousLength = 0, last = HeaderSize, count = 0;
        while (zl[p] != EndMarker)
        {
            int start = p;
            long previous;
            if (zl[p] < WidePreviousLength) previous = zl[p++];
            else
            {
                if (p + 5 > end) return false;
                previous = BinaryPrimitives.ReadUInt32LittleEndian(zl[(p + 1)..]);
                p += 5;
            }
            if (previous != previousLength || p >= end || !TryAppendEntry(zl, ref p, end, listpack)) return false;
            previousLength = p - start;
            last = start;
            count++;
        }
        return tail == last && (declared == UnknownCount || declared == count);
    }

    /// <summary>Reads the encoding and data at <paramref name="p"/> (below <paramref name="end"/>) and appends the value.</summary>
    static bool TryAppendEntry(ReadOnlySpan<byte> zl, ref int p, int end, ListpackBuilder listpack)
    {
        byte encoding = zl[p];
        long length;
        switch (encoding >> 6)
        {
            case 0:
                length = encoding & 0x3F;
                p += 1;
                break;
            case 1:
                if (p + 2 > end) return false;
                length = ((encoding & 0x3F) << 8) | zl[p + 1];
                p += 2;
                break;
            case 2:
                if (p + 5 > end) return false;
                length = BinaryPrimitives.ReadUInt32BigEndian(zl[(p + 1)..]);
                p += 5;
                break;
            default:
                return TryAppendInteger(zl, ref p, end, encoding, listpack);
        }
        if (p + length > end) return false;
        listpack.Append(zl.Slice(p, (int)length));
        p += (int)length;
        return true;
    }

    static bool TryAppendInteger(ReadOnlySpan<byte> zl, ref int p, int end, byte encoding, ListpackBuilder listpack)
    {
        int width = encoding switch
        {
            0xC0 => 2,
            0xD0 => 4,
            0xE0 => 8,
            0xF0 => 3,
            0xFE => 1,
            >= 0xF1 and <= 0xFD => 0,
            _ => -1,
        };
        p += 1;
        if (width < 0 || p + width > end) return false;
        var data = zl.Slice(p, width);
        long value = width switch
        {
            0 => (encoding & 0x0F) - 1,
            1 => (sbyte)data[0],
            2 => BinaryPrimitives.ReadInt16LittleEndian(data),
            3 => (data[0] | (data[1] << 8) | (data[2] << 16)) << 8 >> 8,
            4 => BinaryPrimitives.ReadInt32LittleEndian(data),
            _ => BinaryPrimitives.ReadInt64LittleEndian(data),
        };
        listpack.Append(value);
        p += width;
        return true;
    }
}
