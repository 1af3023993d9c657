using System.Buffers.Binary;
using System.Text;
using MiniRedis.Config;
using MiniRedis.Data;

namespace MiniRedis.Persistence.Rdb;

/// <summary>What <see cref="RdbChecker.Check"/> found.</summary>
/// <param name="Report">redis-check-rdb's lines for the image.</param>
/// <param name="End">Offset right after the image's checksum (where an AOF's command tail starts); the error offset when not valid.</param>
public sealed record RdbCheckResult(bool Valid, string Report, long End, long Keys, long Expires, long AlreadyExpired,
    SortedDictionary<int, SortedDictionary<string, long>> KeysPerDbAndType);

/// <summary>
/// redis-check-rdb (Redis 7.0) over an RDB image: the structure is read with <see cref="RdbReader"/>
/// (every value fully decoded and checked), the checksum compared, and the report written with
/// Redis's lines: AUX fields and database switches with the offset after each, then either
/// "Checksum OK" and "\o/ RDB looks OK! \o/" or "--- RDB ERROR DETECTED ---" with the offset the
/// read failed at and what was being read. The opcodes between keys are walked here only to place
/// those lines; the reader stays the judge of the bytes.
/// </summary>
public sealed class RdbChecker
{
    readonly byte[] _data;
    readonly StringBuilder _report = new();
    readonly SortedDictionary<int, SortedDictionary<string, long>> _perDb = [];
    readonly long _now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    RdbReader? _reader;
    /// <summary>Where the opcodes not yet reported begin.</summary>
    int _traced;
    int _auxReported;
    long _keys;
    long _expires;
    long _alreadyExpired;

    RdbChecker(byte[] data) => _data = data;

    /// <param name="name">The file as the report names it.</param>
    public static RdbCheckResult Check(byte[] data, string name) => new RdbChecker(data).Run(name);

    RdbCheckResult Run(string name)
    {
        Line(0, $"Checking RDB file {name}");
        // Checksums are compared here, so the report can tell a wrong one from a missing one.
        _reader = new RdbReader(new MemoryStream(_data, writable: false), ServerConfig.Parse(""), verifyChecksum: false)
        {
            // As redis-check-rdb: a function library is read, not loaded, and not reported.
            FunctionLibrary = _ => { },
        };
        try
        {
            _reader.ReadHeader();
            _traced = RdbFormat.HeaderLength;
            while (_reader.TryReadEntry(out var entry))
            {
                Trace(_reader.Position);
                Count(entry);
            }
        }
        catch (RdbFormatException e)
        {
            return Failed(e.Message);
        }
        Trace(_reader.Position);
        _keys += _reader.EmptyKeysSkipped;
        long end = _reader.Position;
        if (_reader.Version >= 5)
        {
            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(_data.AsSpan((int)end - 8, 8));
            if (stored == 0) Line(end, "RDB file was saved with checksum disabled: no check performed.");
            else if (stored != Crc64.Compute(_data.AsSpan(0, (int)end - 8))) return Error(end, "RDB CRC error", "check-sum", null, -1);
            else Line(end, "Checksum OK");
        }
        Line(end, "\\o/ RDB looks OK! \\o/");
        return Result(valid: true, end);
    }

    void Count(in RdbEntry entry)
    {
        _keys++;
        if (entry.ExpireAt != 0)
        {
            _expires++;
            if (entry.ExpireAt < _now) _alreadyExpired++;
        }
        if (!_perDb.TryGetValue(entry.Db, out var types)) _perDb[entry.Db] = types = new(StringComparer.Ordinal);
        string type = TypeNames.Of(entry.Type);
        types[type] = types.GetValueOrDefault(type) + 1;
    }

    /// <summary>The reader stopped at <c>reader.Position</c>; what it was reading is worked out from the bytes up to there.</summary>
    RdbCheckResult Failed(string message)
    {
        long failedAt = _reader!.Position;
        bool truncated = message.StartsWith("Short read", StringComparison.Ordinal);
        if (truncated) message = "Unexpected EOF reading RDB file";
        // Redis reads the header whole: a bad one is reported after it, a short one at the start.
        if (_traced == 0) return Error(truncated ? failedAt : RdbFormat.HeaderLength, message, "start", null, 0);
        var (doing, keyStart) = Trace(failedAt);
        // rdbFunctionLoad's words for a library record that cannot be read whole.
        if (doing == "read-functions") message = "Failed loading library, Failed loading library payload";
        if (keyStart < 0) return Error(failedAt, message, doing, null, _keys == 0 ? 0 : -1);
        int type = _data[keyStart];
        int keyEnd = SkipString(keyStart + 1, failedAt);
        if (keyEnd < 0) return Error(failedAt, message, "read-key", null, type);
        // Redis counts a key once its name is read.
        _keys++;
        return Error(failedAt, message, "read-object-value", KeyText(keyStart + 1, keyEnd), type);
    }

    RdbCheckResult Error(long offset, string message, string doing, string? key, int keyType)
    {
        _report.Append("--- RDB ERROR DETECTED ---\n");
        Line(offset, message);
        _report.Append($"[additional info] While doing: {doing}\n");
        // Redis prints the key with %s: a key holding a NUL shows up to it.
        if (key is not null) _report.Append($"[additional info] Reading key '{key.Split('\0')[0]}'\n");
        if (keyType >= 0) _report.Append($"[additional info] Reading type {keyType} ({TypeNames.Rdb(keyType)})\n");
        return Result(valid: false, offset);
    }

    RdbCheckResult Result(bool valid, long end)
    {
        _report.Append($"[info] {_keys} keys read\n[info] {_expires} expires\n[info] {_alreadyExpired} already expired\n");
        return new RdbCheckResult(valid, _report.ToString(), end, _keys, _expires, _alreadyExpired, _perDb);
    }

    void Line(long offset, string text) => _report.Append($"[offset {offset}] {text}\n");

    /// <summary>
    /// Reports the AUX fields and database switches from where the last walk ended up to
    /// <paramref name="limit"/>, stopping at a key (its type byte's offset is returned) or at the
    /// end of the image. When an opcode does not fit before the limit, returns what Redis calls that read.
    /// </summary>
    (string Doing, int KeyStart) Trace(long limit)
    {
        int p = _traced;
        while (true)
        {
            if (p >= limit) return ("read-type", -1);
            byte opcode = _data[p];
            int next;
            switch (opcode)
            {
                case RdbFormat.OpAux:
                    int nameEnd = SkipString(p + 1, limit);
                    next = nameEnd < 0 ? -1 : SkipString(nameEnd, limit);
                    if (next < 0) return ("read-aux", -1);
                    var aux = _reader!.AuxFields[_auxReported++];
                    Line(next, $"AUX FIELD {aux.Key} = '{Encoding.Latin1.GetString(aux.Value)}'");
                    break;
                case RdbFormat.OpFunction2:
                    next = SkipString(p + 1, limit);
                    if (next < 0) return ("read-functions", -1);
                    break;
                case RdbFormat.OpSelectDb:
                    next = SkipLength(p + 1, limit, out long db);
                    if (next < 0) return ("read-len", -1);
                    Line(next, $"Selecting DB ID {db}");
                    break;
                case RdbFormat.OpResizeDb:
                    next = SkipLength(p + 1, limit, out _);
                    next = next < 0 ? -1 : SkipLength(next, limit, out _);
                    if (next < 0) return ("read-len", -1);
                    break;
                case RdbFormat.OpExpireTimeMs or RdbFormat.OpExpireTime:
                    next = p + 1 + (opcode == RdbFormat.OpExpireTimeMs ? 8 : 4);
                    if (next > limit) return ("read-expire", -1);
                    break;
                case RdbFormat.OpIdle:
                    next = SkipLength(p + 1, limit, out _);
                    if (next < 0) return ("read-len", -1);
                    break;
                case RdbFormat.OpFreq:
                    next = p + 2;
                    if (next > limit) return ("read-len", -1);
                    break;
                case RdbFormat.OpEof:
                    _traced = p + 1;
                    return ("check-sum", -1);
                default:
                    // A key: the reader has read it when the limit is past it.
                    _traced = (int)limit;
                    return ("read-type", p);
            }
            p = next;
            _traced = p;
        }
    }

    /// <summary>The offset after a length field, or -1 when it doesn't end before <paramref name="limit"/>.</summary>
    int SkipLength(int p, long limit, out long value)
    {
        value = 0;
        if (p >= limit) return -1;
        byte first = _data[p];
        int size = (first >> 6) switch
        {
            RdbFormat.Length6Bit => 1,
            RdbFormat.Length14Bit => 2,
            RdbFormat.EncodedValue => 1,
            _ => first == RdbFormat.Length32Bit ? 5 : 9,
        };
        if (p + size > limit) return -1;
        value = size switch
        {
            1 => first & 0x3F,
            2 => ((first & 0x3F) << 8) | _data[p + 1],
            5 => BinaryPrimitives.ReadUInt32BigEndian(_data.AsSpan(p + 1)),
            _ => (long)BinaryPrimitives.ReadUInt64BigEndian(_data.AsSpan(p + 1)),
        };
        return p + size;
    }

    /// <summary>The offset after a string (plain, integer or LZF), or -1 when it doesn't end before <paramref name="limit"/>.</summary>
    int SkipString(int p, long limit)
    {
        int afterLength = SkipLength(p, limit, out long length);
        if (afterLength < 0) return -1;
        long end;
        if (_data[p] >> 6 != RdbFormat.EncodedValue) end = afterLength + length;
        else if (length == RdbFormat.EncodingInt8) end = afterLength + 1;
        else if (length == RdbFormat.EncodingInt16) end = afterLength + 2;
        else if (length == RdbFormat.EncodingInt32) end = afterLength + 4;
        else
        {
            int afterCompressed = SkipLength(afterLength, limit, out long compressed);
            int afterOriginal = afterCompressed < 0 ? -1 : SkipLength(afterCompressed, limit, out _);
            if (afterOriginal < 0) return -1;
            end = afterOriginal + compressed;
        }
        return end <= limit ? (int)end : -1;
    }

    /// <summary>A key as the report shows it: plain, an integer's digits or LZF decompressed.</summary>
    string KeyText(int p, int end)
    {
        int afterLength = SkipLength(p, end, out long length);
        var rest = _data.AsSpan(afterLength, end - afterLength);
        if (_data[p] >> 6 != RdbFormat.EncodedValue) return Encoding.Latin1.GetString(rest);
        if (length == RdbFormat.EncodingInt8) return ((sbyte)rest[0]).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (length == RdbFormat.EncodingInt16) return BinaryPrimitives.ReadInt16LittleEndian(rest).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (length == RdbFormat.EncodingInt32) return BinaryPrimitives.ReadInt32LittleEndian(rest).ToString(System.Globalization.CultureInfo.InvariantCulture);
        int afterCompressed = SkipLength(afterLength, end, out _);
        int afterOriginal = SkipLength(afterCompressed, end, out long original);
        // The key has been read whole by now, so the length is real; still no unbounded allocation for a report.
        if (original > 1 << 20) return "";
        var text = new byte[original];
        return Lzf.TryDecompress(_data.AsSpan(afterOriginal, end - afterOriginal), text) ? Encoding.Latin1.GetString(text) : "";
    }
}

/// <summary>Type names for reports: ours (TYPE's) and Redis's names of RDB type bytes.</summary>
static class TypeNames
{
    static readonly string[] RdbTypes =
    [
        "string", "list-linked", "set-hashtable", "zset-v1", "hash-hashtable", "zset-v2", "module-pre-release",
        "module-value", "", "hash-zipmap", "list-ziplist", "set-intset", "zset-ziplist", "hash-ziplist",
        "quicklist", "stream", "hash-listpack", "zset-listpack", "quicklist-v2", "stream-v2",
    ];

    public static string Rdb(int type) => type < RdbTypes.Length ? RdbTypes[type] : "unknown";

    public static string Of(RedisType type) => type switch
    {
        RedisType.String => "string",
        RedisType.List => "list",
        RedisType.Set => "set",
        RedisType.ZSet => "zset",
        RedisType.Hash => "hash",
        _ => type.ToString().ToLowerInvariant(),
    };
}
