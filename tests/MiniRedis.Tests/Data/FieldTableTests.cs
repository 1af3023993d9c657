using System.Text;
using MiniRedis.Data;

namespace MiniRedis.Tests.Data;

/// <summary>The hash table encoding's values: overwritten in place when they fit, never under a copy that shares them.</summary>
[Trait("Category", "Unit")]
public sealed class FieldTableTests
{
    static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    static string Value(FieldTable table, string field)
    {
        Assert.True(table.TryGetValue(B(field), out var value));
        return Encoding.Latin1.GetString(value!);
    }

    [Fact]
    public void A_value_of_the_same_length_takes_the_old_ones_place()
    {
        var table = new FieldTable();
        Assert.True(table.Set(B("f"), B("abc")));
        table.TryGetValue(B("f"), out var before);
        long bytes = table.StringBytes;
        Assert.False(table.Set(B("f"), B("xyz")));
        table.TryGetValue(B("f"), out var after);
        Assert.Same(before, after);
        Assert.Equal("xyz", Value(table, "f"));
        Assert.Equal(bytes, table.StringBytes);

        Assert.False(table.Set(B("f"), B("a longer value")));
        Assert.Equal("a longer value", Value(table, "f"));
        Assert.True(table.StringBytes > bytes);
    }

    [Fact]
    public void A_copy_and_its_source_keep_their_own_values_whichever_is_written_first()
    {
        var source = new FieldTable();
        for (int i = 0; i < 20; i++) source.Set(B($"f{i}"), B($"v{i:D2}"));
        var copy = (FieldTable)source.DeepCopy();

        source.Set(B("f1"), B("s01"));
        copy.Set(B("f2"), B("c02"));
        // A second overwrite of the same field, now in an array of its own.
        source.Set(B("f1"), B("S01"));
        copy.Set(B("f2"), B("C02"));

        Assert.Equal("S01", Value(source, "f1"));
        Assert.Equal("v02", Value(source, "f2"));
        Assert.Equal("v01", Value(copy, "f1"));
        Assert.Equal("C02", Value(copy, "f2"));
        for (int i = 3; i < 20; i++)
        {
            Assert.Equal($"v{i:D2}", Value(source, $"f{i}"));
            Assert.Equal($"v{i:D2}", Value(copy, $"f{i}"));
        }
    }
}
