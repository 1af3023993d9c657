using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>Our writer and reader together: round trips, header and trailer, thresholds applied on load, refusals.</summary>
[Trait("Category", "Unit")]
public sealed class RdbCodecTests
{
    /// <summary>A server that ran the interop script (every type and encoding, TTLs, three databases).</summary>
    static RedisServer ServerWithScript(ServerConfig? config = null)
    {
        var server = InProcessClient.StartServer(config);
        var client = new InProcessClient(server);
        foreach (var command in RdbInteropTests.Script()) Assert.NotEqual((byte)'-', client.Run([.. command.Select(Encoding.Latin1.GetBytes)])[0]);
        return server;
    }

    static byte[] Save(RedisServer server, bool compress = true, bool checksum = true, bool aofBase = false) => server.Executor.InvokeAsync(() =>
    {
        var output = new MemoryStream();
        RdbWriter.WriteDataset(server.Keyspace, server.Functions.Codes(), output, compress, checksum, aofBase);
        return output.ToArray();
    }).GetAwaiter().GetResult();

    static SortedDictionary<string, string> Describe(RedisServer server) =>
        server.Executor.InvokeAsync(() => RdbTestData.Describe(server.Keyspace)).GetAwaiter().GetResult();

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Every_type_round_trips_with_its_encoding_and_ttl(bool compress, bool checksum)
    {
        var server = ServerWithScript();
        try
        {
            var image = Save(server, compress, checksum);
            var (loaded, reader) = RdbTestData.Load(image, new ServerConfig());
            Assert.Equal(image.Length, reader.Position);
            Assert.Equal(Describe(server), RdbTestData.Describe(loaded));
        }
        finally
        {
            server.Stop();
        }
    }

    [Fact]
    public void Compression_makes_the_image_smaller_and_changes_nothing_else()
    {
        var server = ServerWithScript();
        try
        {
            var compressed = Save(server, compress: true);
            var plain = Save(server, compress: false);
            Assert.True(compressed.Length < plain.Length);
            Assert.Equal(RdbTestData.Describe(RdbTestData.Load(plain, new ServerConfig()).Keyspace), RdbTestData.Describe(RdbTestData.Load(compressed, new ServerConfig()).Keyspace));
        }
        finally
        {
            server.Stop();
        }
    }

    [Fact]
    public void Header_has_the_aux_fields_redis_writes()
    {
        var keyspace = new Keyspace(16);
        var output = new MemoryStream();
        RdbWriter.WriteDataset(keyspace, [], output, compress: true, checksum: true, aofBase: true);
        var (_, reader) = RdbTestData.Load(output.ToArray(), new ServerConfig());
        Assert.Equal(10, reader.Version);
        var aux = reader.AuxFields.ToDictionary(f => f.Key, f => Encoding.ASCII.GetString(f.Value));
        Assert.Equal(["redis-ver", "redis-bits", "ctime", "used-mem", "aof-base"], reader.AuxFields.Select(f => f.Key));
        Assert.Equal("7.0.15", aux["redis-ver"]);
        Assert.Equal("64", aux["redis-bits"]);
        Assert.InRange(long.Parse(aux["ctime"]), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.True(long.Parse(aux["used-mem"]) > 0);
        Assert.Equal("1", aux["aof-base"]);
    }

    [Fact]
    public void Writer_position_counts_every_byte_and_the_trailer_is_the_crc()
    {
        var output = new MemoryStream();
        var writer = new RdbWriter(output, compress: false, checksum: true);
        writer.WriteHeader(1000, aofBase: false);
        writer.WriteSelectDb(0, 1, 0);
        writer.WriteKey(new KeyEntry("k"u8.ToArray(), "v"u8.ToArray(), RedisType.String, ObjectEncoding.Embstr));
        writer.WriteEnd();
        var image = output.ToArray();
        Assert.Equal(image.Length, writer.Position);
        Assert.Equal(Crc64.Compute(image.AsSpan(0, image.Length - 8)), BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(image.Length - 8)));
        Assert.EndsWith("fe00fb010000016b0176ff", Convert.ToHexString(image[..^8]), StringComparison.OrdinalIgnoreCase);

        var unchecked_ = new MemoryStream();
        var plain = new RdbWriter(unchecked_, compress: false, checksum: false);
        plain.WriteHeader(1000, aofBase: false);
        plain.WriteEnd();
        Assert.Equal(new byte[8], unchecked_.ToArray()[^8..]);
    }

    /// <summary>The RDB preamble of an AOF: the reader stops right behind the checksum and leaves a seekable stream there.</summary>
    [Fact]
    public void Position_ends_right_behind_the_checksum_even_with_bytes_after_it()
    {
        var server = ServerWithScript();
        try
        {
            var image = Save(server);
            var tail = "*1\r\n$4\r\nPING\r\n"u8.ToArray();
            var stream = new MemoryStream([.. image, .. tail]);
            var (_, reader) = RdbTestData.Load(stream, new ServerConfig());
            Assert.Equal(image.Length, reader.Position);
            Assert.Equal(image.Length, stream.Position);

            using var forwardOnly = new ForwardOnlyStream([.. image, .. tail]);
            var (_, unseekable) = RdbTestData.Load(forwardOnly, new ServerConfig());
            Assert.Equal(image.Length, unseekable.Position);
        }
        finally
        {
            server.Stop();
        }
    }

    /// <summary>As Redis 7.0 loads: type 2 and 4 against the thresholds; listpacks and intsets only by their count.</summary>
    [Fact]
    public void Loading_applies_our_thresholds_like_redis()
    {
        var generous = ServerConfig.Parse("hash-max-listpack-entries 1000\nhash-max-listpack-value 1000\nset-max-intset-entries 1000\nzset-max-listpack-entries 1000\nzset-max-listpack-value 1000\n");
        var server = InProcessClient.StartServer(generous);
        try
        {
            var client = new InProcessClient(server);
            client.Run("HSET h:many " + string.Join(' ', Enumerable.Range(0, 600).Select(i => $"f{i} v{i}")));
            client.Run("HSET h:long f " + new string('v', 100));
            client.Run("SADD s:ints " + string.Join(' ', Enumerable.Range(0, 600)));
            client.Run("ZADD z:many " + string.Join(' ', Enumerable.Range(0, 200).Select(i => $"{i} m{i}")));
            client.Run("ZADD z:long 1 " + new string('m', 100));
            var image = Save(server);
            var loaded = RdbTestData.Load(image, new ServerConfig()).Keyspace;
            string EncodingOf(string key) => loaded[0].Peek(Encoding.ASCII.GetBytes(key))!.Encoding.ToString();
            Assert.Equal("Hashtable", EncodingOf("h:many"));
            Assert.Equal("Listpack", EncodingOf("h:long"));
            Assert.Equal("Hashtable", EncodingOf("s:ints"));
            Assert.Equal("Skiplist", EncodingOf("z:many"));
            Assert.Equal("Listpack", EncodingOf("z:long"));
            Assert.Equal(Describe(server).Values.Select(Contents), RdbTestData.Describe(loaded).Values.Select(Contents));
        }
        finally
        {
            server.Stop();
        }

        static string Contents(string description) => description[description.IndexOf('|')..];
    }

    [Fact]
    public void Plain_types_convert_to_compact_forms_within_the_thresholds()
    {
        var image = new RdbImage(10)
            .SelectDb(0)
            .Key(RdbType.Set, "ints").Length(3).String("3").String("-1").String("20000")
            .Key(RdbType.Set, "mixed").Length(2).String("1").String("x")
            .Key(RdbType.Hash, "hash").Length(2).String("a").String("1").String("b").String("two")
            .Key(RdbType.Hash, "long").Length(1).String("a").String(new string('x', 65))
            .Key(RdbType.ZSet2, "zset").Length(2).String("b").Double(2).String("a").Double(1)
            .Key(RdbType.List, "list").Length(2).String("x").IntString(RdbFormat.EncodingInt16, 1000)
            .End();
        var keyspace = RdbTestData.Load(image, new ServerConfig()).Keyspace;
        var description = RdbTestData.Describe(keyspace);
        Assert.Equal("Set Intset 0 |-1,20000,3", description["0 696E7473"]);
        Assert.Equal("Set Hashtable 0 |1,x", description["0 6D69786564"]);
        Assert.Equal("Hash Listpack 0 |a=1,b=two", description["0 68617368"]);
        Assert.StartsWith("Hash Hashtable 0 |a=xxx", description["0 6C6F6E67"]);
        Assert.Equal("ZSet Listpack 0 |a:1,b:2", description["0 7A736574"]);
        Assert.Equal("List Quicklist 0 |x,1000", description["0 6C697374"]);
    }

    [Fact]
    public void Resizedb_hints_reach_the_loader_capped_by_the_bytes_left()
    {
        var image = new RdbImage(10)
            .SelectDb(0).Byte(RdbFormat.OpResizeDb).Length(2).Length(1).Key(RdbType.String, "a").String("1").Key(RdbType.String, "b").String("2")
            .SelectDb(3).Byte(RdbFormat.OpResizeDb).Byte(RdbFormat.Length32Bit).Int32BigEndian(2_000_000_000).Length(0)
            .End();
        var hints = new List<(int, int)>();
        var reader = new RdbReader(new MemoryStream(image), new ServerConfig(), verifyChecksum: true) { ResizeDb = (db, keys) => hints.Add((db, keys)) };
        reader.ReadHeader();
        while (reader.TryReadEntry(out _)) { }
        Assert.Equal([(0, 2), (3, 9)], hints);
    }

    [Fact]
    public void Empty_collections_are_skipped_like_redis()
    {
        var image = new RdbImage(10).SelectDb(0)
            .Key(RdbType.Set, "empty").Length(0)
            .Key(RdbType.ListQuicklist2, "no-nodes").Length(0)
            .Key(RdbType.String, "kept").String("v")
            .End();
        var (keyspace, reader) = RdbTestData.Load(image, new ServerConfig());
        Assert.Equal(2, reader.EmptyKeysSkipped);
        Assert.Equal(["0 6B657074"], RdbTestData.Describe(keyspace).Keys);
    }

    [Fact]
    public void A_duplicate_key_is_not_added()
    {
        var image = new RdbImage(10).SelectDb(0).Key(RdbType.String, "k").String("1").Key(RdbType.String, "k").String("2").End();
        var reader = new RdbReader(new MemoryStream(image), new ServerConfig(), verifyChecksum: true);
        var keyspace = new Keyspace(16);
        reader.ReadHeader();
        Assert.True(reader.TryReadEntry(out var first));
        Assert.True(first.AddTo(keyspace));
        Assert.True(reader.TryReadEntry(out var second));
        Assert.False(second.AddTo(keyspace));
        Assert.Equal("1"u8.ToArray(), keyspace[0].Peek("k"u8)!.StringValue);
    }

    [Fact]
    public void Expiry_opcodes_in_seconds_and_milliseconds_and_ignored_lru_lfu()
    {
        var image = new RdbImage(9).SelectDb(0)
            .Byte(RdbFormat.OpExpireTime).Int32(2_000_000_000).Key(RdbType.String, "seconds").String("v")
            .Byte(RdbFormat.OpExpireTimeMs).Int64(4_102_444_800_123).Byte(RdbFormat.OpIdle).Length(1000).Key(RdbType.String, "ms").String("v")
            .Byte(RdbFormat.OpFreq, 5).Key(RdbType.String, "none").String("v")
            .End();
        var keyspace = RdbTestData.Load(image, new ServerConfig()).Keyspace;
        Assert.Equal(2_000_000_000_000, keyspace[0].Peek("seconds"u8)!.ExpireAt);
        Assert.Equal(4_102_444_800_123, keyspace[0].Peek("ms"u8)!.ExpireAt);
        Assert.Equal(0, keyspace[0].Peek("none"u8)!.ExpireAt);
        Assert.Equal(2, keyspace[0].ExpiresCount);
    }

    [Theory]
    [InlineData("REDIS0011", "Can't handle RDB format version 11")]
    [InlineData("REDIS0000", "Can't handle RDB format version 0")]
    [InlineData("REDIX0010", "Wrong signature trying to load DB from file")]
    public void Header_is_checked(string header, string message)
    {
        var reader = new RdbReader(new MemoryStream([.. Encoding.ASCII.GetBytes(header), 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]), new ServerConfig(), verifyChecksum: true);
        Assert.Equal(message, Assert.Throws<RdbFormatException>(reader.ReadHeader).Message);
    }

    [Fact]
    public void Versions_before_5_have_no_checksum()
    {
        var image = new RdbImage(4).SelectDb(0).Key(RdbType.String, "k").String("v").End();
        var (keyspace, reader) = RdbTestData.Load([.. image, .. "tail"u8], new ServerConfig());
        Assert.Equal(image.Length, reader.Position);
        Assert.Single(RdbTestData.Describe(keyspace));
    }

    [Fact]
    public void A_wrong_checksum_is_refused_with_redis_s_message_unless_not_verified_or_zero()
    {
        var image = new RdbImage(10).SelectDb(0).Key(RdbType.String, "k").String("value").End();
        ulong good = BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(image.Length - 8));
        image[^10] ^= 0x20; // a byte of "value": still a well-formed image
        ulong actual = Crc64.Compute(image.AsSpan(0, image.Length - 8));
        var error = Assert.Throws<RdbFormatException>(() => RdbTestData.Load(image, new ServerConfig()));
        Assert.Equal($"Wrong RDB checksum expected: ({actual:x}) but got ({good:x}). Aborting now.", error.Message);

        Assert.Single(RdbTestData.Describe(RdbTestData.Load(image, new ServerConfig(), verifyChecksum: false).Keyspace));
        image.AsSpan(image.Length - 8).Clear();
        Assert.Single(RdbTestData.Describe(RdbTestData.Load(image, new ServerConfig()).Keyspace));
    }

    /// <summary>Lengths claiming more than the stream holds fail at once, before anything that size is allocated.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Huge_lengths_are_refused_without_allocating_them(bool seekable)
    {
        var hugeString = new RdbImage(10).SelectDb(0).Key(RdbType.String, "k").Byte(RdbFormat.Length64Bit).Int64BigEndian(1L << 40).Raw("abc"u8).End();
        var hugeList = new RdbImage(10).SelectDb(0).Key(RdbType.List, "k").Byte(RdbFormat.Length32Bit).Int32BigEndian(int.MaxValue).String("a").End();
        var hugeLzf = new RdbImage(10).SelectDb(0).Key(RdbType.String, "k").Byte(0xC3).Length(2).Byte(RdbFormat.Length32Bit).Int32BigEndian(int.MaxValue).Raw("ab"u8).End();
        var hugeBlob = new RdbImage(10).SelectDb(0).Key(RdbType.HashListpack, "k").Byte(RdbFormat.Length32Bit).Int32BigEndian(1 << 30).Raw(new byte[3 << 20]).End();
        var hugeScratchBlob = new RdbImage(10).SelectDb(0).Key(RdbType.ZSetListpack, "k").Byte(RdbFormat.Length32Bit).Int32BigEndian(int.MaxValue).Raw(new byte[3 << 20]).End();
        foreach (var image in new[] { hugeString, hugeList, hugeLzf, hugeBlob, hugeScratchBlob })
        {
            using Stream stream = seekable ? new MemoryStream(image) : new ForwardOnlyStream(image);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Throws<RdbFormatException>(() => RdbTestData.Load(stream, new ServerConfig()));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 20);
        }
    }

    [Theory]
    [InlineData(RdbFormat.OpModuleAux, "AUX module data")]
    [InlineData(RdbFormat.OpFunction2, "function library")]
    [InlineData(RdbFormat.OpFunction, "Pre-release function format not supported")]
    [InlineData((byte)RdbType.Module2, "module data")]
    [InlineData((byte)20, "Unknown RDB encoding type 20")]
    public void Unsupported_content_is_named(byte opcode, string named)
    {
        // A module id whose name decodes to "ReJSON-RL" (the RedisJSON type) with version 3.
        ulong moduleId = 0;
        foreach (char c in "ReJSON-RL") moduleId = (moduleId << 6) | (uint)"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".IndexOf(c, StringComparison.Ordinal);
        moduleId = (moduleId << 10) | 3;
        var image = new RdbImage(10).SelectDb(0).Byte(opcode);
        // MODULE_AUX has no key: the module id follows the opcode.
        if (opcode != RdbFormat.OpModuleAux) image.String("key");
        image.Byte(RdbFormat.Length64Bit).Int64BigEndian((long)moduleId);
        var error = Assert.Throws<RdbFormatException>(() => RdbTestData.Load(image.End(), new ServerConfig()));
        Assert.Contains(named, error.Message);
        if (named.Contains("module", StringComparison.Ordinal)) Assert.Contains("'ReJSON-RL'", error.Message);
    }

    [Fact]
    public void A_database_beyond_the_configured_count_is_refused()
    {
        var image = new RdbImage(10).SelectDb(16).Key(RdbType.String, "k").String("v").End();
        var error = Assert.Throws<RdbFormatException>(() => RdbTestData.Load(image, new ServerConfig()));
        Assert.Contains("configured to handle more than 16 databases", error.Message);
    }

    [Theory]
    [InlineData(RdbType.Set, "Duplicate set members detected")]
    [InlineData(RdbType.ZSet2, "Duplicate zset fields detected")]
    [InlineData(RdbType.Hash, "Hash with dup elements")]
    public void Duplicate_members_are_refused(RdbType type, string message)
    {
        var image = new RdbImage(10).SelectDb(0).Key(type, "k").Length(2);
        foreach (var _ in new[] { 0, 1 })
        {
            image.String("dup");
            if (type == RdbType.ZSet2) image.Double(1);
            if (type == RdbType.Hash) image.String("v");
        }
        Assert.Equal(message, Assert.Throws<RdbFormatException>(() => RdbTestData.Load(image.End(), new ServerConfig())).Message);
    }

    [Fact]
    public void Duplicate_fields_inside_a_listpack_are_refused()
    {
        var builder = new ListpackBuilder();
        foreach (var entry in new[] { "f", "1", "g", "2", "f", "3" }) builder.Append(Encoding.ASCII.GetBytes(entry));
        var image = new RdbImage(10).SelectDb(0).Key(RdbType.HashListpack, "k").String(builder.ToArray()).End();
        Assert.Equal("Hash listpack integrity check failed.", Assert.Throws<RdbFormatException>(() => RdbTestData.Load(image, new ServerConfig())).Message);
    }

    /// <summary>
    /// Small listpacks are checked field against field, larger ones by sorted hashes: either way every
    /// repeated field (text or integer, first, middle or last) is found, and distinct fields load.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(40)]
    public void Duplicate_fields_of_a_listpack_are_found_at_every_size(int fields)
    {
        static string Field(int i) => i % 2 == 0 ? $"field{i}" : (i * 7).ToString(CultureInfo.InvariantCulture);
        byte[] Image(IEnumerable<string> names)
        {
            var builder = new ListpackBuilder();
            foreach (var name in names)
            {
                builder.Append(Encoding.ASCII.GetBytes(name));
                builder.Append("v"u8);
            }
            return new RdbImage(10).SelectDb(0).Key(RdbType.HashListpack, "k").String(builder.ToArray()).End();
        }
        var distinct = Enumerable.Range(0, fields).Select(Field).ToList();
        var (keyspace, _) = RdbTestData.Load(Image(distinct), new ServerConfig());
        Assert.Equal(fields, HashValue.Length(keyspace[0].Peek("k"u8)!));
        for (int repeated = 0; repeated < fields; repeated++)
        {
            var names = distinct.Take(fields - 1).Append(Field(repeated == fields - 1 ? 0 : repeated));
            Assert.Equal("Hash listpack integrity check failed.", Assert.Throws<RdbFormatException>(() => RdbTestData.Load(Image(names), new ServerConfig())).Message);
        }
    }
}

/// <summary>A stream that can only be read forward, like a pipe: no length, no seeking.</summary>
internal sealed class ForwardOnlyStream(byte[] data) : Stream
{
    readonly MemoryStream _inner = new(data);
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 1000));
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Loading images and describing datasets for comparison.</summary>
internal static class RdbTestData
{
    public static (Keyspace Keyspace, RdbReader Reader) Load(byte[] image, ServerConfig config, bool verifyChecksum = true) =>
        Load(new MemoryStream(image), config, verifyChecksum);

    /// <summary>Reads the whole image into a new keyspace; a key met twice is refused, as a server's loader does.</summary>
    public static (Keyspace Keyspace, RdbReader Reader) Load(Stream stream, ServerConfig config, bool verifyChecksum = true)
    {
        var keyspace = new Keyspace(config.Databases);
        var reader = new RdbReader(stream, config, verifyChecksum);
        reader.ReadHeader();
        while (reader.TryReadEntry(out var entry))
        {
            if (!entry.AddTo(keyspace)) throw new RdbFormatException($"Duplicated key found in RDB file: {Encoding.Latin1.GetString(entry.Key)}");
        }
        return (keyspace, reader);
    }

    /// <summary>Every key as "db hex-key" → "type encoding expire-ms |contents", unordered collections sorted.</summary>
    public static SortedDictionary<string, string> Describe(Keyspace keyspace)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int db = 0; db < keyspace.Count; db++)
        {
            foreach (var entry in keyspace[db]) result[$"{db} {Convert.ToHexString(entry.Key)}"] = $"{entry.Type} {entry.Encoding} {entry.ExpireAt} |{Contents(entry)}";
        }
        return result;
    }

    static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    static string Contents(KeyEntry entry)
    {
        switch (entry.Type)
        {
            case RedisType.String:
                return Text(entry.StringValue);
            case RedisType.List:
                var list = (ListValue)entry.Value;
                return string.Join(",", Enumerable.Range(0, list.Count).Select(i => Text(list[i])));
            case RedisType.Set:
                var members = new List<string>();
                for (var e = new SetValue.Enumerator(entry); e.MoveNext();) members.Add(Text(e.Current.ToArray()));
                return string.Join(",", members.Order(StringComparer.Ordinal));
            case RedisType.ZSet:
                var zset = (SortedSetValue)entry.Value;
                var elements = new List<string>();
                var cursor = zset.At(0);
                for (long i = 0; i < zset.Count; i++, cursor.Advance()) elements.Add($"{Text(cursor.Member)}:{cursor.Score:R}");
                return string.Join(",", elements);
            default:
                var pairs = new List<string>();
                for (var e = new HashValue.Enumerator(entry); e.MoveNext();) pairs.Add($"{Text(e.Field.ToArray())}={Text(e.Value.ToArray())}");
                return string.Join(",", pairs.Order(StringComparer.Ordinal));
        }
    }
}

/// <summary>
/// Builds RDB images byte by byte from the format description, for fixtures no current Redis writes
/// (ziplists, zipmaps, old opcodes) and for damaged images.
/// </summary>
internal sealed class RdbImage
{
    readonly List<byte> _bytes = [];
    readonly int _version;

    public RdbImage(int version)
    {
        _version = version;
        Raw(Encoding.ASCII.GetBytes($"REDIS{version:D4}"));
    }

    public RdbImage Raw(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) _bytes.Add(b);
        return this;
    }

    public RdbImage Byte(params byte[] bytes) => Raw(bytes);

    /// <summary>rdbSaveLen: 6 bits, 14 bits big-endian, or 0x80 and 4 bytes big-endian.</summary>
    public RdbImage Length(long length) => length switch
    {
        < 64 => Byte((byte)length),
        < 16384 => Byte((byte)(0x40 | (length >> 8)), (byte)length),
        _ => Byte(RdbFormat.Length32Bit).Int32BigEndian((int)length),
    };

    public RdbImage String(ReadOnlySpan<byte> value) => Length(value.Length).Raw(value);

    public RdbImage String(string value) => String(Encoding.Latin1.GetBytes(value));

    public RdbImage IntString(int encoding, long value)
    {
        Byte((byte)(0xC0 | encoding));
        int width = encoding switch { RdbFormat.EncodingInt8 => 1, RdbFormat.EncodingInt16 => 2, _ => 4 };
        for (int i = 0; i < width; i++) Byte((byte)(value >> (8 * i)));
        return this;
    }

    public RdbImage Int32(int value) => Raw(BitConverter.GetBytes(value));
    public RdbImage Int64(long value) => Raw(BitConverter.GetBytes(value));
    public RdbImage Double(double value) => Raw(BitConverter.GetBytes(value));

    public RdbImage Int32BigEndian(int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return Raw(bytes);
    }

    public RdbImage Int64BigEndian(long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return Raw(bytes);
    }

    public RdbImage Aux(string name, string value) => Byte(RdbFormat.OpAux).String(name).String(value);

    public RdbImage SelectDb(int db) => Byte(RdbFormat.OpSelectDb).Length(db);

    public RdbImage Key(RdbType type, string key) => Byte((byte)type).String(key);

    /// <summary>EOF and, from version 5, the CRC64 trailer.</summary>
    public byte[] End()
    {
        Byte(RdbFormat.OpEof);
        if (_version >= 5) Int64((long)Crc64.Compute([.. _bytes]));
        return [.. _bytes];
    }

    /// <summary>
    /// A ziplist (Redis 6 and older) of strings and integers: u32 total bytes, u32 offset of the last entry,
    /// u16 count; per entry the previous entry's size, the encoding and the data; 0xFF.
    /// </summary>
    public static byte[] Ziplist(params object[] entries)
    {
        var body = new List<byte>();
        int previous = 0, last = 10;
        foreach (var value in entries)
        {
            var entry = new List<byte>();
            if (previous < 254) entry.Add((byte)previous);
            else entry.AddRange([0xFE, .. BitConverter.GetBytes(previous)]);
            if (value is string text)
            {
                var bytes = Encoding.Latin1.GetBytes(text);
                if (bytes.Length < 64) entry.Add((byte)bytes.Length);
                else if (bytes.Length < 16384) entry.AddRange([(byte)(0x40 | (bytes.Length >> 8)), (byte)bytes.Length]);
                else entry.AddRange([0x80, (byte)(bytes.Length >> 24), (byte)(bytes.Length >> 16), (byte)(bytes.Length >> 8), (byte)bytes.Length]);
                entry.AddRange(bytes);
            }
            else
            {
                long number = Convert.ToInt64(value);
                var little = BitConverter.GetBytes(number);
                switch (number)
                {
                    case >= 0 and <= 12: entry.Add((byte)(0xF1 + number)); break;
                    case >= sbyte.MinValue and <= sbyte.MaxValue: entry.AddRange([0xFE, little[0]]); break;
                    case >= short.MinValue and <= short.MaxValue: entry.AddRange([0xC0, .. little[..2]]); break;
                    case >= -(1 << 23) and < 1 << 23: entry.AddRange([0xF0, .. little[..3]]); break;
                    case >= int.MinValue and <= int.MaxValue: entry.AddRange([0xD0, .. little[..4]]); break;
                    default: entry.AddRange([0xE0, .. little]); break;
                }
            }
            last = 10 + body.Count;
            previous = entry.Count;
            body.AddRange(entry);
        }
        var result = new List<byte>();
        result.AddRange(BitConverter.GetBytes(10 + body.Count + 1));
        result.AddRange(BitConverter.GetBytes(last));
        result.AddRange(BitConverter.GetBytes((ushort)entries.Length));
        result.AddRange(body);
        result.Add(0xFF);
        return [.. result];
    }

    /// <summary>A zipmap (Redis 2.4 and older): a count byte, per pair field length, field, value length, free byte, value and free bytes; 0xFF.</summary>
    public static byte[] Zipmap(params (string Field, string Value)[] pairs)
    {
        var result = new List<byte> { (byte)pairs.Length };
        foreach (var (field, value) in pairs)
        {
            result.Add((byte)field.Length);
            result.AddRange(Encoding.Latin1.GetBytes(field));
            result.Add((byte)value.Length);
            result.Add(2);
            result.AddRange(Encoding.Latin1.GetBytes(value));
            result.AddRange([0, 0]);
        }
        result.Add(0xFF);
        return [.. result];
    }
}
