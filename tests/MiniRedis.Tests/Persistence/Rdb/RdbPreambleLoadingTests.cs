using System.Text;
using MiniRedis.Data;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// Loading an AOF that starts with an RDB preamble, in process: keys of the image as they are
/// (expired ones too, for the commands after it), then the command tail; a damaged image refuses
/// the start whatever aof-load-truncated says, while the tail keeps its truncation rules.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RdbPreambleLoadingTests() : AofBootTests("preamble-load-")
{
    /// <summary>An RDB image (aof-base 1) of a few keys in two databases, one long expired and one to be kept by the tail.</summary>
    static byte[] Image(bool checksum = true)
    {
        var keyspace = new Keyspace(16);
        keyspace[0].SetString("plain"u8, "value"u8);
        keyspace[0].SetExpire(keyspace[0].SetString("stale"u8, "gone"u8), 1000);
        keyspace[0].SetExpire(keyspace[0].SetString("revived"u8, "kept by PERSIST"u8), 1000);
        keyspace[0].SetExpire(keyspace[0].SetString("future"u8, "ttl"u8), 4102444800000);
        keyspace[3].SetString("other-db"u8, "three"u8);
        using var image = new MemoryStream();
        RdbWriter.WriteDataset(keyspace, [], image, compress: true, checksum, aofBase: true);
        return image.ToArray();
    }

    static readonly byte[] Tail = [.. Command("SELECT", "0"), .. Command("PERSIST", "revived"), .. Command("SET", "tail", "t"), .. Command("SELECT", "3"), .. Command("APPEND", "other-db", "+")];

    [Fact]
    public void Image_keys_then_the_tail_load_and_expired_keys_stay_for_the_tail()
    {
        File.WriteAllBytes(AofPath, [.. Image(), .. Tail]);
        var (server, started, log) = Boot();
        Assert.True(started);
        var client = new InProcessClient(server);
        Assert.Equal("$5\r\nvalue\r\n", client.Run("GET plain"));
        Assert.Equal("$15\r\nkept by PERSIST\r\n", client.Run("GET revived"));
        Assert.Equal(":-1\r\n", client.Run("PTTL revived"));
        Assert.Equal(":4102444800000\r\n", client.Run("PEXPIRETIME future"));
        Assert.Equal("$-1\r\n", client.Run("GET stale"));
        Assert.Equal("$1\r\nt\r\n", client.Run("GET tail"));
        client.Run("SELECT 3");
        Assert.Equal("$6\r\nthree+\r\n", client.Run("GET other-db"));
        Assert.Contains(log.Lines, l => l.StartsWith("Reading RDB preamble from AOF file", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l == "Reading the remaining AOF tail...");
    }

    /// <summary>Every cut inside the image: the start is refused with the reason, even with aof-load-truncated yes.</summary>
    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public void A_truncated_image_refuses_the_start_at_every_offset(string loadTruncated)
    {
        byte[] image = Image();
        for (int length = 1; length < image.Length; length++)
        {
            File.WriteAllBytes(AofPath, image[..length]);
            var (server, started, log) = Boot($"aof-load-truncated {loadTruncated}");
            Assert.False(started, $"started with the image cut at {length}");
            if (length >= 5) Assert.Contains(log.Lines, l => l.StartsWith("Error reading the RDB preamble of the AOF file", StringComparison.Ordinal));
            // Stopped at once: hundreds of idle servers (each an executor thread and a cron) slow the rest.
            server.Stop();
            Servers.Remove(server);
        }
    }

    [Fact]
    public void A_checksum_mismatch_refuses_the_start_unless_rdbchecksum_is_no()
    {
        byte[] image = Image();
        image[^1] ^= 0x5A;
        File.WriteAllBytes(AofPath, [.. image, .. Tail]);
        var (_, started, log) = Boot();
        Assert.False(started);
        Assert.Contains(log.Lines, l => l.Contains("Error reading the RDB preamble", StringComparison.Ordinal) && l.Contains("Wrong RDB checksum", StringComparison.Ordinal));

        var (server, startedWithoutCheck, _) = Boot("rdbchecksum no");
        Assert.True(startedWithoutCheck);
        Assert.Equal("$1\r\nt\r\n", new InProcessClient(server).Run("GET tail"));
    }

    [Fact]
    public void An_image_written_without_checksum_loads()
    {
        File.WriteAllBytes(AofPath, [.. Image(checksum: false), .. Tail]);
        var (server, started, _) = Boot();
        Assert.True(started);
        Assert.Equal("$5\r\nvalue\r\n", new InProcessClient(server).Run("GET plain"));
    }

    [Fact]
    public void A_corrupt_byte_inside_the_image_refuses_the_start()
    {
        byte[] image = Image();
        // A type byte no Redis writes, where the first key begins.
        int firstKey = image.AsSpan().IndexOf("plain"u8) - 2;
        var corrupt = image.ToArray();
        corrupt[firstKey] = 0x33;
        File.WriteAllBytes(AofPath, [.. corrupt, .. Tail]);
        var (_, started, log) = Boot();
        Assert.False(started);
        Assert.Contains(log.Lines, l => l.StartsWith("Error reading the RDB preamble of the AOF file", StringComparison.Ordinal));
    }

    /// <summary>A torn last command after the image follows aof-load-truncated: cut back to the image plus the complete commands.</summary>
    [Fact]
    public void A_torn_tail_is_cut_after_the_last_complete_command()
    {
        byte[] image = Image();
        byte[] whole = [.. image, .. Tail];
        File.WriteAllBytes(AofPath, whole[..^3]);
        var (server, started, _) = Boot("aof-load-truncated yes");
        Assert.True(started);
        var client = new InProcessClient(server);
        Assert.Equal("$1\r\nt\r\n", client.Run("GET tail"));
        client.Run("SELECT 3");
        Assert.Equal("$5\r\nthree\r\n", client.Run("GET other-db"));
        int lastCommand = Command("APPEND", "other-db", "+").Length;
        server.Stop();
        int cut = whole.Length - lastCommand;
        byte[] file = File.ReadAllBytes(AofPath);
        Assert.Equal(whole[..cut], file[..cut]);
        // Active expiry may have deleted the long-expired key before the stop; its DEL follows the cut.
        byte[] expiry = [.. Command("SELECT", "0"), .. Command("DEL", "stale")];
        Assert.True(file.Length == cut || file.AsSpan(cut).SequenceEqual(expiry), Encoding.ASCII.GetString(file[cut..]));

        File.WriteAllBytes(AofPath, whole[..^3]);
        var (_, startedStrict, _) = Boot("aof-load-truncated no");
        Assert.False(startedStrict);
    }
}
