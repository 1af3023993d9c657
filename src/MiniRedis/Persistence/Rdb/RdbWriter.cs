using MiniRedis.Data;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// Writes an RDB image, version 10 (Redis 7.0's rdbSave): header and AUX fields, per database
/// SELECTDB and RESIZEDB, each key with its expiry, EOF and the CRC64 trailer. Streams to any
/// sink through a reused buffer; the caller syncs and renames.
/// </summary>
#pragma warning disable CS9113 // skeleton: the codec fills these in
public sealed class RdbWriter(Stream sink, bool compress, bool checksum)
{
    /// <summary>Bytes produced so far (written to the sink or buffered).</summary>
    public long Position => throw new NotImplementedException();

    /// <summary><c>REDIS0010</c> and the AUX fields redis-ver, redis-bits, ctime, used-mem, aof-base.</summary>
    public void WriteHeader(long usedMemory, bool aofBase) => throw new NotImplementedException();

    /// <summary>SELECTDB then RESIZEDB (hints: keys, keys with a TTL). May be repeated for a database.</summary>
    public void WriteSelectDb(int db, long keys, long keysWithExpiry) => throw new NotImplementedException();

    /// <summary>One key: its expiry (ms) if any, type, key and value in the encoding Redis 7.0 writes.</summary>
    public void WriteKey(KeyEntry entry) => throw new NotImplementedException();

    /// <summary>EOF, the checksum (0 with rdbchecksum no), and everything handed to the sink.</summary>
    public void WriteEnd() => throw new NotImplementedException();

    /// <summary>Hands the buffered bytes to the sink.</summary>
    public void Flush() => throw new NotImplementedException();

    /// <summary>The whole keyspace as one image (SAVE, DEBUG RELOAD, SHUTDOWN): header, databases, end.</summary>
    public static void WriteDataset(Keyspace keyspace, Stream sink, bool compress, bool checksum, bool aofBase) => throw new NotImplementedException();
}
