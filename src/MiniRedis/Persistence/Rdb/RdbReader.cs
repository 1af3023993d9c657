using System.Buffers.Binary;
using System.Text;
using MiniRedis.Config;
using MiniRedis.Data;

namespace MiniRedis.Persistence.Rdb;

/// <summary>A key read from an RDB image: its entry in our in-memory form, not yet in any database.</summary>
public readonly record struct RdbEntry(int Db, KeyEntry Entry)
{
    public ReadOnlySpan<byte> Key => Entry.Key;
    public object Value => Entry.Value;
    public RedisType Type => Entry.Type;
    public ObjectEncoding Encoding => Entry.Encoding;
    public long ExpireAt => Entry.ExpireAt;

    /// <summary>Puts the key into its database with its TTL; false when the key is there already (a corrupt image).</summary>
    public bool AddTo(Keyspace keyspace)
    {
        var db = keyspace[Db];
        if (db.Peek(Key) is not null) return false;
        // The entry goes in as the reader made it: a loader's key and short string are in the arena already.
        Entry.LastAccess = keyspace.NewAccessStamp;
        Entry.SnapshotEpoch = keyspace.NewKeyEpoch;
        db.Adopt(Entry);
        return true;
    }

    /// <summary>The key is not added after all (expired at load, or the load failed): what the reader put in the arena gives its slots back, and the entry is read no more.</summary>
    public void Discard() => Entry.Detach(keepValue: false, keepKey: false);
}

/// <summary>The image is not a valid RDB: bad magic or version, unknown opcode or type, bad encoding, truncated, checksum mismatch.</summary>
public sealed class RdbFormatException(string message) : Exception(message);

/// <summary>
/// Reads an RDB image (Redis's rdbLoad): every form Redis 7.0 and 6.x write, converted to the
/// encodings our config's thresholds give. Reads exactly the image: after the end it stops right
/// behind the checksum, so an AOF with an RDB preamble continues at <see cref="Position"/> (a seekable
/// source is put back there; the reader buffers ahead).
///
/// Nothing in the image is trusted: lengths are checked against what the stream can still hold before
/// anything is allocated for them (growing as bytes arrive when its length is unknown), every blob
/// (listpack, intset, ziplist, zipmap) is walked before it is kept, and every problem is an
/// <see cref="RdbFormatException"/> with Redis's wording where Redis has one.
/// </summary>
public sealed partial class RdbReader(Stream source, ServerConfig config, bool verifyChecksum)
{
    const int BufferSize = 64 * 1024;

    /// <summary>Above this, a string from a stream of unknown length is read into a growing array rather than allocated from its length field.</summary>
    const int TrustedAllocation = 1 << 20;

    /// <summary>Capacity hints from count fields stay modest: a corrupt count must not reserve memory.</summary>
    const int MaxCapacityHint = 1 << 16;

    /// <summary>The thresholds that choose the encodings (a field: the decoders' part of the class uses it too).</summary>
    readonly ServerConfig _config = config;
    readonly long _sourceStart = source.CanSeek ? source.Position : 0;
    readonly long _sourceLength = source.CanSeek ? source.Length - source.Position : long.MaxValue;
    readonly byte[] _buffer = new byte[BufferSize];
    int _start;
    int _end;
    long _bufferOffset;
    int _crcDone;
    ulong _crc;
    int _version = -1;
    int _db;
    bool _finished;
    readonly List<KeyValuePair<string, byte[]>> _aux = [];
    readonly ListpackBuilder _listpack = new();
    byte[]? _scratch = new byte[256];
    byte[]? _scratch2 = new byte[256];
    byte[]? _keyScratch = new byte[256];
    readonly List<long> _integers = [];
    uint[] _fieldHashes = [];
    int[] _fieldOffsets = [];

    /// <summary>
    /// Keys and short strings go into the <see cref="StringArena"/> as they are read (an entry made from the key's
    /// bytes, <see cref="KeyEntry.LoadedString"/>), not into arrays of their own that the key's insert would copy
    /// there and drop: a 1M-key load's million dead key arrays, strewn among the entries it keeps, made the
    /// collection that ends the load compact the whole heap (a third of its CPU time). For a loader on the
    /// executor thread, which adds or <see cref="RdbEntry.Discard"/>s every entry it reads. Off for readers
    /// whose entries go elsewhere (RESTORE, the checker).
    /// </summary>
    public bool EntriesInArena { get; init; }

    /// <summary>The RDB version from the header.</summary>
    public int Version => _version >= 0 ? _version : throw new InvalidOperationException("the header has not been read");

    /// <summary>Bytes of the image consumed so far.</summary>
    public long Position => _bufferOffset + _start;

    /// <summary>AUX fields seen so far (redis-ver, ctime, used-mem, aof-base ...).</summary>
    public IReadOnlyList<KeyValuePair<string, byte[]>> AuxFields => _aux;

    /// <summary>
    /// Told RESIZEDB's hint (database, number of keys) before that database's keys arrive, so a loader
    /// can size the table once (Dict.EnsureCapacity) instead of growing it step by step.
    /// </summary>
    public Action<int, int>? ResizeDb { get; set; }

    /// <summary>
    /// Given each FUNCTION2 record's library code as it is read (Redis's rdbFunctionLoad); throws an
    /// <see cref="RdbFormatException"/> when the library cannot be loaded.
    /// </summary>
    public Action<byte[]>? FunctionLibrary { get; set; }

    /// <summary>
    /// FUNCTION RESTORE's payload (Redis's functionRestoreCommand): checks the version and CRC64 footer,
    /// then reads the FUNCTION2 records before it. The libraries' code, or null and Redis's error text.
    /// </summary>
    public static List<byte[]>? ReadFunctionPayload(ReadOnlySpan<byte> payload, out string? error)
    {
        error = null;
        if (!DumpFooterValid(payload))
        {
            error = "DUMP payload version or checksum are wrong";
            return null;
        }
        var body = payload[..^10].ToArray();
        var reader = new RdbReader(new MemoryStream(body, writable: false), ServerConfig.Parse(""), verifyChecksum: false);
        var codes = new List<byte[]>();
        while (reader.Position < body.Length)
        {
            byte type = reader.ReadByte();
            if (type == RdbFormat.OpFunction)
            {
                error = "Pre-GA function format not supported";
                return null;
            }
            if (type != RdbFormat.OpFunction2)
            {
                error = "given type is not a function";
                return null;
            }
            try
            {
                codes.Add(reader.ReadStringArray());
            }
            catch (Exception e) when (e is RdbFormatException or IndexOutOfRangeException or ArgumentException or InvalidDataException or OverflowException)
            {
                error = "Failed loading library payload";
                return null;
            }
        }
        return codes;
    }

    /// <summary>
    /// RESTORE's payload (Redis's restoreCommand): checks the version and CRC64 footer, then reads the
    /// RDB object before it into our encodings per <paramref name="config"/>. Null, or Redis's error
    /// text (an empty collection, an unknown type or any damage is <c>Bad data format</c>).
    /// </summary>
    public static string? ReadDumpPayload(ReadOnlySpan<byte> payload, ServerConfig config, out RdbEntry entry)
    {
        entry = default;
        if (!DumpFooterValid(payload)) return "DUMP payload version or checksum are wrong";
        const string badData = "Bad data format";
        if (!Enum.IsDefined((RdbType)payload[0])) return badData;
        // Read as a key named "" (the 0 byte after the type), the way DumpPayload wrote it. Like Redis,
        // the value may run into the footer: its reader has the whole payload.
        var image = new byte[payload.Length + 1];
        image[0] = payload[0];
        payload[1..].CopyTo(image.AsSpan(2));
        var reader = new RdbReader(new MemoryStream(image, writable: false), config, verifyChecksum: false) { _version = RdbFormat.Version };
        try
        {
            return reader.TryReadEntry(out entry) ? null : badData;
        }
        catch (RdbFormatException)
        {
            return badData;
        }
    }

    /// <summary>Redis's verifyDumpPayload: a version this reader knows, and the CRC64 of everything before it.</summary>
    static bool DumpFooterValid(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 10) return false;
        var footer = payload[^10..];
        if (BinaryPrimitives.ReadUInt16LittleEndian(footer) > RdbFormat.Version) return false;
        return BinaryPrimitives.ReadUInt64LittleEndian(footer[2..]) == Crc64.Compute(payload[..^8]);
    }

    /// <summary>Keys whose collection was empty: skipped, as Redis does (old versions could write them).</summary>
    public long EmptyKeysSkipped { get; private set; }

    /// <summary>Reads and checks the magic and version.</summary>
    public void ReadHeader()
    {
        Need(RdbFormat.HeaderLength);
        var header = _buffer.AsSpan(_start, RdbFormat.HeaderLength);
        if (!header.StartsWith(RdbFormat.Magic)) throw new RdbFormatException("Wrong signature trying to load DB from file");
        // Redis reads the version with atoi, but always writes four digits: anything else is damage
        // (a flipped bit turning "0010" into "001\x10" must not read as version 1, which has no checksum).
        int version = 0;
        foreach (byte b in header[RdbFormat.Magic.Length..])
        {
            if (b is < (byte)'0' or > (byte)'9') throw new RdbFormatException("Wrong signature trying to load DB from file");
            version = version * 10 + (b - '0');
        }
        if (version is < 1 or > RdbFormat.Version) throw new RdbFormatException($"Can't handle RDB format version {version}");
        _start += RdbFormat.HeaderLength;
        _version = version;
    }

    /// <summary>The next key; false at EOF, once the checksum has been checked.</summary>
    public bool TryReadEntry(out RdbEntry entry)
    {
        if (_version < 0) throw new InvalidOperationException("the header has not been read");
        entry = default;
        if (_finished) return false;
        try
        {
            return ReadEntry(out entry);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or InvalidDataException or OverflowException)
        {
            // A consistency check this reader missed still means a bad image, never a crash.
            throw Corrupt($"Internal error in RDB reading offset {Position}: {e.Message}");
        }
    }

    bool ReadEntry(out RdbEntry entry)
    {
        long expireAt = 0;
        while (true)
        {
            byte opcode = ReadByte();
            switch (opcode)
            {
                case RdbFormat.OpExpireTime:
                    Need(4);
                    expireAt = BinaryPrimitives.ReadInt32LittleEndian(Take(4)) * 1000L;
                    // A time at or before the epoch is long past, but 0 would mean "no TTL".
                    expireAt = Math.Max(expireAt, 1);
                    continue;
                case RdbFormat.OpExpireTimeMs:
                    Need(8);
                    expireAt = Math.Max(BinaryPrimitives.ReadInt64LittleEndian(Take(8)), 1);
                    continue;
                case RdbFormat.OpFreq:
                    ReadByte();
                    continue;
                case RdbFormat.OpIdle:
                    ReadLength(out _);
                    continue;
                case RdbFormat.OpSelectDb:
                    ulong db = ReadLength(out _);
                    if (db >= (ulong)_config.Databases)
                        throw Corrupt($"FATAL: Data file was created with a Redis server configured to handle more than {_config.Databases} databases. Exiting");
                    _db = (int)db;
                    continue;
                case RdbFormat.OpResizeDb:
                    ulong keys = ReadLength(out _);
                    ReadLength(out _);
                    // Only a hint, and possibly corrupt: never more keys than bytes left to hold them.
                    ResizeDb?.Invoke(_db, (int)Math.Min(keys, (ulong)Math.Min(Remaining, int.MaxValue)));
                    continue;
                case RdbFormat.OpAux:
                    var name = ReadStringArray();
                    _aux.Add(new(Encoding.Latin1.GetString(name), ReadStringArray()));
                    continue;
                case RdbFormat.OpModuleAux:
                    throw Corrupt($"The RDB file contains AUX module data I can't load: no matching module '{ModuleName(ReadLength(out _))}' (modules are not supported)");
                case RdbFormat.OpFunction:
                    throw Corrupt("Pre-release function format not supported.");
                case RdbFormat.OpFunction2:
                    var code = ReadStringArray();
                    if (FunctionLibrary is null) throw Corrupt("The RDB file contains a function library, which this reader cannot load");
                    FunctionLibrary(code);
                    continue;
                case RdbFormat.OpEof:
                    FinishImage();
                    entry = default;
                    return false;
            }
            // A loader's key waits in a scratch of its own while the value is read (which uses the others).
            var key = EntriesInArena ? null : ReadStringArray();
            ReadOnlySpan<byte> keyBytes = key ?? ReadStringScratch(ref _keyScratch);
            KeyEntry loaded;
            if ((RdbType)opcode == RdbType.String && EntriesInArena)
            {
                var text = ReadStringScratch(ref _scratch);
                loaded = KeyEntry.LoadedString(keyBytes, text, StringEncoding.Of(text));
            }
            else if (!TryReadValue((RdbType)opcode, out var value, out var type, out var encoding))
            {
                EmptyKeysSkipped++;
                expireAt = 0;
                continue;
            }
            else loaded = key is null ? new KeyEntry(keyBytes, value, type, encoding) : new KeyEntry(key, value, type, encoding);
            loaded.ExpireAt = expireAt;
            entry = new RdbEntry(_db, loaded);
            return true;
        }
    }

    /// <summary>After EOF: the checksum (RDB 5 and later) over every byte before it.</summary>
    void FinishImage()
    {
        FoldCrc();
        if (_version >= 5)
        {
            Need(8);
            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
            if (verifyChecksum && stored != 0 && stored != _crc)
                throw Corrupt($"Wrong RDB checksum expected: ({_crc:x}) but got ({stored:x}). Aborting now.");
        }
        _finished = true;
        if (source.CanSeek) source.Position = _sourceStart + Position;
    }

    // ---- strings ----

    byte[] ReadStringArray()
    {
        byte[]? target = null;
        ReadString(ref target);
        return target!;
    }

    /// <summary>The next string in <paramref name="scratch"/> (grown as needed), valid until that scratch is used again.</summary>
    ReadOnlySpan<byte> ReadStringScratch(ref byte[]? scratch)
    {
        int length = ReadString(ref scratch);
        return scratch.AsSpan(0, length);
    }

    /// <summary>
    /// Reads a string (Redis's rdbGenericLoadStringObject): plain, an int8/16/32 as its decimal text, or
    /// LZF. Into <paramref name="target"/> when given (growing it), else into a new array of the exact
    /// length. Returns the length.
    /// </summary>
    int ReadString(ref byte[]? target)
    {
        ulong header = ReadLength(out bool encoded);
        if (!encoded)
        {
            int length = CheckedLength(header);
            ReadRaw(ref target, length);
            return length;
        }
        switch ((int)header)
        {
            case RdbFormat.EncodingInt8 or RdbFormat.EncodingInt16 or RdbFormat.EncodingInt32:
                Span<byte> digits = stackalloc byte[RedisNumbers.MaxInt64Length];
                int length = RedisNumbers.FormatInt64(ReadEncodedInteger((int)header), digits);
                digits[..length].CopyTo(Destination(ref target, length));
                return length;
            case RdbFormat.EncodingLzf:
                return ReadCompressed(ref target);
            default:
                throw Corrupt($"Unknown RDB string encoding type {header}");
        }
    }

    long ReadEncodedInteger(int encoding)
    {
        int width = encoding switch { RdbFormat.EncodingInt8 => 1, RdbFormat.EncodingInt16 => 2, _ => 4 };
        Need(width);
        var data = Take(width);
        return width switch
        {
            1 => (sbyte)data[0],
            2 => BinaryPrimitives.ReadInt16LittleEndian(data),
            _ => BinaryPrimitives.ReadInt32LittleEndian(data),
        };
    }

    int ReadCompressed(ref byte[]? target)
    {
        int compressedLength = CheckedLength(ReadLength(out _));
        ulong original = ReadLength(out _);
        // The format cannot expand more than this: a bigger claim is corrupt, and must not be allocated.
        if (original > (ulong)compressedLength * Lzf.MaxExpansion || original > int.MaxValue) throw Corrupt("Invalid LZF compressed string");
        int length = (int)original;
        ReadOnlySpan<byte> compressed;
        if (compressedLength <= _buffer.Length)
        {
            Need(compressedLength);
            compressed = Take(compressedLength);
        }
        else
        {
            byte[]? data = null;
            ReadRaw(ref data, compressedLength);
            compressed = data;
        }
        var destination = Destination(ref target, length);
        if (!Lzf.TryDecompress(compressed, destination.AsSpan(0, length))) throw Corrupt("Invalid LZF compressed string");
        return length;
    }

    /// <summary>Reads <paramref name="length"/> bytes into <paramref name="target"/> (see <see cref="Destination"/>), growing as they arrive when the stream's length is unknown.</summary>
    void ReadRaw(ref byte[]? target, int length)
    {
        if (length > TrustedAllocation && _sourceLength == long.MaxValue) target = ReadGrowing(length);
        else ReadExactly(Destination(ref target, length).AsSpan(0, length));
    }

    /// <summary>The array to read <paramref name="length"/> bytes into: the scratch given (grown), or a new one of that size.</summary>
    static byte[] Destination(ref byte[]? target, int length)
    {
        if (target is null) return target = length == 0 ? [] : GC.AllocateUninitializedArray<byte>(length);
        if (target.Length < length) target = new byte[Math.Max(length, target.Length * 2)];
        return target;
    }

    /// <summary>A long string from a stream of unknown length: the array doubles only as bytes actually arrive.</summary>
    byte[] ReadGrowing(int length)
    {
        var result = new byte[TrustedAllocation];
        int filled = 0;
        while (true)
        {
            ReadExactly(result.AsSpan(filled));
            filled = result.Length;
            if (filled == length) return result;
            Array.Resize(ref result, (int)Math.Min(length, result.Length * 2L));
        }
    }

    /// <summary>A length for bytes that must follow in the image: more than remain means truncation.</summary>
    int CheckedLength(ulong length)
    {
        if (length > (ulong)Remaining) throw Truncated();
        if (length > int.MaxValue) throw Corrupt($"String of {length} bytes is too long");
        return (int)length;
    }

    /// <summary>An element count: each element takes at least one byte, so more than remain means truncation.</summary>
    long ReadCount()
    {
        ulong count = ReadLength(out _);
        if (count > (ulong)Remaining) throw Truncated();
        if (count > int.MaxValue) throw Corrupt($"Collection of {count} elements is too big");
        return (long)count;
    }

    static int CapacityHint(long count) => (int)Math.Min(count, MaxCapacityHint);

    /// <summary>Redis's rdbLoadLen: 6 bits, 14 bits, or a marker and 4 or 8 bytes big-endian; <paramref name="encoded"/> for the 11xxxxxx special string encodings.</summary>
    ulong ReadLength(out bool encoded)
    {
        byte first = ReadByte();
        encoded = false;
        switch (first >> 6)
        {
            case RdbFormat.EncodedValue:
                encoded = true;
                return (ulong)(first & 0x3F);
            case RdbFormat.Length6Bit:
                return (ulong)(first & 0x3F);
            case RdbFormat.Length14Bit:
                return (ulong)(((first & 0x3F) << 8) | ReadByte());
        }
        if (first == RdbFormat.Length32Bit)
        {
            Need(4);
            return BinaryPrimitives.ReadUInt32BigEndian(Take(4));
        }
        if (first == RdbFormat.Length64Bit)
        {
            Need(8);
            return BinaryPrimitives.ReadUInt64BigEndian(Take(8));
        }
        throw Corrupt($"Unknown length encoding {first >> 6} in rdbLoadLen()");
    }

    // ---- the buffer over the stream ----

    long Remaining => _sourceLength == long.MaxValue ? long.MaxValue : _sourceLength - Position;

    byte ReadByte()
    {
        if (_start == _end) Refill(1);
        return _buffer[_start++];
    }

    /// <summary>The next <paramref name="count"/> bytes, which <see cref="Need"/> made available; consumes them.</summary>
    ReadOnlySpan<byte> Take(int count)
    {
        var span = _buffer.AsSpan(_start, count);
        _start += count;
        return span;
    }

    /// <summary>Makes <paramref name="count"/> (at most the buffer's size) unread bytes contiguous in the buffer.</summary>
    void Need(int count)
    {
        if (_end - _start < count) Refill(count);
    }

    /// <summary>Folds the consumed bytes into the checksum, moves the unread ones to the front and reads until <paramref name="count"/> are there.</summary>
    void Refill(int count)
    {
        FoldCrc();
        int unread = _end - _start;
        Buffer.BlockCopy(_buffer, _start, _buffer, 0, unread);
        _bufferOffset += _start;
        _start = _crcDone = 0;
        _end = unread;
        while (_end < count)
        {
            int read = source.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0) throw Truncated();
            _end += read;
        }
    }

    void FoldCrc()
    {
        _crc = Crc64.Update(_crc, _buffer.AsSpan(_crcDone, _start - _crcDone));
        _crcDone = _start;
    }

    /// <summary>Fills <paramref name="dest"/>: from the buffer, then (for big strings) straight from the stream.</summary>
    void ReadExactly(Span<byte> dest)
    {
        int available = Math.Min(_end - _start, dest.Length);
        Take(available).CopyTo(dest);
        dest = dest[available..];
        if (dest.IsEmpty) return;
        if (dest.Length <= _buffer.Length / 2)
        {
            Refill(dest.Length);
            Take(dest.Length).CopyTo(dest);
            return;
        }
        FoldCrc();
        _bufferOffset += _end;
        _start = _end = _crcDone = 0;
        for (int filled = 0; filled < dest.Length;)
        {
            int read = source.Read(dest[filled..]);
            if (read == 0)
            {
                _bufferOffset += filled;
                throw Truncated();
            }
            filled += read;
        }
        _crc = Crc64.Update(_crc, dest);
        _bufferOffset += dest.Length;
    }

    RdbFormatException Truncated() => new($"Short read or OOM loading DB. Unrecoverable error, aborting now. (the image ends before offset {Position + 1})");

    static RdbFormatException Corrupt(string reason) => new(reason);
}
