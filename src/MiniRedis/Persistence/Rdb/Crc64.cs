using System.Buffers.Binary;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// The CRC64 that ends an RDB file: Redis's "Jones" polynomial 0xad93d23594c935a9, bit-reflected,
/// initial value 0 and no final xor. Slicing-by-8: eight tables let one step consume eight bytes,
/// so checksumming a multi-gigabyte dump costs a fraction of writing it.
/// </summary>
public static class Crc64
{
    /// <summary>The Jones polynomial bit-reversed, as a reflected CRC shifts right.</summary>
    const ulong ReflectedPolynomial = 0x95ac9329ac4bc9b5;

    /// <summary>Table k gives the effect of a byte followed by k zero bytes.</summary>
    static readonly ulong[] Tables = BuildTables();

    static ulong[] BuildTables()
    {
        var tables = new ulong[8 * 256];
        for (int i = 0; i < 256; i++)
        {
            ulong crc = (ulong)i;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ ReflectedPolynomial : crc >> 1;
            tables[i] = crc;
        }
        for (int k = 1; k < 8; k++)
        {
            for (int i = 0; i < 256; i++)
            {
                ulong previous = tables[(k - 1) * 256 + i];
                tables[k * 256 + i] = (previous >> 8) ^ tables[(int)(previous & 0xFF)];
            }
        }
        return tables;
    }

    public static ulong Compute(ReadOnlySpan<byte> data) => Update(0, data);

    /// <summary>Continues <paramref name="crc"/> (the value over the bytes before) over <paramref name="data"/>.</summary>
    public static ulong Update(ulong crc, ReadOnlySpan<byte> data)
    {
        var t = Tables.AsSpan();
        while (data.Length >= 8)
        {
            crc ^= BinaryPrimitives.ReadUInt64LittleEndian(data);
            crc = t[7 * 256 + (int)(crc & 0xFF)] ^ t[6 * 256 + (int)((crc >> 8) & 0xFF)]
                ^ t[5 * 256 + (int)((crc >> 16) & 0xFF)] ^ t[4 * 256 + (int)((crc >> 24) & 0xFF)]
                ^ t[3 * 256 + (int)((crc >> 32) & 0xFF)] ^ t[2 * 256 + (int)((crc >> 40) & 0xFF)]
                ^ t[256 + (int)((crc >> 48) & 0xFF)] ^ t[(int)(crc >> 56)];
            data = data[8..];
        }
        foreach (byte b in data) crc = t[(int)((crc ^ b) & 0xFF)] ^ (crc >> 8);
        return crc;
    }
}
