using System.Globalization;
using System.Numerics;

namespace MiniRedis.Data;

/// <summary>
/// Byte-level integer and double conversions with the exact acceptance rules and output format of Redis 7.0
/// (string2ll, ll2string, string2d and the RESP2 double reply).
/// </summary>
public static class RedisNumbers
{
    /// <summary>Longest string2ll accepts: "-9223372036854775808" is 20 bytes.</summary>
    public const int MaxInt64Length = 20;

    /// <summary>Room needed by <see cref="FormatDouble"/> for any value ("-2.2250738585072014e-308" is 24 bytes).</summary>
    public const int MaxDoubleLength = 32;

    /// <summary>C isspace() in the C locale: the blanks strtol and sdssplitargs skip.</summary>
    public static bool IsCSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private const int DoublePrecision = 53;
    private const int DoubleMinExponent = -1074;
    private const int DoubleMaxExponent = 971;

    /// <summary>
    /// C's atoi as glibc has it, (int)strtol(s, NULL, 10): leading whitespace, a sign, then digits up
    /// to the first other byte; a long that overflows saturates and is then cut to 32 bits. Redis
    /// reads some counts this way (genericGetKeys's numkeys), so "2abc" is 2 and "abc" is 0.
    /// </summary>
    public static int CAtoi(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && IsCSpace(s[i])) i++;
        bool negative = i < s.Length && s[i] == '-';
        if (i < s.Length && s[i] is (byte)'-' or (byte)'+') i++;
        long value = 0;
        for (; i < s.Length && char.IsAsciiDigit((char)s[i]); i++)
        {
            int digit = s[i] - '0';
            if (value > (long.MaxValue - digit) / 10)
            {
                value = negative ? long.MinValue : long.MaxValue;
                return (int)value;
            }
            value = value * 10 + digit;
        }
        return (int)(negative ? -value : value);
    }

    public static bool TryParseInt64(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.IsEmpty || s.Length > MaxInt64Length)
        {
            return false;
        }

        if (s.Length == 1 && s[0] == (byte)'0')
        {
            return true;
        }

        var negative = s[0] == (byte)'-';
        var digits = negative ? s[1..] : s;
        // A leading zero is only valid as the whole string "0", which also makes "-0" invalid.
        if (digits.IsEmpty || digits[0] < (byte)'1' || digits[0] > (byte)'9')
        {
            return false;
        }

        ulong magnitude = 0;
        foreach (var b in digits)
        {
            var digit = (uint)(b - (byte)'0');
            if (digit > 9 || magnitude > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }

            magnitude = magnitude * 10 + digit;
        }

        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = (long)(0 - magnitude);
        }
        else
        {
            if (magnitude > long.MaxValue)
            {
                return false;
            }

            value = (long)magnitude;
        }

        return true;
    }

    public static int Int64Length(long value)
    {
        var magnitude = value < 0 ? (ulong)(-(value + 1)) + 1 : (ulong)value;
        var length = value < 0 ? 1 : 0;
        do
        {
            length++;
            magnitude /= 10;
        }
        while (magnitude != 0);
        return length;
    }

    /// <summary>Writes the decimal form of <paramref name="value"/>; <paramref name="dest"/> must hold <see cref="Int64Length"/> bytes.</summary>
    public static int FormatInt64(long value, Span<byte> dest)
    {
        var length = Int64Length(value);
        if (dest.Length < length)
        {
            throw new ArgumentException("Destination too small.", nameof(dest));
        }

        var magnitude = value < 0 ? (ulong)(-(value + 1)) + 1 : (ulong)value;
        var position = length;
        do
        {
            dest[--position] = (byte)('0' + (int)(magnitude % 10));
            magnitude /= 10;
        }
        while (magnitude != 0);
        if (value < 0)
        {
            dest[0] = (byte)'-';
        }

        return length;
    }

    /// <summary>
    /// Parses like Redis 7.0 string2d: the whole input must be one strtod number (decimal, hexadecimal, "inf" or
    /// "infinity" in any case, optional sign); leading space, NaN, overflow to infinity and underflow to zero are rejected.
    /// </summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> s, out double value)
    {
        if (TryParseShortDecimal(s, out value)) return true;
        value = 0;
        if (!FloatSyntax.TryScan(s, out var number))
        {
            return false;
        }

        switch (number.Kind)
        {
            case FloatSyntaxKind.Infinity:
                value = number.Negative ? double.NegativeInfinity : double.PositiveInfinity;
                return true;
            case FloatSyntaxKind.Hexadecimal:
                return TryConvertHex(s, number, out value);
            case FloatSyntaxKind.Decimal:
                // .NET parsing is correctly rounded like glibc; the syntax was already checked to be strtod's.
                double.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                    CultureInfo.InvariantCulture, out value);
                return !double.IsInfinity(value) && (value != 0 || !number.HasNonZeroDigit);
            default:
                return false;
        }
    }

    /// <summary>Powers of ten a double holds exactly.</summary>
    private static ReadOnlySpan<double> ExactPowersOfTen =>
        [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>
    /// Clinger's fast path for the common decimal (GEOADD's coordinates, ZADD's scores): [sign] digits [. digits]
    /// [e [sign] digits] whose digits make an integer below 2^53 and whose power of ten is exact (at most 22
    /// either way): one IEEE multiplication or division of two exact doubles is then the correctly rounded
    /// value strtod gives. False (nothing decided) for anything else, which takes the general path.
    /// </summary>
    private static bool TryParseShortDecimal(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        int i = 0;
        bool negative = false;
        if (i < s.Length && (s[i] == (byte)'-' || s[i] == (byte)'+')) negative = s[i++] == (byte)'-';
        ulong mantissa = 0;
        int significant = 0, exponent = 0, seen = 0;
        bool point = false;
        for (; i < s.Length; i++)
        {
            uint digit = (uint)(s[i] - '0');
            if (digit <= 9)
            {
                seen++;
                if (point) exponent--;
                // Leading zeros add no precision.
                if (mantissa == 0 && digit == 0) continue;
                if (++significant > 15) return false;
                mantissa = mantissa * 10 + digit;
            }
            else if (s[i] == (byte)'.' && !point) point = true;
            else break;
        }
        if (seen == 0) return false;
        if (i < s.Length)
        {
            if ((s[i] | 0x20) != (byte)'e') return false;
            i++;
            bool negativeExponent = false;
            if (i < s.Length && (s[i] == (byte)'-' || s[i] == (byte)'+')) negativeExponent = s[i++] == (byte)'-';
            int start = i, written = 0;
            for (; i < s.Length && (uint)(s[i] - '0') <= 9; i++)
            {
                if (i - start == 3) return false;
                written = written * 10 + (s[i] - '0');
            }
            if (i == start || i != s.Length) return false;
            exponent += negativeExponent ? -written : written;
        }
        if (exponent < -22 || exponent > 22) return false;
        double magnitude = exponent >= 0 ? mantissa * ExactPowersOfTen[exponent] : mantissa / ExactPowersOfTen[-exponent];
        value = negative ? -magnitude : magnitude;
        return true;
    }

    private static bool TryConvertHex(ReadOnlySpan<byte> s, in FloatSyntax number, out double value)
    {
        value = 0;
        number.ReadHexMantissa(s, out var mantissa, out var exponent, out var sticky);
        if (mantissa == 0)
        {
            value = number.Negative ? -0.0 : 0.0;
            return true;
        }

        if (!LongDouble.TryRoundBinary(mantissa, exponent, sticky, DoublePrecision, DoubleMinExponent, DoubleMaxExponent,
                out var rounded, out var roundedExponent) || rounded == 0)
        {
            return false;
        }

        var bits = rounded >= 1UL << (DoublePrecision - 1)
            ? ((ulong)(roundedExponent + 1075) << 52) | (rounded & ((1UL << 52) - 1))
            : rounded;
        value = BitConverter.UInt64BitsToDouble(bits | (number.Negative ? 1UL << 63 : 0));
        return true;
    }

    /// <summary>
    /// Writes the RESP2 text Redis 7.0 replies for a double: "inf"/"-inf", otherwise C's printf("%.17g").
    /// <paramref name="dest"/> needs <see cref="MaxDoubleLength"/> bytes.
    /// </summary>
    public static int FormatDouble(double value, Span<byte> dest)
    {
        if (TryFormatExactDouble(value, dest, out int exactLength))
        {
            return exactLength;
        }

        return FormatDoubleRounded(value, dest);
    }

    /// <summary>
    /// Five to the powers whose products with a 53-bit mantissa <see cref="TryFormatExactDouble"/> may need
    /// (5^k × mantissa below 10^17 needs k ≤ 24).
    /// </summary>
    static readonly ulong[] PowersOfFive = CreatePowersOfFive(24);

    static ulong[] CreatePowersOfFive(int count)
    {
        var powers = new ulong[count + 1];
        powers[0] = 1;
        for (int k = 1; k <= count; k++) powers[k] = powers[k - 1] * 5;
        return powers;
    }

    /// <summary>
    /// printf("%.17g") without rounding, for the values whose exact decimal expansion has at most 17
    /// significant digits and whose magnitude printf writes without an exponent ([1e-4, 1e17)), and zero:
    /// integers and fractions over a small power of two (1.5, 0.25, 1234.0625), most scores there are.
    /// A double is m × 2^-k, which is m × 5^k × 10^-k exactly: those digits, the point k from the right
    /// (m is odd when k &gt; 0, so there is no trailing zero to strip). The rounding path's "E16"
    /// formatting costs about ten times as much (a 1M-key RDB load sized each compact sorted set's
    /// elements with it: 3% of the load).
    /// </summary>
    internal static bool TryFormatExactDouble(double value, Span<byte> dest, out int length)
    {
        length = 0;
        if (value == 0)
        {
            length = Copy(double.IsNegative(value) ? "-0"u8 : "0"u8, dest);
            return true;
        }

        double magnitude = Math.Abs(value);
        if (!(magnitude >= 1e-4 && magnitude < 1e17))
        {
            return false;
        }

        ulong bits = BitConverter.DoubleToUInt64Bits(magnitude);
        ulong mantissa = (bits & ((1UL << 52) - 1)) | (1UL << 52);
        int exponent = (int)(bits >> 52) - 1075;
        int zeros = BitOperations.TrailingZeroCount(mantissa);
        mantissa >>= zeros;
        exponent += zeros;
        int fractionDigits = exponent >= 0 ? 0 : -exponent;
        if (fractionDigits >= PowersOfFive.Length)
        {
            return false;
        }

        ulong digits;
        if (exponent >= 0)
        {
            digits = mantissa << exponent;
        }
        else
        {
            ulong high = Math.BigMul(mantissa, PowersOfFive[fractionDigits], out digits);
            if (high != 0 || digits >= 100_000_000_000_000_000UL)
            {
                return false;
            }
        }

        if (value < 0)
        {
            dest[length++] = (byte)'-';
        }

        Span<byte> text = stackalloc byte[MaxInt64Length];
        int count = FormatInt64((long)digits, text);
        if (fractionDigits == 0)
        {
            text[..count].CopyTo(dest[length..]);
            length += count;
            return true;
        }

        if (count > fractionDigits)
        {
            text[..(count - fractionDigits)].CopyTo(dest[length..]);
            length += count - fractionDigits;
        }
        else
        {
            dest[length++] = (byte)'0';
        }

        dest[length++] = (byte)'.';
        for (int i = count; i < fractionDigits; i++)
        {
            dest[length++] = (byte)'0';
        }

        var fraction = text[Math.Max(0, count - fractionDigits)..count];
        fraction.CopyTo(dest[length..]);
        length += fraction.Length;
        return true;
    }

    /// <summary>printf("%.17g") by way of .NET's 17 correctly rounded digits; "nan"/"inf" as Redis writes them.</summary>
    internal static int FormatDoubleRounded(double value, Span<byte> dest)
    {
        if (double.IsNaN(value))
        {
            return Copy(BitConverter.DoubleToInt64Bits(value) < 0 ? "-nan"u8 : "nan"u8, dest);
        }

        if (double.IsInfinity(value))
        {
            return Copy(value > 0 ? "inf"u8 : "-inf"u8, dest);
        }

        // "E16" yields exactly the 17 correctly rounded (half-even) significant digits that %.17g starts from.
        Span<byte> scientific = stackalloc byte[MaxDoubleLength];
        value.TryFormat(scientific, out var scientificLength, "E16", CultureInfo.InvariantCulture);
        scientific = scientific[..scientificLength];

        var negative = scientific[0] == (byte)'-';
        var digitsStart = negative ? 1 : 0;
        Span<byte> digits = stackalloc byte[17];
        digits[0] = scientific[digitsStart];
        scientific.Slice(digitsStart + 2, 16).CopyTo(digits[1..]);
        var exponentText = scientific[(digitsStart + 19)..];
        var exponent = int.Parse(exponentText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

        var significant = 17;
        while (significant > 1 && digits[significant - 1] == (byte)'0')
        {
            significant--;
        }

        var length = 0;
        if (negative)
        {
            dest[length++] = (byte)'-';
        }

        if (exponent < -4 || exponent >= 17)
        {
            dest[length++] = digits[0];
            if (significant > 1)
            {
                dest[length++] = (byte)'.';
                digits[1..significant].CopyTo(dest[length..]);
                length += significant - 1;
            }

            dest[length++] = (byte)'e';
            dest[length++] = exponent < 0 ? (byte)'-' : (byte)'+';
            var magnitude = Math.Abs(exponent);
            if (magnitude < 10)
            {
                dest[length++] = (byte)'0';
            }

            length += FormatInt64(magnitude, dest[length..]);
            return length;
        }

        if (exponent < 0)
        {
            dest[length++] = (byte)'0';
            dest[length++] = (byte)'.';
            dest.Slice(length, -exponent - 1).Fill((byte)'0');
            length += -exponent - 1;
            digits[..significant].CopyTo(dest[length..]);
            return length + significant;
        }

        var integerDigits = exponent + 1;
        if (significant <= integerDigits)
        {
            digits[..significant].CopyTo(dest[length..]);
            length += significant;
            dest.Slice(length, integerDigits - significant).Fill((byte)'0');
            return length + integerDigits - significant;
        }

        digits[..integerDigits].CopyTo(dest[length..]);
        length += integerDigits;
        dest[length++] = (byte)'.';
        digits[integerDigits..significant].CopyTo(dest[length..]);
        return length + significant - integerDigits;
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> dest)
    {
        text.CopyTo(dest);
        return text.Length;
    }
}

internal enum FloatSyntaxKind
{
    Decimal,
    Hexadecimal,
    Infinity,
    NaN,
}

/// <summary>The shape of one complete C strtod/strtold number, found without converting it.</summary>
internal readonly struct FloatSyntax
{
    /// <summary>Exponents beyond this cannot change an overflow/underflow verdict, so larger ones are clamped.</summary>
    private const int ExponentClamp = 100_000_000;

    public FloatSyntaxKind Kind { get; init; }

    public bool Negative { get; init; }

    /// <summary>Index of the first mantissa digit (after any sign and "0x").</summary>
    public int MantissaStart { get; init; }

    /// <summary>Index just past the mantissa (digits and at most one '.').</summary>
    public int MantissaEnd { get; init; }

    /// <summary>Value of the 'e'/'p' exponent, clamped to ±<see cref="ExponentClamp"/>.</summary>
    public int Exponent { get; init; }

    public bool HasNonZeroDigit { get; init; }

    /// <summary>Succeeds only when all of <paramref name="s"/> is a single strtod number (so no surrounding spaces).</summary>
    public static bool TryScan(ReadOnlySpan<byte> s, out FloatSyntax syntax)
    {
        syntax = default;
        var position = 0;
        var negative = false;
        if (position < s.Length && (s[position] == (byte)'+' || s[position] == (byte)'-'))
        {
            negative = s[position] == (byte)'-';
            position++;
        }

        var rest = s[position..];
        if (AsciiEqualsIgnoreCase(rest, "inf"u8) || AsciiEqualsIgnoreCase(rest, "infinity"u8))
        {
            syntax = new FloatSyntax { Kind = FloatSyntaxKind.Infinity, Negative = negative };
            return true;
        }

        if (rest.Length >= 3 && AsciiEqualsIgnoreCase(rest[..3], "nan"u8))
        {
            syntax = new FloatSyntax { Kind = FloatSyntaxKind.NaN, Negative = negative };
            return false;
        }

        var hex = rest.Length > 2 && rest[0] == (byte)'0' && (rest[1] | 0x20) == (byte)'x' && IsMantissaStart(rest[2..], hex: true);
        if (hex)
        {
            position += 2;
        }

        var mantissaStart = position;
        var digitCount = 0;
        var nonZero = false;
        var seenPoint = false;
        for (; position < s.Length; position++)
        {
            var b = s[position];
            if (b == (byte)'.' && !seenPoint)
            {
                seenPoint = true;
            }
            else if (hex ? IsHexDigit(b) : IsDigit(b))
            {
                digitCount++;
                nonZero |= b != (byte)'0';
            }
            else
            {
                break;
            }
        }

        if (digitCount == 0)
        {
            return false;
        }

        var mantissaEnd = position;
        var exponent = 0;
        if (position < s.Length)
        {
            if ((s[position] | 0x20) != (hex ? (byte)'p' : (byte)'e') || !TryScanExponent(s[(position + 1)..], out exponent))
            {
                return false;
            }
        }

        syntax = new FloatSyntax
        {
            Kind = hex ? FloatSyntaxKind.Hexadecimal : FloatSyntaxKind.Decimal,
            Negative = negative,
            MantissaStart = mantissaStart,
            MantissaEnd = mantissaEnd,
            Exponent = exponent,
            HasNonZeroDigit = nonZero,
        };
        return true;
    }

    /// <summary>
    /// Reads a hexadecimal mantissa as value = (<paramref name="mantissa"/> + a fraction that is non-zero iff
    /// <paramref name="sticky"/>) * 2^<paramref name="exponent"/>, keeping at least 121 significant bits.
    /// </summary>
    public void ReadHexMantissa(ReadOnlySpan<byte> s, out UInt128 mantissa, out int exponent, out bool sticky)
    {
        mantissa = 0;
        sticky = false;
        var droppedBits = 0L;
        var seenPoint = false;
        foreach (var b in s[MantissaStart..MantissaEnd])
        {
            if (b == (byte)'.')
            {
                seenPoint = true;
                continue;
            }

            var digit = HexValue(b);
            if (mantissa >> 124 == 0)
            {
                mantissa = (mantissa << 4) | (uint)digit;
                if (seenPoint)
                {
                    droppedBits -= 4;
                }
            }
            else
            {
                sticky |= digit != 0;
                if (!seenPoint)
                {
                    droppedBits += 4;
                }
            }
        }

        exponent = (int)Math.Clamp(Exponent + droppedBits, -2L * ExponentClamp, 2L * ExponentClamp);
    }

    /// <summary>Reads the decimal mantissa as value = digits * 10^<paramref name="exponent"/>, with zeros on both ends trimmed.</summary>
    public void GetDecimalDigits(ReadOnlySpan<byte> s, out int firstDigit, out int lastDigit, out int digitCount, out long exponent)
    {
        var mantissa = s[MantissaStart..MantissaEnd];
        var point = mantissa.IndexOf((byte)'.');
        var firstNonZero = mantissa.IndexOfAnyExcept((byte)'0', (byte)'.');
        var lastNonZero = mantissa.LastIndexOfAnyExcept((byte)'0', (byte)'.');
        firstDigit = MantissaStart + firstNonZero;
        lastDigit = MantissaStart + lastNonZero;
        digitCount = lastNonZero - firstNonZero + 1;
        if (point >= 0 && point > firstNonZero && point < lastNonZero)
        {
            digitCount--;
        }

        // Weight of the last significant digit: count places between it and the point.
        var pointIndex = point >= 0 ? point : mantissa.Length;
        var lastDigitPower = lastNonZero < pointIndex ? pointIndex - lastNonZero - 1 : -(lastNonZero - pointIndex);
        exponent = Exponent + (long)lastDigitPower;
    }

    private static bool TryScanExponent(ReadOnlySpan<byte> s, out int exponent)
    {
        exponent = 0;
        var negative = false;
        if (!s.IsEmpty && (s[0] == (byte)'+' || s[0] == (byte)'-'))
        {
            negative = s[0] == (byte)'-';
            s = s[1..];
        }

        if (s.IsEmpty)
        {
            return false;
        }

        var magnitude = 0;
        foreach (var b in s)
        {
            if (!IsDigit(b))
            {
                return false;
            }

            magnitude = Math.Min(magnitude * 10 + (b - '0'), ExponentClamp);
        }

        exponent = negative ? -magnitude : magnitude;
        return true;
    }

    private static bool IsMantissaStart(ReadOnlySpan<byte> s, bool hex)
    {
        var first = s[0] == (byte)'.' && s.Length > 1 ? s[1] : s[0];
        return hex ? IsHexDigit(first) : IsDigit(first);
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsHexDigit(byte b) => IsDigit(b) || (uint)((b | 0x20) - 'a') <= 5;

    private static int HexValue(byte b) => IsDigit(b) ? b - '0' : (b | 0x20) - 'a' + 10;

    private static bool AsciiEqualsIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> lowerCase)
    {
        if (s.Length != lowerCase.Length)
        {
            return false;
        }

        for (var i = 0; i < s.Length; i++)
        {
            if ((s[i] | 0x20) != lowerCase[i])
            {
                return false;
            }
        }

        return true;
    }
}
