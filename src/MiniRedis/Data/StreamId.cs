using System.Buffers.Binary;
using System.Text;

namespace MiniRedis.Data;

/// <summary>A stream entry ID (Redis's streamID): milliseconds and a sequence, both unsigned 64-bit, ordered as a pair.</summary>
public readonly record struct StreamId(ulong Ms, ulong Seq) : IComparable<StreamId>
{
    public static readonly StreamId Zero = new(0, 0);
    public static readonly StreamId Max = new(ulong.MaxValue, ulong.MaxValue);

    public bool IsZero => Ms == 0 && Seq == 0;

    public int CompareTo(StreamId other) => Ms != other.Ms ? Ms.CompareTo(other.Ms) : Seq.CompareTo(other.Seq);

    public static bool operator <(StreamId a, StreamId b) => a.CompareTo(b) < 0;
    public static bool operator >(StreamId a, StreamId b) => a.CompareTo(b) > 0;
    public static bool operator <=(StreamId a, StreamId b) => a.CompareTo(b) <= 0;
    public static bool operator >=(StreamId a, StreamId b) => a.CompareTo(b) >= 0;

    /// <summary>Redis's streamIncrID: the next ID, false past the last possible one.</summary>
    public bool TryIncrement(out StreamId next)
    {
        if (Seq != ulong.MaxValue) next = new(Ms, Seq + 1);
        else if (Ms != ulong.MaxValue) next = new(Ms + 1, 0);
        else
        {
            next = Zero;
            return false;
        }
        return true;
    }

    /// <summary>Redis's streamDecrID: the previous ID, false before 0-0.</summary>
    public bool TryDecrement(out StreamId previous)
    {
        if (Seq != 0) previous = new(Ms, Seq - 1);
        else if (Ms != 0) previous = new(Ms - 1, ulong.MaxValue);
        else
        {
            previous = Max;
            return false;
        }
        return true;
    }

    /// <summary>"ms-seq" into <paramref name="dest"/> (at least 41 bytes); returns the length.</summary>
    public int Format(Span<byte> dest)
    {
        Ms.TryFormat(dest, out int n);
        dest[n++] = (byte)'-';
        Seq.TryFormat(dest[n..], out int m);
        return n + m;
    }

    public const int MaxFormattedLength = 41;

    public byte[] ToBytes()
    {
        Span<byte> buffer = stackalloc byte[MaxFormattedLength];
        return buffer[..Format(buffer)].ToArray();
    }

    public override string ToString() => $"{Ms}-{Seq}";

    /// <summary>The 16-byte big-endian form Redis uses as rax keys and in RDB payloads.</summary>
    public void WriteBigEndian(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt64BigEndian(dest, Ms);
        BinaryPrimitives.WriteUInt64BigEndian(dest[8..], Seq);
    }

    public static StreamId ReadBigEndian(ReadOnlySpan<byte> source)
        => new(BinaryPrimitives.ReadUInt64BigEndian(source), BinaryPrimitives.ReadUInt64BigEndian(source[8..]));

    /// <summary>
    /// Redis's streamGenericParseIDOrReply without the special forms: "ms" or "ms-seq" (a missing
    /// sequence is <paramref name="missingSeq"/>), and with <paramref name="allowAutoSeq"/> "ms-*"
    /// (<paramref name="seqGiven"/> false). The argument is read as the C string Redis copies: up to
    /// its first NUL, at most 127 bytes.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, ulong missingSeq, bool allowAutoSeq, out StreamId id, out bool seqGiven)
    {
        id = Zero;
        seqGiven = true;
        if (text.Length > 127) return false;
        int nul = text.IndexOf((byte)0);
        if (nul >= 0) text = text[..nul];
        int dash = text.IndexOf((byte)'-');
        var msText = dash < 0 ? text : text[..dash];
        if (!TryParseUnsigned(msText, out ulong ms)) return false;
        ulong seq = missingSeq;
        if (dash >= 0)
        {
            var seqText = text[(dash + 1)..];
            if (allowAutoSeq && seqText.Length == 1 && seqText[0] == '*')
            {
                seq = 0;
                seqGiven = false;
            }
            else if (!TryParseUnsigned(seqText, out seq)) return false;
        }
        id = new(ms, seq);
        return true;
    }

    /// <summary>
    /// Redis's string2ull: a strict long long that is not negative, else what strtoull accepts (leading
    /// spaces, a sign, up to 2^64-1; a '-' wraps around as in C).
    /// </summary>
    static bool TryParseUnsigned(ReadOnlySpan<byte> text, out ulong value)
    {
        // Digits only, at most 19 (below 2^63): both of Redis's parsers read the same number, leading zeros
        // included (XACK's IDs from redis-benchmark are zero-padded, which string2ll refuses and strtoull reads).
        if (text.Length is > 0 and <= 19)
        {
            ulong digitsOnly = 0;
            int at = 0;
            for (; at < text.Length; at++)
            {
                uint digit = (uint)(text[at] - '0');
                if (digit > 9) break;
                digitsOnly = digitsOnly * 10 + digit;
            }
            if (at == text.Length)
            {
                value = digitsOnly;
                return true;
            }
        }
        value = 0;
        if (RedisNumbers.TryParseInt64(text, out long strict))
        {
            if (strict < 0) return false;
            value = (ulong)strict;
            return true;
        }
        int i = 0;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') i++;
        bool negative = false;
        if (i < text.Length && text[i] is (byte)'+' or (byte)'-') negative = text[i++] == '-';
        int digits = i;
        ulong result = 0;
        for (; i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9'; i++)
        {
            ulong digit = (ulong)(text[i] - '0');
            if (result > (ulong.MaxValue - digit) / 10) return false;
            result = result * 10 + digit;
        }
        if (i == digits || i != text.Length || text.Length == 0) return false;
        value = negative ? unchecked(0 - result) : result;
        return true;
    }

    public static StreamId Parse(string text) => TryParse(Encoding.ASCII.GetBytes(text), 0, false, out var id, out _) ? id : throw new FormatException(text);
}
