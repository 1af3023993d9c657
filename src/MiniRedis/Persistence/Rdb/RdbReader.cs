using MiniRedis.Config;
using MiniRedis.Data;

namespace MiniRedis.Persistence.Rdb;

/// <summary>A key read from an RDB image: a value built in our in-memory form, not yet in any database.</summary>
public readonly record struct RdbEntry(int Db, byte[] Key, object Value, RedisType Type, ObjectEncoding Encoding, long ExpireAt)
{
    /// <summary>Puts the key into its database with its TTL; false when the key is there already (a corrupt image).</summary>
    public bool AddTo(Keyspace keyspace) => throw new NotImplementedException();
}

/// <summary>The image is not a valid RDB: bad magic or version, unknown opcode or type, bad encoding, truncated, checksum mismatch.</summary>
public sealed class RdbFormatException(string message) : Exception(message);

/// <summary>
/// Reads an RDB image (Redis's rdbLoad): every form Redis 7.0 and 6.x write, converted to the
/// encodings our config's thresholds give. Reads exactly the image: after the end it stops right
/// behind the checksum, so an AOF with an RDB preamble continues at <see cref="Position"/>.
/// </summary>
#pragma warning disable CS9113 // skeleton: the codec fills these in
public sealed class RdbReader(Stream source, ServerConfig config, bool verifyChecksum)
{
    /// <summary>The RDB version from the header.</summary>
    public int Version => throw new NotImplementedException();

    /// <summary>Bytes of the image consumed so far.</summary>
    public long Position => throw new NotImplementedException();

    /// <summary>AUX fields seen so far (redis-ver, ctime, used-mem, aof-base ...).</summary>
    public IReadOnlyList<KeyValuePair<string, byte[]>> AuxFields => throw new NotImplementedException();

    /// <summary>Reads and checks the magic and version.</summary>
    public void ReadHeader() => throw new NotImplementedException();

    /// <summary>The next key; false at EOF, once the checksum has been checked.</summary>
    public bool TryReadEntry(out RdbEntry entry) => throw new NotImplementedException();
}
