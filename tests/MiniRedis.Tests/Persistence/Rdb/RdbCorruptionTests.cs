using System.Text;
using MiniRedis.Config;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence.Rdb;

/// <summary>
/// A real Redis 7.0.15 dump of every type, truncated and damaged: the reader refuses with an
/// <see cref="RdbFormatException"/> (never another exception), and with the checksum verified it never
/// reports a damaged image as loaded.
/// </summary>
[Trait("Category", "Differential")]
public sealed class RdbCorruptionTests : IClassFixture<RdbCorruptionTests.RedisDump>
{
    readonly byte[] _dump;

    public RdbCorruptionTests(RedisDump dump) => _dump = dump.Bytes;

    /// <summary>The interop script's dataset as real Redis saves it (compression on).</summary>
    public sealed class RedisDump
    {
        public RedisDump()
        {
            using var redis = new RealRedisProcess();
            using var connection = redis.Connect();
            foreach (var command in RdbInteropTests.Script()) connection.Call(command.Select(Encoding.Latin1.GetBytes).ToArray());
            connection.Call("SAVE");
            var dir = Encoding.Latin1.GetString(connection.Call("CONFIG", "GET", "dir")).Split("\r\n")[4];
            Bytes = File.ReadAllBytes(Path.Combine(dir, "dump.rdb"));
        }

        public byte[] Bytes { get; }
    }

    static void Load(byte[] image, bool verifyChecksum) => RdbTestData.Load(image, new ServerConfig(), verifyChecksum);

    [Fact]
    public void The_intact_dump_loads()
    {
        var (keyspace, reader) = RdbTestData.Load(_dump, new ServerConfig());
        Assert.Equal(_dump.Length, reader.Position);
        Assert.Equal(RdbInteropTests.Script().Count(c => c[0] != "SELECT" && c[0] != "PEXPIRE"), keyspace.TotalKeys());
    }

    [Fact]
    public void Every_truncation_is_refused()
    {
        // Every offset in the header and the last kilobyte, and a spread across the rest.
        var offsets = Enumerable.Range(0, 400).Concat(Enumerable.Range(_dump.Length - 1024, 1024))
            .Concat(Enumerable.Range(0, 600).Select(i => (int)((long)_dump.Length * i / 600)))
            .Where(o => o >= 0 && o < _dump.Length).Distinct();
        foreach (int length in offsets)
        {
            foreach (bool verify in new[] { true, false })
            {
                var error = Assert.Throws<RdbFormatException>(() => Load(_dump[..length], verify));
                Assert.False(string.IsNullOrEmpty(error.Message));
            }
        }
    }

    [Fact]
    public void Flipped_bytes_are_refused_when_the_checksum_is_verified()
    {
        var random = new Random(1234);
        for (int i = 0; i < 3000; i++)
        {
            var damaged = (byte[])_dump.Clone();
            int position = i < 600 ? i : random.Next(damaged.Length);
            damaged[position] ^= (byte)(1 << random.Next(8));
            var error = Record.Exception(() => Load(damaged, verifyChecksum: true));
            Assert.True(error is RdbFormatException, $"flip at {position} to {damaged[position]:x2}: {error}");
        }
    }

    /// <summary>Without the checksum a flip inside a value may go unnoticed; anything else is a format error, never a crash.</summary>
    [Fact]
    public void Flipped_bytes_without_the_checksum_load_or_are_refused()
    {
        var random = new Random(99);
        int refused = 0;
        for (int i = 0; i < 3000; i++)
        {
            var damaged = (byte[])_dump.Clone();
            int flips = 1 + random.Next(3);
            for (int f = 0; f < flips; f++) damaged[random.Next(damaged.Length - 8)] = (byte)random.Next(256);
            try
            {
                Load(damaged, verifyChecksum: false);
            }
            catch (RdbFormatException)
            {
                refused++;
            }
        }
        Assert.True(refused > 0);
    }
}
