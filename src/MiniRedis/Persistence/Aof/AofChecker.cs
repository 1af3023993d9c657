using System.Text;
using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Persistence.Aof;

/// <summary>What <see cref="AofChecker.Check"/> concluded about a file.</summary>
/// <param name="Size">File size.</param>
/// <param name="ValidUpTo">Offset after the last complete command (outside MULTI): where --fix cuts.</param>
/// <param name="Line">Lines read (Redis's ok_up_to_line).</param>
/// <param name="Error">The first problem with its offset ("0x...: reason"), or null.</param>
/// <param name="UnexpectedByte">A command did not start with '*' (reported without an offset, as Redis does).</param>
/// <param name="Preamble">The check of the RDB image the file starts with (aof-use-rdb-preamble), or null.</param>
public readonly record struct AofCheckResult(long Size, long ValidUpTo, long Line, string? Error, bool UnexpectedByte, RdbCheckResult? Preamble)
{
    /// <summary>The file starts with an RDB image that is not valid: nothing after it can be checked or fixed.</summary>
    public bool PreambleInvalid => Preamble is { Valid: false };

    public bool IsEmpty => Size == 0;
    public bool IsValid => ValidUpTo == Size;
}

/// <summary>
/// The verdicts of Redis 7.0's redis-check-aof on a single AOF file, rule for rule: the file is read
/// as RESP commands and <c>#</c> annotations; the valid prefix ends after the last complete command
/// outside a MULTI block; the first bad byte is reported with its offset. A file starting with
/// <c>REDIS</c> has an RDB preamble: it is checked as redis-check-rdb does, then the commands after it.
/// </summary>
public sealed class AofChecker
{
    /// <summary>redis-check-aof reads number lines with fgets into 128 bytes.</summary>
    const int NumberLineMax = 127;

    readonly byte[] _data;
    int _position;
    bool _eof;
    readonly byte[] _lineBuffer = new byte[NumberLineMax + 2];
    /// <summary>Where the last line or string read began (Redis's epos), for errors found later.</summary>
    int _readStart;
    long _line = 1;
    int _errorOffset;
    string? _error;

    readonly string _name;

    AofChecker(byte[] data, string name)
    {
        _data = data;
        _name = name;
    }

    public static AofCheckResult Check(string path) => Check(File.ReadAllBytes(path), path);

    /// <param name="name">The file as messages name it.</param>
    public static AofCheckResult Check(byte[] data, string name) => new AofChecker(data, name).Run();

    AofCheckResult Run()
    {
        if (_data.Length == 0) return new AofCheckResult(0, 0, 0, null, false, null);
        RdbCheckResult? preamble = null;
        if (_data.AsSpan().StartsWith("REDIS"u8))
        {
            preamble = RdbChecker.Check(_data, _name);
            if (!preamble.Valid) return new AofCheckResult(_data.Length, 0, 0, null, false, preamble);
            _position = (int)preamble.End;
        }
        int validUpTo = 0;
        int multi = 0;
        bool unexpectedByte = false;
        while (true)
        {
            if (multi == 0) validUpTo = _position;
            if (_position >= _data.Length)
            {
                _eof = true;
                break;
            }
            byte first = _data[_position];
            if (first == (byte)'#') SkipAnnotation();
            else if (first == (byte)'*')
            {
                if (!ReadCommand(ref multi)) break;
            }
            else
            {
                unexpectedByte = true;
                break;
            }
        }
        if (_eof && multi != 0 && _error is null) Fail(_readStart, "Reached EOF before reading EXEC for MULTI");
        string? error = _error is null ? null : $"0x{_errorOffset,16:x}: {_error}";
        return new AofCheckResult(_data.Length, validUpTo, _line, error, unexpectedByte, preamble);
    }

    void SkipAnnotation()
    {
        int newline = _data.AsSpan(_position).IndexOf((byte)'\n');
        if (newline < 0)
        {
            _position = _data.Length;
            _eof = true;
        }
        else _position += newline + 1;
    }

    bool ReadCommand(ref int multi)
    {
        if (!ReadNumber((byte)'*', out long argc)) return false;
        for (long i = 0; i < argc; i++)
        {
            if (!ReadNumber((byte)'$', out long length)) return false;
            if (length < 0 || length > long.MaxValue - 2)
            {
                Fail(_readStart, $"Expected to read string of {length} bytes, which is not in the suitable range");
                return false;
            }
            int start = _position;
            _readStart = start;
            long available = _data.Length - _position;
            if (available < length + 2)
            {
                _position = _data.Length;
                _eof = true;
                Fail(start, $"Expected to read {length + 2} bytes, got {available} bytes");
                return false;
            }
            _position += (int)length + 2;
            if (!ConsumeNewline(_data[start + (int)length], _data[start + (int)length + 1], start)) return false;
            if (i == 0 && !TrackTransaction(_data.AsSpan(start, (int)length), start, ref multi)) return false;
        }
        return true;
    }

    bool TrackTransaction(ReadOnlySpan<byte> name, int offset, ref int multi)
    {
        if (Ascii.EqualsIgnoreCase(name, "multi"u8))
        {
            if (multi++ != 0)
            {
                Fail(offset, $"Unexpected MULTI in AOF {_name}");
                return false;
            }
        }
        else if (Ascii.EqualsIgnoreCase(name, "exec"u8) && --multi != 0)
        {
            Fail(offset, $"Unexpected EXEC in AOF {_name}");
            return false;
        }
        return true;
    }

    /// <summary>
    /// A "&lt;prefix&gt;&lt;number&gt;\r\n" line read the way fgets + strtol read it. (Past a line's NUL,
    /// Redis's error message shows stale stack bytes; we show zeros there.)
    /// </summary>
    bool ReadNumber(byte prefix, out long value)
    {
        value = 0;
        int start = _position;
        _readStart = start;
        if (start >= _data.Length)
        {
            _eof = true;
            return false;
        }
        int newline = _data.AsSpan(start, Math.Min(NumberLineMax, _data.Length - start)).IndexOf((byte)'\n');
        int end = newline >= 0 ? start + newline + 1 : Math.Min(start + NumberLineMax, _data.Length);
        if (newline < 0 && end == _data.Length) _eof = true;
        _position = end;
        int length = end - start;
        var line = _lineBuffer;
        line.AsSpan().Clear();
        _data.AsSpan(start, length).CopyTo(line);
        line[length] = 0;
        if (line[0] != prefix)
        {
            Fail(start, $"Expected prefix '{(char)prefix}', got: '{(char)line[0]}'");
            return false;
        }
        int digitsEnd = ParseStrtol(line.AsSpan(0, length), 1, out value);
        return ConsumeNewline(line[digitsEnd], line[digitsEnd + 1], start);
    }

    /// <summary>strtol: leading spaces, a sign, decimal digits (saturating); returns where parsing stopped.</summary>
    static int ParseStrtol(ReadOnlySpan<byte> text, int from, out long value)
    {
        value = 0;
        int p = from;
        while (p < text.Length && (text[p] == (byte)' ' || (text[p] >= 9 && text[p] <= 13))) p++;
        bool negative = false;
        if (p < text.Length && (text[p] == (byte)'+' || text[p] == (byte)'-')) negative = text[p++] == (byte)'-';
        int digitsStart = p;
        decimal accumulated = 0;
        while (p < text.Length && text[p] >= (byte)'0' && text[p] <= (byte)'9')
        {
            if (accumulated <= long.MaxValue) accumulated = accumulated * 10 + (text[p] - '0');
            p++;
        }
        if (p == digitsStart) return from;
        accumulated = Math.Min(accumulated, negative ? -(decimal)long.MinValue : long.MaxValue);
        value = negative ? (long)-accumulated : (long)accumulated;
        return p;
    }

    /// <summary>Expects "\r\n"; a failure is reported at <paramref name="readStart"/>, as Redis's epos.</summary>
    bool ConsumeNewline(byte first, byte second, int readStart)
    {
        if (first != (byte)'\r' || second != (byte)'\n')
        {
            Fail(readStart, $"Expected \\r\\n, got: {first:x2}{second:x2}");
            return false;
        }
        _line++;
        return true;
    }

    void Fail(int offset, string reason)
    {
        if (_error is not null) return;
        _error = reason;
        _errorOffset = offset;
    }

    /// <summary>The report redis-check-aof prints for one file, and the exit status it would end with.</summary>
    public static (string Report, int ExitCode) Describe(string fileName, AofCheckResult result)
    {
        var text = new StringBuilder();
        // A single file is an "old-style" AOF to Redis 7.0, preamble or not.
        text.Append("Start checking Old-Style AOF\n");
        if (result.Preamble is { } preamble)
        {
            text.Append(preamble.Report);
            if (!preamble.Valid)
            {
                text.Append("RDB preamble of AOF file is not sane, aborting.\n");
                return (text.ToString(), 1);
            }
            text.Append("RDB preamble is OK, proceeding with AOF tail...\n");
        }
        if (result.IsEmpty)
        {
            text.Append($"AOF {fileName} is empty\n");
            return (text.ToString(), 0);
        }
        if (result.UnexpectedByte) text.Append($"AOF {fileName} format error\n");
        if (result.Error is not null) text.Append(result.Error).Append('\n');
        text.Append($"AOF analyzed: filename={fileName}, size={result.Size}, ok_up_to={result.ValidUpTo}, ok_up_to_line={result.Line}, diff={result.Size - result.ValidUpTo}\n");
        if (result.IsValid)
        {
            text.Append($"AOF {fileName} is valid\n");
            return (text.ToString(), 0);
        }
        return (text.ToString(), 1);
    }
}
