using MiniRedis.Protocol;

namespace MiniRedis.Persistence.Aof;

/// <summary>What <see cref="AofReader.Next"/> found.</summary>
public enum AofRecord
{
    /// <summary>A complete command, appended to the caller's batch.</summary>
    Command,
    /// <summary>Clean end of file.</summary>
    End,
    /// <summary>The file ends inside a command (a torn last write).</summary>
    Truncated,
    /// <summary>Bytes that are not a command; <see cref="AofReader.Error"/> says why.</summary>
    Corrupt,
}

/// <summary>
/// Reads an AOF command by command, as Redis's loader does: RESP arrays of bulk strings, <c>#</c>
/// annotation lines skipped, a file ending mid-command reported as truncated (not corrupt).
/// Streams through one reusable buffer, so files of any size load in constant memory.
/// </summary>
public sealed class AofReader : IDisposable
{
    const int MaxLineLength = 64 * 1024;

    readonly Stream _stream;
    /// <summary>The file's size, read once (asking per argument costs an fstat each); -1 when unknown.</summary>
    readonly long _length;
    byte[] _buffer = new byte[1 << 20];
    int _start;
    int _end;
    long _bufferOffset;
    bool _eof;

    /// <summary>Reads from the stream's current position (after an RDB preamble); offsets stay those of the file.</summary>
    public AofReader(Stream stream)
    {
        _stream = stream;
        _length = stream.CanSeek ? stream.Length : -1;
        _bufferOffset = stream.CanSeek ? stream.Position : 0;
    }

    /// <summary>Offset of the next unread byte: after the last complete command once one was read.</summary>
    public long Position => _bufferOffset + _start;

    /// <summary>Offset where the record last returned (or the bad bytes) begins.</summary>
    public long RecordStart { get; private set; }

    /// <summary>Why the file was found corrupt.</summary>
    public string? Error { get; private set; }

    /// <summary>True when the seekable stream begins with an RDB image (<c>REDIS</c>): Redis's RDB preamble. The stream is left at its start.</summary>
    public static bool StartsWithRdbPreamble(Stream stream)
    {
        Span<byte> magic = stackalloc byte[5];
        stream.Position = 0;
        int read = stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        stream.Position = 0;
        return read == magic.Length && magic.SequenceEqual("REDIS"u8);
    }

    /// <summary>Reads the next command into <paramref name="batch"/> (as a new command of it).</summary>
    public AofRecord Next(CommandBatch batch)
    {
        while (true)
        {
            RecordStart = Position;
            var line = ReadLine(out bool complete);
            if (line.IsEmpty && !complete) return AofRecord.End;
            if (line[0] == (byte)'#')
            {
                if (!complete) return AofRecord.Truncated;
                continue;
            }
            if (line[0] != (byte)'*') return Corrupt($"expected '*', got 0x{line[0]:x2}");
            if (!complete) return AofRecord.Truncated;
            if (!TryParseCount(line[1..], out long argc) || argc < 1) return Corrupt("invalid multibulk length");
            return ReadArguments(batch, argc);
        }
    }

    AofRecord ReadArguments(CommandBatch batch, long argc)
    {
        batch.BeginCommand();
        Span<byte> terminator = stackalloc byte[2];
        for (long i = 0; i < argc; i++)
        {
            var line = ReadLine(out bool complete);
            if (line.IsEmpty && !complete) return Torn(batch);
            if (line[0] != (byte)'$') return CorruptArgument(batch, $"expected '$', got 0x{line[0]:x2}");
            if (!complete) return Torn(batch);
            if (!TryParseCount(line[1..], out long length) || length > int.MaxValue - 2) return CorruptArgument(batch, "invalid bulk length");
            // A length beyond the end of the file is a torn write; don't allocate for it.
            if (_length >= 0 && Position + length + 2 > _length) return Torn(batch);
            var target = batch.AddArgument((int)length);
            if (!ReadExactly(target) || !ReadExactly(terminator)) return Torn(batch);
            if (!terminator.SequenceEqual("\r\n"u8)) return CorruptArgument(batch, "bulk string not terminated by CRLF");
        }
        return AofRecord.Command;
    }

    AofRecord Torn(CommandBatch batch)
    {
        batch.DropLastCommand();
        return AofRecord.Truncated;
    }

    AofRecord CorruptArgument(CommandBatch batch, string reason)
    {
        batch.DropLastCommand();
        return Corrupt(reason);
    }

    AofRecord Corrupt(string reason)
    {
        Error = reason;
        return AofRecord.Corrupt;
    }

    /// <summary>Decimal count as Redis writes it: digits, optional minus, nothing else but the CRLF.</summary>
    static bool TryParseCount(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.Length >= 2 && text[^2] == (byte)'\r') text = text[..^2];
        else if (text.Length >= 1 && text[^1] == (byte)'\n') text = text[..^1];
        return Data.RedisNumbers.TryParseInt64(text, out value) && value >= 0;
    }

    /// <summary>
    /// The next line including its '\n'; <paramref name="complete"/> is false when the file ended first
    /// (the partial line is returned). Consumes the line.
    /// </summary>
    ReadOnlySpan<byte> ReadLine(out bool complete)
    {
        int searched = 0;
        while (true)
        {
            int newline = _buffer.AsSpan(_start + searched, _end - _start - searched).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                int length = searched + newline + 1;
                var line = _buffer.AsSpan(_start, length);
                _start += length;
                complete = true;
                return line;
            }
            searched = _end - _start;
            if (searched >= MaxLineLength || !Fill(searched + 1))
            {
                var rest = _buffer.AsSpan(_start, _end - _start);
                _start = _end;
                complete = false;
                return rest;
            }
        }
    }

    bool ReadExactly(Span<byte> target)
    {
        while (!target.IsEmpty)
        {
            if (_start == _end && !Fill(1)) return false;
            int n = Math.Min(target.Length, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(target);
            _start += n;
            target = target[n..];
        }
        return true;
    }

    /// <summary>Makes at least <paramref name="needed"/> unread bytes available if the file has them.</summary>
    bool Fill(int needed)
    {
        if (_end - _start >= needed) return true;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _bufferOffset += _start;
            _end -= _start;
            _start = 0;
        }
        if (needed > _buffer.Length) Array.Resize(ref _buffer, needed);
        while (_end < needed && !_eof)
        {
            int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0) _eof = true;
            _end += n;
        }
        return _end - _start >= needed;
    }

    public void Dispose() => _stream.Dispose();
}
