using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Tests.Data;

// Expected values come from Redis 7.0.15 (INCRBY k 0 after SET, ZADD/ZSCORE) and glibc printf("%.17g")/strtod.
[Trait("Category", "Unit")]
public class RedisNumbersTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1", 1L)]
    [InlineData("-1", -1L)]
    [InlineData("123", 123L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("-9223372036854775807", -9223372036854775807L)]
    public void TryParseInt64_AcceptsCanonicalIntegers(string text, long expected)
    {
        Assert.True(RedisNumbers.TryParseInt64(Encoding.ASCII.GetBytes(text), out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-0")]
    [InlineData("00")]
    [InlineData("01")]
    [InlineData("-01")]
    [InlineData("+")]
    [InlineData("-")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1a")]
    [InlineData("1.0")]
    [InlineData("1e3")]
    [InlineData("0x10")]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("18446744073709551615")]
    [InlineData("18446744073709551616")]
    [InlineData("99999999999999999999")]
    [InlineData("000000000000000000001")]
    public void TryParseInt64_RejectsWhatString2llRejects(string text)
    {
        Assert.False(RedisNumbers.TryParseInt64(Encoding.ASCII.GetBytes(text), out _));
    }

    [Fact]
    public void TryParseInt64_RejectsEmbeddedNul()
    {
        Assert.False(RedisNumbers.TryParseInt64("1\02"u8, out _));
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(7L, "7")]
    [InlineData(-7L, "-7")]
    [InlineData(10L, "10")]
    [InlineData(-1000L, "-1000")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    [InlineData(long.MinValue, "-9223372036854775808")]
    public void FormatInt64_WritesDecimal(long value, string expected)
    {
        Span<byte> buffer = stackalloc byte[RedisNumbers.MaxInt64Length];
        var written = RedisNumbers.FormatInt64(value, buffer);
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..written]));
        Assert.Equal(expected.Length, RedisNumbers.Int64Length(value));
    }

    [Theory]
    [InlineData("1.1", "1.1000000000000001")]
    [InlineData("1e-5", "1.0000000000000001e-05")]
    [InlineData("0.00001", "1.0000000000000001e-05")]
    [InlineData("1e17", "1e+17")]
    [InlineData("1e16", "10000000000000000")]
    [InlineData("1e23", "9.9999999999999992e+22")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("0.000123", "0.00012300000000000001")]
    [InlineData("-2.5e-5", "-2.5000000000000001e-05")]
    [InlineData("2251799813685247.25", "2251799813685247.2")]
    [InlineData("2251799813685247.75", "2251799813685247.8")]
    [InlineData("123456789.123456789", "123456789.12345679")]
    [InlineData("0.1", "0.10000000000000001")]
    [InlineData("-1e-20", "-9.9999999999999995e-21")]
    [InlineData("2.5e-17", "2.4999999999999999e-17")]
    [InlineData("9223372036854775807", "9.2233720368547758e+18")]
    [InlineData("1.7976931348623157e308", "1.7976931348623157e+308")]
    [InlineData("4.9406564584124654e-324", "4.9406564584124654e-324")]
    [InlineData("1e-310", "9.9999999999999694e-311")]
    [InlineData("4e-320", "3.999955468730732e-320")]
    [InlineData("3000", "3000")]
    [InlineData("+1.5", "1.5")]
    [InlineData(".5", "0.5")]
    [InlineData("5.", "5")]
    [InlineData("0", "0")]
    [InlineData("-0", "-0")]
    [InlineData("000000055298", "55298")]
    [InlineData("-000000000042", "-42")]
    [InlineData("999999999999999", "999999999999999")]
    [InlineData("9007199254740993", "9007199254740992")]
    [InlineData("-12345678901234567", "-12345678901234568")]
    [InlineData("0x10", "16")]
    [InlineData("0x1p-3", "0.125")]
    [InlineData("0xAbC.dEfp-4", "171.80442810058594")]
    [InlineData("0x1.fffffffffffffp1023", "1.7976931348623157e+308")]
    [InlineData("0x1p-1074", "4.9406564584124654e-324")]
    [InlineData("inf", "inf")]
    [InlineData("-inf", "-inf")]
    [InlineData("+inf", "inf")]
    [InlineData("INFINITY", "inf")]
    [InlineData("-Infinity", "-inf")]
    public void ParseThenFormatDouble_MatchesRedisReply(string text, string expected)
    {
        Assert.True(RedisNumbers.TryParseDouble(Encoding.ASCII.GetBytes(text), out var value));
        Span<byte> buffer = stackalloc byte[RedisNumbers.MaxDoubleLength];
        var written = RedisNumbers.FormatDouble(value, buffer);
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..written]));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("nan")]
    [InlineData("-nan")]
    [InlineData("NaN(123)")]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1e-400")]
    [InlineData("2.4703282292062327e-324")]
    [InlineData("0x1p1024")]
    [InlineData("0x1p-1076")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData(".")]
    [InlineData("e5")]
    [InlineData("1..2")]
    [InlineData("--1")]
    [InlineData("-")]
    [InlineData("-1-")]
    [InlineData("0x")]
    [InlineData("0x.p1")]
    [InlineData("0x1p")]
    [InlineData("infinit")]
    [InlineData("infinityy")]
    [InlineData("abc")]
    public void TryParseDouble_RejectsWhatString2dRejects(string text)
    {
        Assert.False(RedisNumbers.TryParseDouble(Encoding.ASCII.GetBytes(text), out _));
    }

    /// <summary>
    /// Decimals of every shape the short fast path takes and just past it (16+ digits, exponents past 22, leading
    /// and trailing zeros, signs, a point anywhere or none, e/E with or without a sign): the same bits, zero's sign
    /// included, as .NET's correctly rounded parse (strtod's value).
    /// </summary>
    [Fact]
    public void TryParseDouble_of_random_decimals_is_correctly_rounded()
    {
        var random = new Random(5);
        var text = new StringBuilder();
        for (int n = 0; n < 200_000; n++)
        {
            text.Clear();
            if (random.Next(4) == 0) text.Append(random.Next(2) == 0 ? '-' : '+');
            for (int z = random.Next(3); z > 0; z--) text.Append('0');
            int digits = random.Next(1, 19), pointAt = random.Next(-1, digits + 1);
            for (int d = 0; d < digits; d++)
            {
                if (d == pointAt) text.Append('.');
                text.Append((char)('0' + random.Next(10)));
            }
            if (pointAt == digits) text.Append('.');
            if (random.Next(2) == 0)
            {
                text.Append(random.Next(2) == 0 ? 'e' : 'E');
                if (random.Next(2) == 0) text.Append(random.Next(2) == 0 ? '-' : '+');
                text.Append(random.Next(30));
            }
            var input = text.ToString();
            double expected = double.Parse(input, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(RedisNumbers.TryParseDouble(Encoding.ASCII.GetBytes(input), out var value), input);
            Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(value), $"{input}: {value:R} against {expected:R}");
        }
    }

    [Theory]
    [InlineData("2.4703282292062328e-324", 4.9406564584124654e-324)]
    [InlineData("0e999999999999", 0.0)]
    [InlineData("1e-999999999999", double.NaN)]
    public void TryParseDouble_HandlesUnderflowLikeGlibc(string text, double expected)
    {
        var accepted = RedisNumbers.TryParseDouble(Encoding.ASCII.GetBytes(text), out var value);
        Assert.Equal(!double.IsNaN(expected), accepted);
        if (accepted)
        {
            Assert.Equal(expected, value);
        }
    }

    [Fact]
    public void TryParseDouble_RejectsEmbeddedNul()
    {
        Assert.False(RedisNumbers.TryParseDouble("1.5\0"u8, out _));
    }

    [Theory]
    [InlineData(1.5, "1.5")]
    [InlineData(-4.5, "-4.5")]
    [InlineData(0.0, "0")]
    [InlineData(-0.0, "-0")]
    [InlineData(3.0, "3")]
    [InlineData(100.0, "100")]
    [InlineData(0.0625, "0.0625")]
    [InlineData(0.0001220703125, "0.0001220703125")]
    [InlineData(1234.0625, "1234.0625")]
    [InlineData(99999999999999984.0, "99999999999999984")]
    [InlineData(9007199254740993.5, "9007199254740994")]
    public void FormatDouble_ExactDigitsAsPrintf(double value, string expected)
    {
        Span<byte> buffer = stackalloc byte[RedisNumbers.MaxDoubleLength];
        var written = RedisNumbers.FormatDouble(value, buffer);
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..written]));
    }

    /// <summary>
    /// The exact path (integers, fractions over small powers of two) against the rounding one on the values
    /// it takes and around its limits (1e-4, 1e17, 17 digits): the same text, and it does take them.
    /// </summary>
    [Fact]
    public void FormatDouble_exact_path_writes_what_the_rounding_path_writes()
    {
        var random = new Random(18);
        Span<byte> exact = stackalloc byte[RedisNumbers.MaxDoubleLength];
        Span<byte> rounded = stackalloc byte[RedisNumbers.MaxDoubleLength];
        int taken = 0;
        var values = new List<double> { 1e-4, 1e17, 1e17 - 16, 0.1, 1.0 / 3, double.Epsilon, double.MaxValue, -1e-5, 0.5, 0.00006103515625, 16777216.125 };
        for (int i = 0; i < 200_000; i++)
        {
            long mantissa = random.NextInt64(1, 1L << 53);
            int shift = random.Next(0, 40);
            double value = mantissa / Math.Pow(2, shift) * (random.Next(2) == 0 ? 1 : -1);
            values.Add(value);
            values.Add(Math.Round(value));
            values.Add(BitConverter.Int64BitsToDouble(random.NextInt64()));
            values.Add(random.Next(-100000, 100000) / 16.0);
        }
        foreach (double value in values)
        {
            if (!RedisNumbers.TryFormatExactDouble(value, exact, out int length)) continue;
            taken++;
            int roundedLength = RedisNumbers.FormatDoubleRounded(value, rounded);
            Assert.True(exact[..length].SequenceEqual(rounded[..roundedLength]),
                $"{value:R}: exact {Encoding.ASCII.GetString(exact[..length])}, rounded {Encoding.ASCII.GetString(rounded[..roundedLength])}");
        }
        Assert.True(taken > values.Count / 3, $"only {taken} of {values.Count} values took the exact path");
    }
}
