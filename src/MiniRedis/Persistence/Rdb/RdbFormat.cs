namespace MiniRedis.Persistence.Rdb;

/// <summary>The value type byte written before a key (Redis's RDB_TYPE_*).</summary>
public enum RdbType : byte
{
    String = 0,
    List = 1,
    Set = 2,
    /// <summary>Scores as text (before RDB 8).</summary>
    ZSet = 3,
    Hash = 4,
    /// <summary>Scores as binary little-endian doubles.</summary>
    ZSet2 = 5,
    ModulePreGa = 6,
    Module2 = 7,
    HashZipmap = 9,
    ListZiplist = 10,
    SetIntset = 11,
    ZSetZiplist = 12,
    HashZiplist = 13,
    /// <summary>Quicklist of ziplists (Redis 3.2 to 6.2).</summary>
    ListQuicklist = 14,
    StreamListpacks = 15,
    HashListpack = 16,
    ZSetListpack = 17,
    /// <summary>Quicklist of listpacks, each node marked plain or packed (Redis 7.0).</summary>
    ListQuicklist2 = 18,
    StreamListpacks2 = 19,
}

/// <summary>The layout constants of an RDB file (Redis's rdb.h): version, opcodes, length encodings.</summary>
public static class RdbFormat
{
    /// <summary>The version Redis 7.0 writes, and the newest this reader accepts.</summary>
    public const int Version = 10;

    /// <summary>"REDIS" and four version digits.</summary>
    public const int HeaderLength = 9;

    public static ReadOnlySpan<byte> Magic => "REDIS"u8;

    public const byte OpFunction2 = 0xF5;
    /// <summary>Functions as written by 7.0 release candidates.</summary>
    public const byte OpFunction = 0xF6;
    public const byte OpModuleAux = 0xF7;
    public const byte OpIdle = 0xF8;
    public const byte OpFreq = 0xF9;
    public const byte OpAux = 0xFA;
    public const byte OpResizeDb = 0xFB;
    public const byte OpExpireTimeMs = 0xFC;
    /// <summary>Seconds, 4 bytes (before RDB 3).</summary>
    public const byte OpExpireTime = 0xFD;
    public const byte OpSelectDb = 0xFE;
    public const byte OpEof = 0xFF;

    /// <summary>The top two bits of a length's first byte: 00 six bits, 01 fourteen bits, 10 a 32/64-bit length, 11 a special string encoding.</summary>
    public const int Length6Bit = 0;
    public const int Length14Bit = 1;
    public const byte Length32Bit = 0x80;
    public const byte Length64Bit = 0x81;
    public const int EncodedValue = 3;

    /// <summary>Special string encodings, the low six bits after <see cref="EncodedValue"/>.</summary>
    public const int EncodingInt8 = 0;
    public const int EncodingInt16 = 1;
    public const int EncodingInt32 = 2;
    public const int EncodingLzf = 3;

    /// <summary>Quicklist v2 node containers: one raw element, or a listpack.</summary>
    public const int QuicklistPlain = 1;
    public const int QuicklistPacked = 2;

    /// <summary>Elements this large get a plain node of their own (quicklist's packed_threshold).</summary>
    public const long QuicklistLargeElement = 1L << 30;

    /// <summary>list-max-listpack-size -2: a node grows while its listpack stays within 8 KB.</summary>
    public const int QuicklistNodeBytes = 8192;

    /// <summary>Quicklist's per-entry overhead estimate (SIZE_ESTIMATE_OVERHEAD) in that test.</summary>
    public const int QuicklistEntryOverhead = 8;

    /// <summary>Strings this short are never LZF-compressed: nothing that short compresses.</summary>
    public const int MinCompressedLength = 21;

    /// <summary>Text scores (type 3): one length byte, or these markers.</summary>
    public const byte ScoreNaN = 253;
    public const byte ScorePositiveInfinity = 254;
    public const byte ScoreNegativeInfinity = 255;
}
