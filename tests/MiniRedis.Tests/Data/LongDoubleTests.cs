using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Tests.Data;

// Expected values come from Redis 7.0.15 INCRBYFLOAT replies and from glibc strtold + printf("%.17Lf") on x86-64.
[Trait("Category", "Unit")]
public class LongDoubleTests
{
    private const string OneE400 =
        "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880";

    private static string Human(LongDouble value)
    {
        var buffer = new byte[LongDouble.MaxStringLength];
        return Encoding.ASCII.GetString(buffer, 0, value.FormatHuman(buffer));
    }

    private static LongDouble Parse(string text)
    {
        Assert.True(LongDouble.TryParse(Encoding.ASCII.GetBytes(text), out var value), text);
        return value;
    }

    [Theory]
    [InlineData("10.5", "0.1", "10.6")]
    [InlineData("10.5", "5.0e3", "5010.5")]
    [InlineData("0", "1.1", "1.1")]
    [InlineData("1e18", "0.1", "1000000000000000000.125")]
    [InlineData("1", "-3.3", "-2.3")]
    [InlineData("-1e-20", "0", "0")]
    [InlineData("0.1", "-0.1", "0")]
    [InlineData("3.0e3", "1.5e-3", "3000.00150000000000006")]
    [InlineData("0.1", "0.2", "0.3")]
    [InlineData("0", "1.23456789012345678901234567890", "1.23456789012345679")]
    [InlineData("0", "123456789012345678901234567890", "123456789012345678899921813504")]
    [InlineData("9223372036854775807", "1", "9223372036854775808")]
    [InlineData("-9223372036854775808", "-1", "-9223372036854775809")]
    [InlineData("18446744073709551615", "0.5", "18446744073709551616")]
    [InlineData("0", "1.5e-17", "0.00000000000000002")]
    [InlineData("0", "2.5e-17", "0.00000000000000002")]
    [InlineData("0", "5e-18", "0")]
    [InlineData("0", "-5e-18", "0")]
    [InlineData("0", "1e-18", "0")]
    [InlineData("1", "1e-30", "1")]
    [InlineData("1", "-1e-30", "1")]
    [InlineData("1", "0x1p3", "9")]
    [InlineData("1", "0x1.8p1", "4")]
    [InlineData("0", "0X1P-2", "0.25")]
    [InlineData("0", "0x.8", "0.5")]
    [InlineData("0", "0xAbC.dEfp-4", "171.8044281005859375")]
    [InlineData("1", "+5", "6")]
    [InlineData("1", ".5", "1.5")]
    [InlineData("1", "5.", "6")]
    [InlineData("-0", "-0", "0")]
    [InlineData("0", "-0", "0")]
    [InlineData("100", "-100.5", "-0.5")]
    [InlineData("123456789.123456789", "0", "123456789.12345678899873747")]
    [InlineData("0.000123", "0", "0.000123")]
    [InlineData("-2.5e-5", "0", "-0.000025")]
    [InlineData("2e-4951", "0", "0")]
    [InlineData("1e400", "0", OneE400)]
    public void Add_MatchesIncrByFloat(string current, string increment, string expected)
    {
        Assert.Equal(expected, Human(LongDouble.Add(Parse(current), Parse(increment))));
    }

    [Theory]
    [InlineData("1", "inf")]
    [InlineData("inf", "1")]
    [InlineData("1", "-inf")]
    [InlineData("1", "INFINITY")]
    [InlineData("-inf", "inf")]
    [InlineData("1.18e4932", "1.18e4932")]
    [InlineData("0x1p16383", "0x1p16383")]
    public void Add_ProducesNaNOrInfinityWhereRedisRefuses(string current, string increment)
    {
        var sum = LongDouble.Add(Parse(current), Parse(increment));
        Assert.True(sum.IsNaN || sum.IsInfinity);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("nan")]
    [InlineData("-NAN")]
    [InlineData("1e5000")]
    [InlineData("-1e5000")]
    [InlineData("1e-5000")]
    [InlineData("1e-4951")]
    [InlineData("0x1p16384")]
    [InlineData("0x1p-16446")]
    [InlineData("1e")]
    [InlineData("abc")]
    [InlineData("0x")]
    [InlineData("0xg")]
    [InlineData(".")]
    [InlineData("1.5\n")]
    public void TryParse_RejectsWhatString2ldRejects(string text)
    {
        Assert.False(LongDouble.TryParse(Encoding.ASCII.GetBytes(text), out _));
    }

    [Fact]
    public void TryParse_RejectsInputsOfMaxStringLength()
    {
        var text = new string('1', LongDouble.MaxStringLength);
        Assert.False(LongDouble.TryParse(Encoding.ASCII.GetBytes(text), out _));
        Assert.True(LongDouble.TryParse(Encoding.ASCII.GetBytes("0." + text[3..]), out _));
    }

    [Fact]
    public void TryParse_RejectsAnEmbeddedNulLikeRedis7015()
    {
        Assert.False(LongDouble.TryParse("1.5\0xyz"u8, out _));
        Assert.False(LongDouble.TryParse("1\0"u8, out _));
        Assert.False(LongDouble.TryParse("\0"u8, out _));
        Assert.False(LongDouble.TryParse([0, 0xff], out _));
    }

    [Theory]
    [InlineData("inf", "inf")]
    [InlineData("-Infinity", "-inf")]
    [InlineData("0x1p-16445", "0")]
    [InlineData("1.7976931348623157e308", "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384")]
    [InlineData("1e23", "100000000000000000000000")]
    [InlineData("0.00001", "0.00001")]
    public void FormatHuman_MatchesLd2String(string text, string expected)
    {
        Assert.Equal(expected, Human(Parse(text)));
    }

    [Fact]
    public void FormatHuman_HandlesTheLargestFiniteValues()
    {
        var large = Human(Parse("1.18e4932"));
        Assert.Equal(4933, large.Length);
        Assert.StartsWith("1180000000000000000000652812918093699202690437140160471729831240061836527728446996", large, StringComparison.Ordinal);
        Assert.EndsWith("98515981799475248091913789298771782383555351070887222606896512585853888628785152", large, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(-1L, "-1")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    [InlineData(long.MinValue, "-9223372036854775808")]
    public void FromInt64_IsExact(long value, string expected)
    {
        Assert.Equal(expected, Human(LongDouble.FromInt64(value)));
    }
}
