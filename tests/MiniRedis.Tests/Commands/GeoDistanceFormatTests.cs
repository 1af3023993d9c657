using System.Globalization;
using System.Text;
using MiniRedis.Commands;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// Distances print as C's "%.4f": the double's exact value rounded to 4 decimals, a tie to even (glibc).
/// The reference reads the exact decimal expansion (.NET prints a double's exact digits when asked for
/// enough of them) and rounds it as text.
/// </summary>
[Trait("Category", "Unit")]
public sealed class GeoDistanceFormatTests
{
    static string Reference(double value)
    {
        string exact = value.ToString("F90", CultureInfo.InvariantCulture);
        int point = exact.IndexOf('.', StringComparison.Ordinal);
        var kept = System.Numerics.BigInteger.Parse(string.Concat(exact.AsSpan(0, point), exact.AsSpan(point + 1, 4)), CultureInfo.InvariantCulture);
        string rest = exact[(point + 5)..];
        int half = rest[0] == '5' && rest[1..].All(c => c == '0') ? 0 : rest[0] >= '5' ? 1 : -1;
        if (half > 0 || (half == 0 && !kept.IsEven)) kept++;
        string digits = kept.ToString(CultureInfo.InvariantCulture).PadLeft(5, '0');
        return digits[..^4] + "." + digits[^4..];
    }

    static string Format(double value)
    {
        Span<byte> text = stackalloc byte[64];
        int length = GeoCommands.FormatDistance(value, text);
        Assert.True(length > 0, $"{value:R} not formatted");
        return Encoding.ASCII.GetString(text[..length]);
    }

    [Theory]
    [InlineData(0.0, "0.0000")]
    [InlineData(0.03125, "0.0312")] // an exact tie: to even
    [InlineData(0.09375, "0.0938")]
    [InlineData(12345.28125, "12345.2812")]
    [InlineData(1.00005, "1.0001")] // just above the tie in binary
    [InlineData(99999999999.99999, "100000000000.0000")]
    public void Prints_as_c_does(double value, string expected)
    {
        Assert.Equal(expected, Format(value));
        Assert.Equal(expected, Reference(value));
    }

    [Fact]
    public void Matches_the_exact_rounding_over_random_distances_and_the_neighbours_of_ties()
    {
        var random = new Random(1607);
        for (int i = 0; i < 200_000; i++)
        {
            double value = i % 2 == 0
                ? random.NextDouble() * Math.Pow(10, random.Next(-6, 11))
                : (random.NextInt64(0, 1_000_000_000) + 0.5) / 10000;
            foreach (double probe in new[] { value, Math.BitDecrement(value), Math.BitIncrement(value) })
                if (probe >= 0) Assert.Equal(Reference(probe), Format(probe));
        }
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(1e11)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void Leaves_values_outside_distances_to_the_general_path(double value)
    {
        Span<byte> text = stackalloc byte[64];
        Assert.Equal(0, GeoCommands.FormatDistance(value, text));
    }
}
