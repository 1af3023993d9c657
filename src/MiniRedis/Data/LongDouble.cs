using System.Globalization;
using System.Numerics;

namespace MiniRedis.Data;

/// <summary>
/// Software x87 80-bit extended precision (64-bit significand, round-half-even), so INCRBYFLOAT produces the
/// same digits as Redis built with GCC on x86-64, where C <c>long double</c> is this format.
/// </summary>
public readonly struct LongDouble : IEquatable<LongDouble>
{
    /// <summary>Redis's MAX_LONG_DOUBLE_CHARS: string2ld rejects inputs this long and ld2string never writes more.</summary>
    public const int MaxStringLength = 5 * 1024;

    private const int Precision = 64;
    private const int MinExponent = -16445; // smallest subnormal is 2^-16445
    private const int MaxExponent = 16320; // largest finite is (2^64 - 1) * 2^16320
    private const int HumanFractionDigits = 17;
    private const ulong TenPow17 = 100_000_000_000_000_000;

    private enum Category : byte
    {
        Finite,
        Infinity,
        NaN,
    }

    // Finite value = (-1)^negative * mantissa * 2^exponent; mantissa has bit 63 set unless exponent == MinExponent
    // (subnormal); zero has mantissa and exponent 0.
    private readonly ulong _mantissa;
    private readonly int _exponent;
    private readonly bool _negative;
    private readonly Category _category;

    private LongDouble(bool negative, ulong mantissa, int exponent, Category category = Category.Finite)
    {
        _negative = negative;
        _mantissa = mantissa;
        _exponent = mantissa == 0 ? 0 : exponent;
        _category = category;
    }

    public static LongDouble Zero => new(false, 0, 0);

    public static LongDouble PositiveInfinity => new(false, 0, 0, Category.Infinity);

    public static LongDouble NegativeInfinity => new(true, 0, 0, Category.Infinity);

    public static LongDouble NaN => new(false, 0, 0, Category.NaN);

    public bool IsNaN => _category == Category.NaN;

    public bool IsInfinity => _category == Category.Infinity;

    /// <summary>Exact, as C widens a double to long double (every double fits the 64-bit significand).</summary>
    public static LongDouble FromDouble(double value)
    {
        if (double.IsNaN(value)) return NaN;
        if (double.IsInfinity(value)) return value < 0 ? NegativeInfinity : PositiveInfinity;
        long bits = BitConverter.DoubleToInt64Bits(value);
        int biased = (int)((bits >> 52) & 0x7FF);
        ulong fraction = (ulong)bits & ((1UL << 52) - 1);
        return biased == 0
            ? FromRounded(bits < 0, fraction, -1074, false, out _)
            : FromRounded(bits < 0, fraction | 1UL << 52, biased - 1075, false, out _);
    }

    /// <summary>Exact, as Redis converts an integer-encoded string: every 64-bit integer fits the significand.</summary>
    public static LongDouble FromInt64(long value)
    {
        var magnitude = value < 0 ? (ulong)(-(value + 1)) + 1 : (ulong)value;
        return FromRounded(value < 0, magnitude, 0, false, out _);
    }

    /// <summary>
    /// Parses like Redis 7.0 string2ld: C strtold over all the bytes (an embedded NUL is an error),
    /// so decimal, hexadecimal ("0x1.8p3") and "inf"/"infinity" are accepted, while leading space, NaN, overflow to
    /// infinity, underflow to zero, empty input and inputs of <see cref="MaxStringLength"/> bytes or more are rejected.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out LongDouble value)
    {
        value = default;
        if (s.IsEmpty || s.Length >= MaxStringLength)
        {
            return false;
        }

        // Redis 7.0.15 requires strtold to consume every byte, so an embedded NUL (where its C copy would stop) is an error.
        if (s.Contains((byte)0))
        {
            return false;
        }

        if (!FloatSyntax.TryScan(s, out var number))
        {
            return false;
        }

        switch (number.Kind)
        {
            case FloatSyntaxKind.Infinity:
                value = number.Negative ? NegativeInfinity : PositiveInfinity;
                return true;
            case FloatSyntaxKind.Hexadecimal when !number.HasNonZeroDigit:
                value = new LongDouble(number.Negative, 0, 0);
                return true;
            case FloatSyntaxKind.Hexadecimal:
                number.ReadHexMantissa(s, out var hexMantissa, out var hexExponent, out var hexSticky);
                return TryFromExact(number.Negative, hexMantissa, hexExponent, hexSticky, out value);
            case FloatSyntaxKind.Decimal:
                return TryParseDecimal(s, number, out value);
            default:
                return false;
        }
    }

    private static bool TryParseDecimal(ReadOnlySpan<byte> s, in FloatSyntax number, out LongDouble value)
    {
        value = new LongDouble(number.Negative, 0, 0);
        if (!number.HasNonZeroDigit)
        {
            return true;
        }

        number.GetDecimalDigits(s, out var first, out var last, out var digitCount, out var power);
        var leadingPower = power + digitCount - 1;
        // Largest finite is about 1.19e4932; half the smallest subnormal is about 1.8e-4951 and rounds to zero.
        if (leadingPower > 4932 || leadingPower < -4952)
        {
            return false;
        }

        var digits = s[first..(last + 1)];
        if (digitCount <= 19 && Math.Abs(power) <= 27)
        {
            // 10^k = 5^k * 2^k and 5^27 < 2^63, so the exact value needs only 128-bit arithmetic.
            var integer = AccumulateDigits(digits);
            var fivePower = (UInt128)FivePow((int)Math.Abs(power));
            if (power >= 0)
            {
                return TryFromExact(number.Negative, integer * fivePower, (int)power, false, out value);
            }

            var shift = (int)UInt128.LeadingZeroCount(integer);
            var scaled = integer << shift;
            var quotient = scaled / fivePower;
            var sticky = scaled % fivePower != 0;
            return TryFromExact(number.Negative, quotient, (int)power - shift, sticky, out value);
        }

        var numerator = BigDigits(digits);
        var denominator = BigInteger.One;
        if (power >= 0)
        {
            numerator *= BigInteger.Pow(10, (int)power);
        }
        else
        {
            denominator = BigInteger.Pow(10, (int)-power);
        }

        // Scale so the quotient has about 120 bits: 64 significand bits plus ample guard bits; the rest is sticky.
        var scale = (int)(denominator.GetBitLength() - numerator.GetBitLength()) + 120;
        if (scale >= 0)
        {
            numerator <<= scale;
        }
        else
        {
            denominator <<= -scale;
        }

        var bigQuotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        return TryFromExact(number.Negative, (UInt128)bigQuotient, -scale, !remainder.IsZero, out value);
    }

    private static UInt128 AccumulateDigits(ReadOnlySpan<byte> digits)
    {
        ulong integer = 0;
        foreach (var b in digits)
        {
            if (b != (byte)'.')
            {
                integer = integer * 10 + (ulong)(b - '0');
            }
        }

        return integer;
    }

    private static BigInteger BigDigits(ReadOnlySpan<byte> digits)
    {
        var result = BigInteger.Zero;
        ulong chunk = 0;
        ulong chunkScale = 1;
        foreach (var b in digits)
        {
            if (b == (byte)'.')
            {
                continue;
            }

            chunk = chunk * 10 + (ulong)(b - '0');
            chunkScale *= 10;
            if (chunkScale == 10_000_000_000_000_000_000)
            {
                result = result * chunkScale + chunk;
                chunk = 0;
                chunkScale = 1;
            }
        }

        return result * chunkScale + chunk;
    }

    private static ulong FivePow(int exponent)
    {
        ulong result = 1;
        for (var i = 0; i < exponent; i++)
        {
            result *= 5;
        }

        return result;
    }

    private static bool TryFromExact(bool negative, UInt128 mantissa, int exponent, bool sticky, out LongDouble value)
    {
        value = FromRounded(negative, mantissa, exponent, sticky, out var overflow);
        // strtold reports ERANGE for overflow and for underflow to zero; string2ld rejects both.
        return !overflow && value._mantissa != 0;
    }

    private static LongDouble FromRounded(bool negative, UInt128 mantissa, int exponent, bool sticky, out bool overflow)
    {
        overflow = !TryRoundBinary(mantissa, exponent, sticky, Precision, MinExponent, MaxExponent, out var rounded, out var roundedExponent);
        return overflow
            ? new LongDouble(negative, 0, 0, Category.Infinity)
            : new LongDouble(negative, rounded, roundedExponent);
    }

    /// <summary>
    /// Rounds (<paramref name="mantissa"/> + a fraction that is non-zero iff <paramref name="sticky"/>) * 2^<paramref name="exponent"/>
    /// half-to-even to <paramref name="precision"/> bits, with gradual underflow at <paramref name="minExponent"/>.
    /// Returns false when the result exceeds <paramref name="maxExponent"/> (overflow to infinity).
    /// </summary>
    internal static bool TryRoundBinary(UInt128 mantissa, int exponent, bool sticky, int precision, int minExponent, int maxExponent,
        out ulong rounded, out int roundedExponent)
    {
        rounded = 0;
        roundedExponent = minExponent;
        if (mantissa == 0)
        {
            return true;
        }

        var bitLength = 128 - (int)UInt128.LeadingZeroCount(mantissa);
        var targetExponent = Math.Max((long)exponent + bitLength - precision, minExponent);
        var shift = targetExponent - exponent;
        UInt128 result;
        if (shift <= 0)
        {
            result = mantissa << (int)-shift;
        }
        else if (shift > 128)
        {
            result = 0;
        }
        else
        {
            result = shift == 128 ? 0 : mantissa >> (int)shift;
            var dropped = shift == 128 ? mantissa : mantissa & ((UInt128.One << (int)shift) - 1);
            var half = UInt128.One << (int)(shift - 1);
            if (dropped > half || (dropped == half && (sticky || (result & 1) != 0)))
            {
                result++;
                if (result >> precision != 0)
                {
                    result >>= 1;
                    targetExponent++;
                }
            }
        }

        if (result == 0)
        {
            return true;
        }

        if (targetExponent > maxExponent)
        {
            return false;
        }

        rounded = (ulong)result;
        roundedExponent = (int)targetExponent;
        return true;
    }

    /// <summary>The x87 sum of <paramref name="left"/> and <paramref name="right"/>, rounded once, half-to-even.</summary>
    public static LongDouble Add(LongDouble left, LongDouble right)
    {
        if (left.IsNaN || right.IsNaN)
        {
            return NaN;
        }

        if (left.IsInfinity || right.IsInfinity)
        {
            if (left.IsInfinity && right.IsInfinity && left._negative != right._negative)
            {
                return NaN;
            }

            return left.IsInfinity ? left : right;
        }

        if (right._mantissa == 0)
        {
            // -0 + -0 is -0; every other signed-zero combination is +0.
            return left._mantissa != 0 ? left : new LongDouble(left._negative && right._negative, 0, 0);
        }

        if (left._mantissa == 0)
        {
            return right;
        }

        // Order by magnitude; (exponent, mantissa) order matches magnitude because normals are normalised.
        var (large, small) = (left._exponent, left._mantissa).CompareTo((right._exponent, right._mantissa)) >= 0
            ? (left, right)
            : (right, left);

        // 63 guard bits keep the aligned sum below 2^128 and exact unless the operands are more than 63 bits apart.
        const int GuardBits = 63;
        var largeBits = (UInt128)large._mantissa << GuardBits;
        var smallBits = (UInt128)small._mantissa << GuardBits;
        var distance = large._exponent - small._exponent;
        var sticky = false;
        if (distance >= 128)
        {
            sticky = true;
            smallBits = 0;
        }
        else if (distance > 0)
        {
            sticky = (smallBits & ((UInt128.One << distance) - 1)) != 0;
            smallBits >>= distance;
        }

        UInt128 sum;
        if (large._negative == small._negative)
        {
            sum = largeBits + smallBits;
        }
        else
        {
            sum = largeBits - smallBits;
            if (sticky)
            {
                // The true difference is slightly below sum, so borrow one unit and keep the fraction sticky.
                sum--;
            }

            if (sum == 0 && !sticky)
            {
                return Zero;
            }
        }

        return FromRounded(large._negative, sum, large._exponent - GuardBits, sticky, out _);
    }

    /// <summary>
    /// Writes what Redis 7.0 ld2string(LD_STR_HUMAN) does: printf("%.17Lf") (exactly rounded, half-to-even), trailing
    /// zeros and a trailing '.' removed, "-0" written as "0", infinities as "inf"/"-inf". NaN is written as "nan".
    /// Up to <see cref="MaxStringLength"/> bytes may be needed for huge values; common values need fewer than 64.
    /// </summary>
    public int FormatHuman(Span<byte> dest)
    {
        if (IsNaN)
        {
            return Copy("nan"u8, dest);
        }

        if (IsInfinity)
        {
            return Copy(_negative ? "-inf"u8 : "inf"u8, dest);
        }

        var length = 0;
        if (_negative)
        {
            dest[length++] = (byte)'-';
        }

        length += _exponent >= 0 ? FormatInteger(dest[length..]) : FormatWithFraction(dest[length..]);
        if (length == 2 && dest[0] == (byte)'-' && dest[1] == (byte)'0')
        {
            dest[0] = (byte)'0';
            length = 1;
        }

        return length;
    }

    private int FormatWithFraction(Span<byte> dest)
    {
        // value * 10^17 < 2^121, so it and the shift fit in 128 bits; below 2^-122 it rounds to zero.
        var fractionBits = -_exponent;
        UInt128 scaled = 0;
        if (fractionBits < 122)
        {
            var product = (UInt128)_mantissa * TenPow17;
            scaled = product >> fractionBits;
            var dropped = product & ((UInt128.One << fractionBits) - 1);
            var half = UInt128.One << (fractionBits - 1);
            if (dropped > half || (dropped == half && (scaled & 1) != 0))
            {
                scaled++;
            }
        }

        var integerPart = scaled / TenPow17;
        var fraction = (ulong)(scaled % TenPow17);
        integerPart.TryFormat(dest, out var length, default, CultureInfo.InvariantCulture);
        dest[length] = (byte)'.';
        for (var i = HumanFractionDigits; i > 0; i--)
        {
            dest[length + i] = (byte)('0' + (int)(fraction % 10));
            fraction /= 10;
        }

        length += HumanFractionDigits + 1;
        while (dest[length - 1] == (byte)'0')
        {
            length--;
        }

        if (dest[length - 1] == (byte)'.')
        {
            length--;
        }

        return length;
    }

    private int FormatInteger(Span<byte> dest)
    {
        if (_exponent <= 64)
        {
            var integer = (UInt128)_mantissa << _exponent;
            integer.TryFormat(dest, out var written, default, CultureInfo.InvariantCulture);
            return written;
        }

        var text = (new BigInteger(_mantissa) << _exponent).ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < text.Length; i++)
        {
            dest[i] = (byte)text[i];
        }

        return text.Length;
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> dest)
    {
        text.CopyTo(dest);
        return text.Length;
    }

    public bool Equals(LongDouble other) =>
        _category == other._category && _negative == other._negative && _mantissa == other._mantissa && _exponent == other._exponent;

    public override bool Equals(object? obj) => obj is LongDouble other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_mantissa, _exponent, _negative, _category);

    public static bool operator ==(LongDouble left, LongDouble right) => left.Equals(right);

    public static bool operator !=(LongDouble left, LongDouble right) => !left.Equals(right);
}
