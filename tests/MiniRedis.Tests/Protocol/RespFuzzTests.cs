using System.Net.Sockets;
using System.Text;
using MiniRedis.Tests.Support;
using Xunit.Abstractions;

namespace MiniRedis.Tests.Protocol;

/// <summary>
/// Random and mutated RESP traffic (valid commands, truncated frames, bad lengths, NULs, CR/LF in
/// odd places, inline junk) split at random points over several connections. After every burst the
/// server must still answer PING on a fresh connection and its resident memory stay bounded.
/// Seeded: set MINIREDIS_FUZZ_SEED to replay a failing run.
/// </summary>
[Trait("Category", "Process")]
public sealed class RespFuzzTests(MiniRedisFixture fixture, ITestOutputHelper output) : IClassFixture<MiniRedisFixture>
{
    const int Bursts = 25;
    const int ConnectionsPerBurst = 4;
    const int FramesPerConnection = 24;
    const long MaxRssGrowth = 256L * 1024 * 1024;

    [Fact]
    public void Server_survives_random_and_mutated_frames_with_bounded_memory()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("MINIREDIS_FUZZ_SEED"), out var s) ? s : 20261206;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var server = fixture.Server;
        using (var warm = server.Connect()) warm.Call("PING");
        long baseline = server.ResidentBytes();

        for (int burst = 0; burst < Bursts; burst++)
        {
            var connections = Enumerable.Range(0, ConnectionsPerBurst).Select(_ => server.Connect()).ToList();
            try
            {
                // Interleave the connections' pieces so the server sees them all at once.
                var pieces = connections.Select(_ => Pieces(random, Stream(random))).ToList();
                for (int step = 0; pieces.Any(p => step < p.Count); step++)
                {
                    for (int c = 0; c < connections.Count; c++)
                    {
                        if (step < pieces[c].Count) TrySend(connections[c], pieces[c][step]);
                    }
                }
            }
            finally
            {
                foreach (var connection in connections) connection.Dispose();
            }

            using var check = server.Connect();
            var context = $"seed {seed}, burst {burst}";
            Assert.True(Encoding.Latin1.GetString(check.Call("PING")) == "+PONG\r\n", context);
            long growth = server.ResidentBytes() - baseline;
            Assert.True(growth < MaxRssGrowth, $"{context}: RSS grew by {growth / 1024 / 1024} MB");
        }
    }

    /// <summary>The server may close a connection on a protocol error; later pieces are then refused.</summary>
    static void TrySend(RespConnection connection, byte[] piece)
    {
        try
        {
            connection.Send(piece);
        }
        catch (SocketException)
        {
            // Closed by the server after its error reply: expected.
        }
    }

    static byte[] Stream(Random random)
    {
        var stream = new MemoryStream();
        for (int i = 0; i < FramesPerConnection; i++) stream.Write(Frame(random));
        return stream.ToArray();
    }

    /// <summary>The stream cut at random points (sometimes a byte at a time), as packets arrive.</summary>
    static List<byte[]> Pieces(Random random, byte[] stream)
    {
        var pieces = new List<byte[]>();
        for (int pos = 0; pos < stream.Length;)
        {
            int length = Math.Min(stream.Length - pos, random.Next(4) == 0 ? 1 : random.Next(1, 512));
            pieces.Add(stream[pos..(pos + length)]);
            pos += length;
        }
        return pieces;
    }

    static readonly string[][] Commands =
    [
        ["PING"], ["ECHO", "*"], ["SET", "k", "*"], ["GET", "k"], ["DEL", "k", "l"], ["RPUSH", "l", "*", "*", "*"],
        ["LRANGE", "l", "0", "-1"], ["MSET", "a", "*", "b", "*"], ["MGET", "a", "b", "k"], ["INCR", "n"], ["HSET", "h", "*", "*"],
        ["EXISTS", "k"], ["STRLEN", "k"], ["APPEND", "k", "*"], ["CLIENT", "SETNAME", "fuzz"], ["NOSUCHCOMMAND", "*"],
    ];

    static readonly byte[] Specials = "\0\r\n*$-+: \"'\\0123456789x"u8.ToArray();

    static byte[] Frame(Random random) => random.Next(10) switch
    {
        < 4 => Multibulk(random),
        4 => Inline(random),
        5 => Truncate(random, Multibulk(random)),
        6 or 7 => Mutate(random, random.Next(2) == 0 ? Multibulk(random) : Inline(random)),
        _ => Malformed(random),
    };

    static byte[] Argument(Random random, string template)
    {
        if (template != "*") return Encoding.Latin1.GetBytes(template);
        var value = new byte[random.Next(4) == 0 ? random.Next(1000, 20_000) : random.Next(0, 16)];
        for (int i = 0; i < value.Length; i++) value[i] = random.Next(3) == 0 ? Specials[random.Next(Specials.Length)] : (byte)random.Next(256);
        return value;
    }

    static byte[] Multibulk(Random random)
    {
        var command = Commands[random.Next(Commands.Length)];
        return RespConnection.EncodeCommand(command.Select(a => Argument(random, a)).ToList());
    }

    static byte[] Inline(Random random)
    {
        var command = Commands[random.Next(Commands.Length)];
        var words = command.Select(a => a == "*" ? random.Next(3) switch { 0 => "\"q \\x41\\n\"", 1 => "'s q'", _ => "w" + random.Next(100) } : a);
        return Encoding.Latin1.GetBytes(string.Join(' ', words) + (random.Next(2) == 0 ? "\r\n" : "\n"));
    }

    static byte[] Truncate(Random random, byte[] frame) => frame[..random.Next(frame.Length)];

    static byte[] Mutate(Random random, byte[] frame)
    {
        var bytes = frame.ToList();
        for (int n = random.Next(1, 4); n > 0 && bytes.Count > 0; n--)
        {
            int at = random.Next(bytes.Count);
            byte special = Specials[random.Next(Specials.Length)];
            switch (random.Next(3))
            {
                case 0: bytes[at] = special; break;
                case 1: bytes.Insert(at, special); break;
                default: bytes.RemoveAt(at); break;
            }
        }
        return bytes.ToArray();
    }

    static readonly string[] MalformedFrames =
    [
        "*1\r\n\r\n", "\0\r\n", "PING\0\r\n", "*1\r\n$4\0\r\nPING\r\n", "*-1\r\n", "*0\r\n", "*abc\r\n", "*2147483648\r\n",
        "*1\r\n$-5\r\n", "*1\r\n$99999999999\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\nxyz", "*1\r\nx4\r\nPING\r\n",
        "\r\n", "\n\n\n", "*1\r\n$4\rXPING\r\n", "SET \"abc\r\n", "SET 'a'b\r\n", "*5\r\n$4\r\nPING\r\n",
    ];

    static byte[] Malformed(Random random) => Encoding.Latin1.GetBytes(MalformedFrames[random.Next(MalformedFrames.Length)]);
}
