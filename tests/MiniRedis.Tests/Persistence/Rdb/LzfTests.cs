using System.Text;
using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>LZF against bytes real Redis 7.0.15 wrote into dumps (rdbcompression yes).</summary>
[Trait("Category", "Unit")]
public sealed class LzfTests
{
    /// <summary>SET a "abcdefghij" x 10: Redis stored these 18 bytes.</summary>
    static readonly byte[] RepeatedVector = Convert.FromHexString("0a6162636465666768696a61e04e0901696a");

    /// <summary>The 3050-byte text of <see cref="Text"/>, compressed by Redis to 910 bytes.</summary>
    const string TextVector =
        "GDAxMjM0NTY3ODkgc25hcHNob3QgbHpmIDDgChcEcmVkaXPgAxmAEIAFQDTAA4AR4AJC4AIKBmNvbXByZXPANuACGYA1gAXgACXgAAjgAihAZuAArOACF+ACCkAi4AIOgFRAFOALCeAAY4Ac4AAO4AJA4AU64AEN4ACG4AkI4AI9gFdANeAPW+ACLEAm4AIO4ABYgESABUAj4AtK4AAs4AJA4AIK4AAy4AAn4AAIQFFAA+ALLYBz4AA84AIigBngAwXgAhzgADBAV4Aj4AASgA7gAH3gCzXgABzgADTgAiXgAgrgACdAZuAADOACIOAAP0Ag4AAM4AIg4AA0QCDgAAyAouACJuAIEOACG0A5QAOAI+AAZEAS4ABQ4AAV4AAIgC2ABeACTOAJMUBHgCbgADtAEuACM0AOQAPgADvgAhvgCxOATeAAGeAACOACNkBOgCaABeAAI0AY4ACH4AIw4AsTgDqABeAAH0BA4AI34ABY4AsT4AAc4AAI4ARGQErgABngAj/gACTgAhPgACdANICS4AAS4AIm4BEZ4AstQEvgAjzgAgrgCy3gABPgAAiAbeAArkBOgBLgAwVAFUAD4AA14AJmQBdAA+ADL+AAJ+AAV+ADHYALQDNAA+AAK0AMgBrgAl3gEkDgAiVAOuAAR+AAMuAGIOAAF4BkgAXgBDngCUJAHsADgDCABeAJKeAGF+AAIEA94AAM4ACCQBXgAAzgAB5AFeACtOAEF4BfgAVAJ0AD4AIr4ABM4AYX4ABDgDngBg7gADWAHUA74AAS4AAI4AAz4AAI4AJ3gDjgACtAQUAD4AAQ4AAI4AIz4AIK4AAegEfgAhmAEIAF4At4QGXgFR3gAFvgAAjgAEeAOOADBeAAGuAIguAAPeAACOADN+ACLkCRQAPgACdADOAAV0AM4AIs4AAkgExAHYAJ4AAw4AIsQB3gABfgADlAFeAADOAAHuAACOACP+AAJUAy4AIXgHHgAwXgACngAEaAHeAGOOAGHeAANYAsgAVAMoAJ4AAeQBLgBAzgAEdAGcAD4AQhgEHgArPgAgpAMOACDuAAN+AACOACHOAGK+AAeOAAK+AACOAGKeAAF+AAMkAggJbgABvgCQjgAC3gABpANuAEDOAGneAJMeAALeAAGuAGdkBSgBLgACHgAlTgGArgAT7gCWngABHgAAjgAGJANkAD4AAZ4AAI4A1xQCsgAw==";

    /// <summary>400 words picked by a C-library LCG (seed 7), so other tools can regenerate the same text.</summary>
    static byte[] Text()
    {
        string[] words = ["redis", "snapshot", "compress", "lzf", "0123456789"];
        long x = 7;
        var picked = new List<string>();
        for (int i = 0; i < 400; i++)
        {
            x = (x * 1103515245 + 12345) % (1L << 31);
            picked.Add(words[(x >> 16) % words.Length]);
        }
        return Encoding.ASCII.GetBytes(string.Join(' ', picked));
    }

    [Fact]
    public void Decompresses_redis_s_output()
    {
        var output = new byte[100];
        Assert.True(Lzf.TryDecompress(RepeatedVector, output));
        Assert.Equal(string.Concat(Enumerable.Repeat("abcdefghij", 10)), Encoding.ASCII.GetString(output));
    }

    [Fact]
    public void Compresses_to_the_bytes_redis_writes()
    {
        var compressor = new LzfCompressor();
        var input = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("abcdefghij", 10)));
        // Redis offers len - 4 bytes of room: compression must save at least that.
        var output = new byte[input.Length - 4];
        int length = compressor.Compress(input, output);
        Assert.Equal(RepeatedVector, output[..length]);
    }

    [Fact]
    public void Longer_text_round_trips_with_redis_s_bytes()
    {
        var redis = Convert.FromBase64String(TextVector);
        var text = Text();
        Assert.Equal(3050, text.Length);
        var decompressed = new byte[text.Length];
        Assert.True(Lzf.TryDecompress(redis, decompressed));
        Assert.Equal(text, decompressed);

        var output = new byte[text.Length - 4];
        int length = new LzfCompressor().Compress(text, output);
        Assert.Equal(redis, output[..length]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(33)]
    [InlineData(100_000)]
    public void Round_trips_random_and_repetitive_data(int size)
    {
        var compressor = new LzfCompressor();
        var random = new Random(size);
        var noise = new byte[size];
        random.NextBytes(noise);
        var runs = new byte[size];
        for (int i = 0; i < size; i++) runs[i] = (byte)(i / 300 % 3 == 0 ? random.Next(4) : 'x');
        foreach (var input in new[] { noise, runs })
        {
            // Incompressible input needs more room than it had: a literal run costs one byte per 32.
            var output = new byte[input.Length + input.Length / 32 + 8];
            int length = compressor.Compress(input, output);
            Assert.True(length > 0);
            var back = new byte[input.Length];
            Assert.True(Lzf.TryDecompress(output.AsSpan(0, length), back));
            Assert.Equal(input, back);
        }
    }

    [Fact]
    public void Gives_up_when_the_output_does_not_fit()
    {
        var noise = new byte[1000];
        new Random(1).NextBytes(noise);
        Assert.Equal(0, new LzfCompressor().Compress(noise, new byte[996]));
    }

    [Fact]
    public void Reused_compressor_gives_the_same_bytes_as_a_fresh_one()
    {
        var reused = new LzfCompressor();
        var first = new byte[5000];
        reused.Compress(Text(), first);
        var input = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("abcdefghij", 10)));
        var output = new byte[96];
        int length = reused.Compress(input, output);
        Assert.Equal(RepeatedVector, output[..length]);
    }

    [Theory]
    [InlineData("e0")]                 // reference without its offset byte
    [InlineData("e0ff")]               // long reference without its offset byte
    [InlineData("2000")]               // reference before the start of the output
    [InlineData("05616263")]           // literal run longer than the input
    [InlineData("00614000")]           // reference longer than the room left
    public void Refuses_malformed_input(string hex)
    {
        Assert.False(Lzf.TryDecompress(Convert.FromHexString(hex), new byte[4]));
    }

    [Fact]
    public void Refuses_output_of_the_wrong_length()
    {
        Assert.False(Lzf.TryDecompress(RepeatedVector, new byte[99]));
        Assert.False(Lzf.TryDecompress(RepeatedVector, new byte[101]));
    }
}
