using System.Buffers.Binary;

namespace MiniRedis.Data;

/// <summary>
/// Redis's intset, byte for byte, in one byte[]: a set of integers kept sorted at the narrowest width
/// that fits them all. Layout: u32 LE width (2, 4 or 8), u32 LE count, then the integers
/// little-endian, ascending. The RDB writer stores the array as-is (type 11).
/// Changes that alter the size return a new array, like Redis's intsetAdd.
/// </summary>
public static class Intset
{
    public const int HeaderSize = 8;

    public static byte[] Create()
    {
        var set = new byte[HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(set, sizeof(short));
        return set;
    }

    public static int Count(byte[] set) => (int)BinaryPrimitives.ReadUInt32LittleEndian(set.AsSpan(4));

    public static int Width(byte[] set) => (int)BinaryPrimitives.ReadUInt32LittleEndian(set);

    /// <summary>Checks what a loader must: a known width, a matching length, strictly ascending values.</summary>
    public static bool IsValid(ReadOnlySpan<byte> set)
    {
        if (set.Length < HeaderSize) return false;
        uint width = BinaryPrimitives.ReadUInt32LittleEndian(set);
        long count = BinaryPrimitives.ReadUInt32LittleEndian(set[4..]);
        if (width is not (2 or 4 or 8) || HeaderSize + count * width != set.Length) return false;
        for (int i = 1; i < count; i++)
        {
            if (Read(set, (int)width, i - 1) >= Read(set, (int)width, i)) return false;
        }
        return true;
    }

    public static long Get(byte[] set, int index) => Read(set, Width(set), index);

    public static bool Contains(byte[] set, long value) => WidthFor(value) <= Width(set) && Search(set, value) >= 0;

    /// <summary>Adds <paramref name="value"/>; returns the (possibly new) array, with <paramref name="added"/> false if it was there.</summary>
    public static byte[] Add(byte[] set, long value, out bool added)
    {
        int width = Width(set);
        int count = Count(set);
        int needed = WidthFor(value);
        if (needed > width)
        {
            // A value wider than all others is either the new minimum or the new maximum.
            added = true;
            var upgraded = Allocate(needed, count + 1);
            int shift = value < 0 ? 1 : 0;
            for (int i = 0; i < count; i++) Write(upgraded, needed, i + shift, Read(set, width, i));
            Write(upgraded, needed, value < 0 ? 0 : count, value);
            return upgraded;
        }
        int position = Search(set, value);
        if (position >= 0)
        {
            added = false;
            return set;
        }
        position = ~position;
        added = true;
        var result = Allocate(width, count + 1);
        int split = HeaderSize + position * width;
        set.AsSpan(HeaderSize, split - HeaderSize).CopyTo(result.AsSpan(HeaderSize));
        set.AsSpan(split).CopyTo(result.AsSpan(split + width));
        Write(result, width, position, value);
        return result;
    }

    /// <summary>Removes <paramref name="value"/>; returns the (possibly new) array, with <paramref name="removed"/> false if absent.</summary>
    public static byte[] Remove(byte[] set, long value, out bool removed)
    {
        int position = WidthFor(value) <= Width(set) ? Search(set, value) : -1;
        removed = position >= 0;
        return removed ? RemoveAt(set, position) : set;
    }

    public static byte[] RemoveAt(byte[] set, int index)
    {
        int width = Width(set);
        var result = Allocate(width, Count(set) - 1);
        int split = HeaderSize + index * width;
        set.AsSpan(HeaderSize, split - HeaderSize).CopyTo(result.AsSpan(HeaderSize));
        set.AsSpan(split + width).CopyTo(result.AsSpan(split));
        return result;
    }

    /// <summary>The narrowest width (2, 4 or 8 bytes) that holds <paramref name="value"/>.</summary>
    public static int WidthFor(long value) =>
        value is >= short.MinValue and <= short.MaxValue ? 2 : value is >= int.MinValue and <= int.MaxValue ? 4 : 8;

    /// <summary>Binary search: the index of <paramref name="value"/>, or the complement of where it would go.</summary>
    static int Search(byte[] set, long value)
    {
        int width = Width(set);
        int low = 0, high = Count(set) - 1;
        while (low <= high)
        {
            int middle = (int)((uint)(low + high) >> 1);
            long current = Read(set, width, middle);
            if (current == value) return middle;
            if (current < value) low = middle + 1;
            else high = middle - 1;
        }
        return ~low;
    }

    static byte[] Allocate(int width, int count)
    {
        var set = GC.AllocateUninitializedArray<byte>(HeaderSize + count * width);
        BinaryPrimitives.WriteUInt32LittleEndian(set, (uint)width);
        BinaryPrimitives.WriteUInt32LittleEndian(set.AsSpan(4), (uint)count);
        return set;
    }

    static long Read(ReadOnlySpan<byte> set, int width, int index)
    {
        var at = set[(HeaderSize + index * width)..];
        return width switch
        {
            2 => BinaryPrimitives.ReadInt16LittleEndian(at),
            4 => BinaryPrimitives.ReadInt32LittleEndian(at),
            _ => BinaryPrimitives.ReadInt64LittleEndian(at),
        };
    }

    static void Write(byte[] set, int width, int index, long value)
    {
        var at = set.AsSpan(HeaderSize + index * width);
        switch (width)
        {
            case 2: BinaryPrimitives.WriteInt16LittleEndian(at, (short)value); break;
            case 4: BinaryPrimitives.WriteInt32LittleEndian(at, (int)value); break;
            default: BinaryPrimitives.WriteInt64LittleEndian(at, value); break;
        }
    }
}
