using System.Buffers.Binary;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// Reads the zipmap hashes of Redis 2.4 and older dumps (type 9), converting them into a listpack as
/// Redis 7.0's loader does.
///
/// Layout: a count byte (254 or more = count by walking), then per pair the field's length, the field,
/// the value's length, a "free" byte, the value and that many unused bytes; 0xFF ends it. A length is
/// one byte below 254, or 0xFE and u32 little-endian.
/// </summary>
internal static class Zipmap
{
    const byte EndMarker = 0xFF;
    const byte WideLength = 0xFE;

    /// <summary>Validates while appending field, value, field, value... to <paramref name="listpack"/>; <paramref name="longest"/> is the longest field or value.</summary>
    public static bool TryConvert(ReadOnlySpan<byte> zm, ListpackBuilder listpack, out int longest)
    {
        longest = 0;
        if (zm.Length < 2 || zm[^1] != EndMarker) return false;
        int declared = zm[0];
        int end = zm.Length - 1;
        int p = 1, count = 0;
        while (zm[p] != EndMarker)
        {
            if (!TryReadLength(zm, ref p, end, out int fieldLength) || p + (long)fieldLength > end) return false;
            var field = zm.Slice(p, fieldLength);
            p += fieldLength;
            if (p >= end || !TryReadLength(zm, ref p, end, out int valueLength) || p >= end) return false;
            int free = zm[p++];
            if (p + (long)valueLength + free > end) return false;
            listpack.Append(field);
            listpack.Append(zm.Slice(p, valueLength));
            p += valueLength + free;
            longest = Math.Max(longest, Math.Max(fieldLength, valueLength));
            count++;
        }
        return declared >= WideLength || declared == count;
    }

    static bool TryReadLength(ReadOnlySpan<byte> zm, ref int p, int end, out int length)
    {
        byte first = zm[p];
        length = first;
        if (first < WideLength)
        {
            p++;
            return true;
        }
        if (first == EndMarker || p + 5 > end) return false;
        uint wide = BinaryPrimitives.ReadUInt32LittleEndian(zm[(p + 1)..]);
        if (wide > int.MaxValue) return false;
        length = (int)wide;
        p += 5;
        return true;
    }
}
