using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// Encodes commands as the AOF stores them (RESP arrays of bulk strings) into one growable buffer
/// that is reused, so steady-state logging allocates nothing.
/// </summary>
public sealed class AofEncoder
{
    const int InitialSize = 64 * 1024;
    /// <summary>A buffer grown past this by one large batch is dropped once written.</summary>
    const int RetainedSize = 1 << 20;

    byte[] _buffer = new byte[InitialSize];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    /// <summary>Starts a command of <paramref name="argc"/> arguments; follow with that many <see cref="Bulk(ReadOnlySpan{byte})"/>.</summary>
    public void BeginCommand(int argc) => Header('*', argc);

    public void Bulk(ReadOnlySpan<byte> value)
    {
        Header('$', value.Length);
        Raw(value);
        Raw("\r\n"u8);
    }

    public void Bulk(long value)
    {
        Span<byte> digits = stackalloc byte[24];
        Bulk(digits[..RedisNumbers.FormatInt64(value, digits)]);
    }

    /// <summary>
    /// One propagated record, preceded by a SELECT when <paramref name="db"/> differs from the
    /// stream's <paramref name="selectedDb"/> (which is updated); db -1 applies to any database.
    /// </summary>
    public void Record(int db, ref int selectedDb, ArgVector args)
    {
        if (db >= 0 && db != selectedDb)
        {
            BeginCommand(2);
            Bulk("SELECT"u8);
            Bulk(db);
            selectedDb = db;
        }
        BeginCommand(args.Count);
        for (int i = 0; i < args.Count; i++) Bulk(args[i]);
    }

    /// <summary>A <c>#TS:&lt;unix-seconds&gt;</c> annotation line.</summary>
    public void Timestamp(long unixSeconds)
    {
        Raw("#TS:"u8);
        Span<byte> digits = stackalloc byte[24];
        Raw(digits[..RedisNumbers.FormatInt64(unixSeconds, digits)]);
        Raw("\r\n"u8);
    }

    void Header(char prefix, long value)
    {
        Span<byte> line = stackalloc byte[24];
        line[0] = (byte)prefix;
        int length = 1 + RedisNumbers.FormatInt64(value, line[1..]);
        line[length++] = (byte)'\r';
        line[length++] = (byte)'\n';
        Raw(line[..length]);
    }

    void Raw(ReadOnlySpan<byte> bytes)
    {
        if (Length + bytes.Length > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + bytes.Length));
        bytes.CopyTo(_buffer.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Forgets the first <paramref name="count"/> bytes (they reached the file).</summary>
    public void Consume(int count)
    {
        _buffer.AsSpan(count, Length - count).CopyTo(_buffer);
        Length -= count;
        if (Length == 0 && _buffer.Length > RetainedSize) _buffer = new byte[InitialSize];
    }
}
