using System.Buffers.Binary;
using MiniRedis.Config;
using MiniRedis.Data;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// Writes an RDB image, version 10 (Redis 7.0's rdbSave): header and AUX fields, per database
/// SELECTDB and RESIZEDB, each key with its expiry, EOF and the CRC64 trailer. Streams to any
/// sink through a reused buffer; the caller syncs and renames.
///
/// Values go out in the encodings Redis 7.0 itself writes, so a dump has the same size and loads
/// into the same encodings: strings with rdbSaveRawString's integer and LZF forms, lists as a
/// quicklist of listpacks cut at 8 KB (list-max-listpack-size -2), intsets and listpack hashes as
/// their bytes, compact sorted sets as the listpack Redis would hold, big ones tail to head.
/// </summary>
public sealed partial class RdbWriter(Stream sink, bool compress, bool checksum)
{
    const int BufferSize = 64 * 1024;

    /// <summary>Encoded integers (rdbTryIntegerEncoding) come from strings of at most 11 bytes.</summary>
    const int MaxIntegerEncodedLength = 11;

    readonly byte[] _buffer = new byte[BufferSize];
    int _length;
    long _flushed;
    ulong _crc;
    readonly LzfCompressor? _lzf = compress ? new LzfCompressor() : null;
    byte[] _compressed = [];
    readonly ListpackBuilder _listpack = new();
    readonly List<int> _nodeSizes = [];

    /// <summary>Bytes produced so far (written to the sink or buffered).</summary>
    public long Position => _flushed + _length;

    /// <summary>
    /// <c>REDIS0010</c> and the AUX fields redis-ver, redis-bits, ctime, used-mem, then with
    /// <paramref name="replication"/> repl-stream-db, repl-id, repl-offset, and aof-base (rdbSaveInfoAuxFields's order).
    /// </summary>
    public void WriteHeader(long usedMemory, bool aofBase, RdbReplicationInfo? replication = null)
    {
        WriteRaw(RdbFormat.Magic);
        WriteRaw("0010"u8);
        WriteAux("redis-ver"u8, System.Text.Encoding.ASCII.GetBytes(ServerConfig.RedisVersion));
        WriteAux("redis-bits"u8, 64);
        WriteAux("ctime"u8, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        WriteAux("used-mem"u8, usedMemory);
        if (replication is not null)
        {
            WriteAux("repl-stream-db"u8, replication.StreamDb);
            WriteAux("repl-id"u8, System.Text.Encoding.ASCII.GetBytes(replication.ReplId));
            WriteAux("repl-offset"u8, replication.Offset);
        }
        WriteAux("aof-base"u8, aofBase ? 1 : 0);
    }

    void WriteAux(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        WriteByte(RdbFormat.OpAux);
        WriteString(name);
        WriteString(value);
    }

    /// <summary>Numeric AUX values are stored as their decimal text (which then gets the integer encoding), as rdbSaveAuxFieldStrInt does.</summary>
    void WriteAux(ReadOnlySpan<byte> name, long value)
    {
        Span<byte> digits = stackalloc byte[RedisNumbers.MaxInt64Length];
        WriteAux(name, digits[..RedisNumbers.FormatInt64(value, digits)]);
    }

    /// <summary>The function libraries (Redis's rdbSaveFunctions): a FUNCTION2 record with its code each, before the databases.</summary>
    public void WriteFunctions(IReadOnlyList<byte[]> libraries)
    {
        foreach (var code in libraries)
        {
            WriteByte(RdbFormat.OpFunction2);
            WriteString(code);
        }
    }

    /// <summary>
    /// FUNCTION DUMP's payload (Redis's functionDumpCommand): the FUNCTION2 records, the RDB version as
    /// two little-endian bytes, and the CRC64 of all that, as DUMP payloads end.
    /// </summary>
    public static byte[] FunctionPayload(IReadOnlyList<byte[]> libraries, bool compress)
    {
        var payload = new MemoryStream();
        var writer = new RdbWriter(payload, compress, checksum: false);
        writer.WriteFunctions(libraries);
        writer.Flush();
        return WithDumpFooter(payload);
    }

    /// <summary>
    /// DUMP's payload (Redis's createDumpPayload): the value as an RDB object (its type byte, then the
    /// value in the encoding a dump file holds; no key, no expiry) and the same footer as
    /// <see cref="FunctionPayload"/>. The value is written as a key named "" (one 0 byte after the type),
    /// which is then cut out, so every type <see cref="WriteKey"/> knows is dumped the same way.
    /// </summary>
    public static byte[] DumpPayload(KeyEntry entry, bool compress)
    {
        var payload = new MemoryStream();
        var writer = new RdbWriter(payload, compress, checksum: false);
        var unnamed = entry.CopyAs([], deep: false);
        unnamed.ExpireAt = 0;
        writer.WriteKey(unnamed);
        writer.Flush();
        var bytes = payload.GetBuffer();
        bytes.AsSpan(2, (int)payload.Length - 2).CopyTo(bytes.AsSpan(1));
        payload.SetLength(payload.Length - 1);
        return WithDumpFooter(payload);
    }

    /// <summary>A DUMP-style payload's end: the RDB version as two little-endian bytes, then the CRC64 of everything before.</summary>
    static byte[] WithDumpFooter(MemoryStream payload)
    {
        payload.WriteByte(RdbFormat.Version & 0xff);
        payload.WriteByte(RdbFormat.Version >> 8);
        Span<byte> crc = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(crc, Crc64.Compute(payload.GetBuffer().AsSpan(0, (int)payload.Length)));
        payload.Write(crc);
        return payload.ToArray();
    }

    /// <summary>SELECTDB then RESIZEDB (hints: keys, keys with a TTL). May be repeated for a database.</summary>
    public void WriteSelectDb(int db, long keys, long keysWithExpiry)
    {
        WriteByte(RdbFormat.OpSelectDb);
        WriteLength((ulong)db);
        WriteByte(RdbFormat.OpResizeDb);
        WriteLength((ulong)keys);
        WriteLength((ulong)keysWithExpiry);
    }

    /// <summary>One key: its expiry (ms) if any, type, key and value in the encoding Redis 7.0 writes.</summary>
    public void WriteKey(KeyEntry entry)
    {
        if (entry.Type == RedisType.String)
        {
            WriteStringKey(entry.Key, entry.StringValue, entry.ExpireAt);
            return;
        }
        WriteExpiry(entry.ExpireAt);
        switch (entry.Type)
        {
            case RedisType.List:
                WriteType(RdbType.ListQuicklist2, entry.Key);
                WriteQuicklist((ListValue)entry.Value);
                break;
            case RedisType.Set:
                WriteBlobOrTable(entry, RdbType.SetIntset, RdbType.Set);
                break;
            case RedisType.ZSet:
                WriteSortedSet(entry.Key, (SortedSetValue)entry.Value);
                break;
            case RedisType.Hash:
                WriteBlobOrTable(entry, RdbType.HashListpack, RdbType.Hash);
                break;
            case RedisType.Stream:
                WriteType(RdbType.StreamListpacks2, entry.Key);
                WriteStream((StreamValue)entry.Value);
                break;
            default:
                throw new NotSupportedException($"a {entry.Type} value cannot be written to an RDB file");
        }
    }

    /// <summary>A string key given by its bytes, as <see cref="WriteKey"/> writes one (expiry: unix ms, or 0).</summary>
    public void WriteStringKey(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAt)
    {
        WriteExpiry(expireAt);
        WriteType(RdbType.String, key);
        WriteString(value);
    }

    void WriteExpiry(long expireAt)
    {
        if (expireAt == 0) return;
        var expiry = Reserve(9);
        expiry[0] = RdbFormat.OpExpireTimeMs;
        BinaryPrimitives.WriteInt64LittleEndian(expiry[1..], expireAt);
        _length += 9;
    }

    void WriteType(RdbType type, ReadOnlySpan<byte> key)
    {
        WriteByte((byte)type);
        WriteString(key);
    }

    /// <summary>
    /// Packs the elements into listpack nodes the way quicklist pushes fill them (a node takes an element
    /// while its bytes plus the element plus 8 stay within 8 KB; an element of 1 GB or more gets a plain
    /// node). The node count comes first, so a first pass only measures.
    /// </summary>
    void WriteQuicklist(ListValue list)
    {
        _nodeSizes.Clear();
        int inNode = 0;
        long nodeBytes = 0;
        var elements = list.At(0);
        for (int i = 0; i < list.Count; i++, elements.Advance())
        {
            var element = elements.Current;
            bool large = element.Length >= RdbFormat.QuicklistLargeElement;
            if (inNode > 0 && (large || nodeBytes + element.Length + RdbFormat.QuicklistEntryOverhead > RdbFormat.QuicklistNodeBytes))
            {
                _nodeSizes.Add(inNode);
                inNode = 0;
            }
            if (inNode == 0) nodeBytes = Listpack.HeaderSize + 1;
            nodeBytes += new ListpackValue(element).EntrySize;
            inNode++;
            if (large)
            {
                _nodeSizes.Add(1);
                inNode = 0;
            }
        }
        if (inNode > 0) _nodeSizes.Add(inNode);

        WriteLength((ulong)_nodeSizes.Count);
        elements = list.At(0);
        foreach (int size in _nodeSizes)
        {
            if (size == 1 && elements.Current.Length >= RdbFormat.QuicklistLargeElement)
            {
                WriteLength(RdbFormat.QuicklistPlain);
                WriteString(elements.Current);
                elements.Advance();
                continue;
            }
            _listpack.Reset();
            for (int i = 0; i < size; i++, elements.Advance()) _listpack.Append(elements.Current);
            WriteLength(RdbFormat.QuicklistPacked);
            WriteString(_listpack.Finish());
        }
    }

    /// <summary>
    /// Sets and hashes: a compact value (intset, listpack) is its blob as it is; a hash table is its
    /// size and then each member, or each field and value.
    /// </summary>
    void WriteBlobOrTable(KeyEntry entry, RdbType blobType, RdbType tableType)
    {
        if (entry.Value is byte[] blob)
        {
            WriteType(blobType, entry.Key);
            WriteString(blob);
            return;
        }
        var table = (FieldTable)entry.Value;
        WriteType(tableType, entry.Key);
        WriteLength((ulong)table.Count);
        bool withValues = entry.Type == RedisType.Hash;
        foreach (var (key, value) in table)
        {
            WriteString(key);
            if (withValues) WriteString(value);
        }
    }

    /// <summary>
    /// A compact set becomes the listpack Redis holds (member, then the score as zsetAdd stores it: an
    /// integer entry when integral, else its %.17g text); a skiplist goes out from the highest element
    /// down, so Redis's loader always inserts at the head.
    /// </summary>
    void WriteSortedSet(ReadOnlySpan<byte> key, SortedSetValue zset)
    {
        long count = zset.Count;
        if (zset.Encoding == ObjectEncoding.Listpack)
        {
            _listpack.Reset();
            Span<byte> score = stackalloc byte[RedisNumbers.MaxDoubleLength];
            var cursor = zset.At(0);
            for (long i = 0; i < count; i++, cursor.Advance())
            {
                _listpack.Append(cursor.Member);
                _listpack.Append(score[..RedisNumbers.FormatDouble(cursor.Score, score)]);
            }
            WriteType(RdbType.ZSetListpack, key);
            WriteString(_listpack.Finish());
            return;
        }
        WriteType(RdbType.ZSet2, key);
        WriteLength((ulong)count);
        var reverse = zset.At(count - 1, reverse: true);
        for (long i = 0; i < count; i++, reverse.Advance())
        {
            WriteString(reverse.Member);
            BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), reverse.Score);
            _length += 8;
        }
    }

    /// <summary>EOF, the checksum (0 with rdbchecksum no), and everything handed to the sink.</summary>
    public void WriteEnd()
    {
        WriteByte(RdbFormat.OpEof);
        // The checksum covers every byte before the trailer, so everything is folded in first.
        Flush();
        Span<byte> trailer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, checksum ? _crc : 0);
        sink.Write(trailer);
        _flushed += trailer.Length;
    }

    /// <summary>Hands the buffered bytes to the sink.</summary>
    public void Flush()
    {
        if (_length == 0) return;
        if (checksum) _crc = Crc64.Update(_crc, _buffer.AsSpan(0, _length));
        sink.Write(_buffer, 0, _length);
        _flushed += _length;
        _length = 0;
    }

    /// <summary>The whole keyspace as one image (SAVE, DEBUG RELOAD, SHUTDOWN): header, databases, end.</summary>
    public static void WriteDataset(Keyspace keyspace, IReadOnlyList<byte[]> libraries, Stream sink, bool compress, bool checksum, bool aofBase,
        RdbReplicationInfo? replication = null)
    {
        var writer = new RdbWriter(sink, compress, checksum);
        writer.WriteHeader(GC.GetTotalMemory(false), aofBase, replication);
        writer.WriteFunctions(libraries);
        for (int i = 0; i < keyspace.Count; i++)
        {
            var db = keyspace[i];
            if (db.Count == 0) continue;
            writer.WriteSelectDb(i, db.Count, db.ExpiresCount);
            foreach (var entry in db) writer.WriteKey(entry);
        }
        writer.WriteEnd();
    }

    /// <summary>
    /// Redis's rdbSaveRawString: a string of at most 11 bytes that is a canonical 32-bit integer as the
    /// integer encoding; with compression on, one longer than 20 bytes as LZF when that saves at least
    /// four bytes; otherwise length and bytes.
    /// </summary>
    void WriteString(ReadOnlySpan<byte> value)
    {
        if (value.Length <= MaxIntegerEncodedLength && RedisNumbers.TryParseInt64(value, out long integer) && WriteEncodedInteger(integer)) return;
        if (_lzf is not null && value.Length >= RdbFormat.MinCompressedLength && WriteCompressed(value)) return;
        WriteLength((ulong)value.Length);
        WriteRaw(value);
    }

    bool WriteEncodedInteger(long value)
    {
        var dest = Reserve(5);
        const byte prefix = RdbFormat.EncodedValue << 6;
        if (value is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            dest[0] = prefix | RdbFormat.EncodingInt8;
            dest[1] = (byte)value;
            _length += 2;
        }
        else if (value is >= short.MinValue and <= short.MaxValue)
        {
            dest[0] = prefix | RdbFormat.EncodingInt16;
            BinaryPrimitives.WriteInt16LittleEndian(dest[1..], (short)value);
            _length += 3;
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            dest[0] = prefix | RdbFormat.EncodingInt32;
            BinaryPrimitives.WriteInt32LittleEndian(dest[1..], (int)value);
            _length += 5;
        }
        else return false;
        return true;
    }

    bool WriteCompressed(ReadOnlySpan<byte> value)
    {
        int room = value.Length - 4;
        if (_compressed.Length < room) _compressed = new byte[Math.Max(room, Math.Min(_compressed.Length * 2, int.MaxValue / 2))];
        int compressedLength = _lzf!.Compress(value, _compressed.AsSpan(0, room));
        if (compressedLength == 0) return false;
        WriteByte((RdbFormat.EncodedValue << 6) | RdbFormat.EncodingLzf);
        WriteLength((ulong)compressedLength);
        WriteLength((ulong)value.Length);
        WriteRaw(_compressed.AsSpan(0, compressedLength));
        return true;
    }

    /// <summary>Redis's rdbSaveLen: 6 bits, 14 bits big-endian, or a marker byte and 4 or 8 bytes big-endian.</summary>
    void WriteLength(ulong length)
    {
        var dest = Reserve(9);
        if (length < 1 << 6)
        {
            dest[0] = (byte)length;
            _length += 1;
        }
        else if (length < 1 << 14)
        {
            dest[0] = (byte)((RdbFormat.Length14Bit << 6) | (int)(length >> 8));
            dest[1] = (byte)length;
            _length += 2;
        }
        else if (length <= uint.MaxValue)
        {
            dest[0] = RdbFormat.Length32Bit;
            BinaryPrimitives.WriteUInt32BigEndian(dest[1..], (uint)length);
            _length += 5;
        }
        else
        {
            dest[0] = RdbFormat.Length64Bit;
            BinaryPrimitives.WriteUInt64BigEndian(dest[1..], length);
            _length += 9;
        }
    }

    void WriteByte(byte value)
    {
        if (_length == _buffer.Length) Flush();
        _buffer[_length++] = value;
    }

    void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_length == _buffer.Length) Flush();
            int chunk = Math.Min(bytes.Length, _buffer.Length - _length);
            bytes[..chunk].CopyTo(_buffer.AsSpan(_length));
            _length += chunk;
            bytes = bytes[chunk..];
        }
    }

    /// <summary>Room for <paramref name="size"/> (at most 9) bytes at the buffer's end; the caller advances <see cref="_length"/> by what it used.</summary>
    Span<byte> Reserve(int size)
    {
        if (_length + size > _buffer.Length) Flush();
        return _buffer.AsSpan(_length, size);
    }
}
