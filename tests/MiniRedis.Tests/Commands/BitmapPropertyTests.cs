using System.Numerics;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// Random SETBIT / BITFIELD / BITOP / BITCOUNT / BITPOS / GETBIT sequences (fixed seeds): every reply must
/// equal real Redis 7.0.15's byte for byte, and agree with an in-test model that computes fields with
/// unbounded integers (wrap = modulo, sat = clamp, fail = nil, plus Redis's one quirk, spelled out), so a bug
/// shared by both implementations of the overflow checks would still show; the strings must match the model
/// after every step.
/// </summary>
[Trait("Category", "Differential")]
public sealed class BitmapPropertyTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    static readonly string[] Keys = ["b1", "b2", "b3"];
    const int Steps = 1500;

    /// <summary>One step: the command, and the reply the model predicts (applying the command to itself).</summary>
    sealed record Step(string[] Args, Func<string> Apply);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_bit_sequences_match_real_redis_and_the_model(int seed)
    {
        var random = new Random(seed);
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        redis.Call("FLUSHALL");
        mini.Call("FLUSHALL");
        var model = Keys.ToDictionary(k => k, _ => (byte[]?)null);

        for (int step = 0; step < Steps; step++)
        {
            var command = Next(random, model);
            var args = command.Args.Select(Encoding.Latin1.GetBytes).ToList();
            string text = string.Join(' ', command.Args);
            var expected = Call(redis, args).Text;
            var actual = Call(mini, args).Text;
            Assert.True(expected == actual, $"seed {seed} step {step}: {text}\n  redis: {Escape(expected)}\n  mini:  {Escape(actual)}");
            var predicted = command.Apply();
            Assert.True(predicted == actual, $"seed {seed} step {step}: {text}\n  model: {Escape(predicted)}\n  mini:  {Escape(actual)}");
            foreach (var key in Keys)
            {
                var value = Call(mini, ["GET"u8.ToArray(), Encoding.Latin1.GetBytes(key)]).Text;
                Assert.True(Bulk(model[key]) == value, $"seed {seed} step {step}: {text}\n  {key} is {Escape(value)}, model {Escape(Bulk(model[key]))}");
            }
        }
    }

    static RespNode Call(RespConnection connection, IReadOnlyList<byte[]> args)
    {
        connection.Send(RespConnection.EncodeCommand(args));
        return connection.ReadReply();
    }

    static string Escape(string reply) => RespConnection.Escape(Encoding.Latin1.GetBytes(reply));

    static string Bulk(byte[]? value) => value is null ? "$-1\r\n" : $"${value.Length}\r\n{Encoding.Latin1.GetString(value)}\r\n";

    static string Integer(BigInteger value) => $":{value}\r\n";

    static Step Next(Random random, Dictionary<string, byte[]?> model)
    {
        string key = Keys[random.Next(Keys.Length)];
        switch (random.Next(10))
        {
            case 0:
            case 1:
            {
                long offset = random.Next(random.Next(4) == 0 ? 2000 : 120);
                int bit = random.Next(2);
                return new Step(["SETBIT", key, offset.ToString(), bit.ToString()], () =>
                {
                    var value = Grow(model, key, offset);
                    int old = GetBit(value, offset);
                    SetBit(value, offset, bit);
                    return Integer(old);
                });
            }
            case 2:
            {
                long offset = random.Next(300);
                return new Step(["GETBIT", key, offset.ToString()], () => Integer(GetBit(model[key], offset)));
            }
            case 3:
            case 4:
            case 5:
                return NextBitfield(random, model, key);
            case 6:
            {
                string[] ops = ["AND", "OR", "XOR", "NOT"];
                string op = ops[random.Next(ops.Length)];
                string dest = Keys[random.Next(Keys.Length)];
                var sources = op == "NOT" ? [Keys[random.Next(Keys.Length)]] : Enumerable.Range(0, 1 + random.Next(3)).Select(_ => random.Next(5) == 0 ? "missing" : Keys[random.Next(Keys.Length)]).ToArray();
                return new Step(["BITOP", op, dest, .. sources], () =>
                {
                    var inputs = sources.Select(s => model.GetValueOrDefault(s) ?? []).ToList();
                    int length = inputs.Max(i => i.Length);
                    var result = new byte[length];
                    for (int i = 0; i < length; i++)
                    {
                        int acc = At(inputs[0], i);
                        if (op == "NOT") acc = ~acc;
                        foreach (var input in inputs.Skip(1))
                            acc = op switch { "AND" => acc & At(input, i), "OR" => acc | At(input, i), _ => acc ^ At(input, i) };
                        result[i] = (byte)acc;
                    }
                    model[dest] = length == 0 ? null : result;
                    return Integer(length);
                });
            }
            case 7:
            {
                var (range, unitBits) = Range(random, allowOpenEnd: false);
                return new Step(["BITCOUNT", key, .. range], () =>
                {
                    var value = model[key];
                    if (value is null) return Integer(0);
                    var (first, last) = Resolve(value, range, unitBits);
                    long count = 0;
                    for (long b = first; b <= last; b++) count += GetBit(value, b);
                    return Integer(count);
                });
            }
            case 8:
            {
                int bit = random.Next(2);
                var (range, unitBits) = Range(random, allowOpenEnd: true);
                return new Step(["BITPOS", key, bit.ToString(), .. range], () =>
                {
                    var value = model[key];
                    if (value is null) return Integer(bit == 1 ? -1 : 0);
                    var (first, last) = Resolve(value, range, unitBits);
                    if (first > last) return Integer(-1);
                    for (long b = first; b <= last; b++)
                        if (GetBit(value, b) == bit) return Integer(b);
                    // Without an explicit end, the zeros continue past the string.
                    return Integer(bit == 0 && range.Length < 2 ? last + 1 : -1);
                });
            }
            default:
                return new Step(["STRLEN", key], () => Integer(model[key]?.Length ?? 0));
        }
    }

    /// <summary>A BITFIELD of one to four operations with random types, offsets (plain or #), values and OVERFLOW modes.</summary>
    static Step NextBitfield(Random random, Dictionary<string, byte[]?> model, string key)
    {
        var args = new List<string> { "BITFIELD", key };
        var ops = new List<(string Op, bool Signed, int Bits, long Offset, long Value, string Overflow)>();
        string overflow = "WRAP";
        int count = 1 + random.Next(4);
        for (int i = 0; i < count; i++)
        {
            if (random.Next(3) == 0)
            {
                overflow = new[] { "WRAP", "SAT", "FAIL" }[random.Next(3)];
                args.AddRange(["OVERFLOW", overflow]);
            }
            bool signed = random.Next(2) == 0;
            int bits = random.Next(4) == 0 ? (signed ? 64 : 63) - random.Next(3) : 1 + random.Next(signed ? 64 : 63);
            long offset;
            string offsetText;
            if (random.Next(3) == 0)
            {
                int index = random.Next(6);
                offset = (long)index * bits;
                offsetText = "#" + index;
            }
            else
            {
                offset = random.Next(200);
                offsetText = offset.ToString();
            }
            string op = new[] { "GET", "SET", "INCRBY" }[random.Next(3)];
            long value = random.Next(5) switch
            {
                0 => random.NextInt64(),
                1 => -random.NextInt64(),
                2 => random.Next(2) == 0 ? long.MaxValue : long.MinValue,
                _ => random.Next(-300, 300),
            };
            args.AddRange([op, (signed ? "i" : "u") + bits, offsetText]);
            if (op != "GET") args.Add(value.ToString());
            ops.Add((op, signed, bits, offset, value, overflow));
        }
        return new Step([.. args], () =>
        {
            var writes = ops.Where(o => o.Op != "GET").ToList();
            // The string is grown to the farthest written bit before any operation runs, whatever they do.
            if (writes.Count > 0) Grow(model, key, writes.Max(o => o.Offset + o.Bits - 1));
            var value = model[key];
            var reply = new StringBuilder($"*{ops.Count}\r\n");
            foreach (var o in ops)
            {
                BigInteger old = ReadField(value, o.Offset, o.Bits, o.Signed);
                if (o.Op == "GET")
                {
                    reply.Append(Integer(old));
                    continue;
                }
                BigInteger min = o.Signed ? -(BigInteger.One << (o.Bits - 1)) : 0;
                BigInteger max = o.Signed ? (BigInteger.One << (o.Bits - 1)) - 1 : (BigInteger.One << o.Bits) - 1;
                // An unsigned SET takes the value as Redis does, as a 64-bit unsigned number.
                BigInteger wanted = o.Op == "INCRBY" ? old + o.Value : o.Signed ? o.Value : (BigInteger)(ulong)o.Value;
                BigInteger stored = wanted;
                // Redis's quirk: a signed SET far below the range (max - value past 2^63) is taken as an overflow
                // upwards, its int64 "max - value" having wrapped: SAT stores the maximum, not the minimum.
                bool wrappedCheck = o.Op == "SET" && o.Signed && o.Bits < 64 && max - wanted > long.MaxValue;
                if (wanted < min || wanted > max)
                {
                    if (o.Overflow == "FAIL")
                    {
                        reply.Append("$-1\r\n");
                        continue;
                    }
                    stored = o.Overflow == "SAT" ? (wrappedCheck ? max : BigInteger.Clamp(wanted, min, max)) : Wrap(wanted, o.Bits, o.Signed);
                }
                WriteField(value!, o.Offset, o.Bits, stored);
                reply.Append(Integer(o.Op == "SET" ? old : stored));
            }
            return reply.ToString();
        });
    }

    static BigInteger Wrap(BigInteger value, int bits, bool signed)
    {
        var modulus = BigInteger.One << bits;
        var low = ((value % modulus) + modulus) % modulus;
        return signed && low >= modulus / 2 ? low - modulus : low;
    }

    static BigInteger ReadField(byte[]? value, long offset, int bits, bool signed)
    {
        BigInteger field = 0;
        for (int i = 0; i < bits; i++) field = (field << 1) | GetBit(value, offset + i);
        return signed && field >= (BigInteger.One << (bits - 1)) ? field - (BigInteger.One << bits) : field;
    }

    static void WriteField(byte[] value, long offset, int bits, BigInteger field)
    {
        var unsigned = field < 0 ? field + (BigInteger.One << bits) : field;
        for (int i = 0; i < bits; i++) SetBit(value, offset + i, (int)((unsigned >> (bits - 1 - i)) & 1));
    }

    /// <summary>A random [start end [BYTE|BIT]] (or [start] alone for BITPOS), and whether it counts bits.</summary>
    static (string[] Args, bool Bits) Range(Random random, bool allowOpenEnd)
    {
        int shape = random.Next(allowOpenEnd ? 5 : 4);
        string Index() => random.Next(-40, 60).ToString();
        return shape switch
        {
            0 => ([], false),
            1 => ([Index(), Index()], false),
            2 => ([Index(), Index(), "BYTE"], false),
            3 => ([Index(), Index(), "BIT"], true),
            _ => ([Index()], false),
        };
    }

    /// <summary>The inclusive bit range a [start end [unit]] selects in <paramref name="value"/>, Redis's way (negative from the end, clamped).</summary>
    static (long First, long Last) Resolve(byte[] value, string[] range, bool bits)
    {
        long total = bits ? value.Length * 8L : value.Length;
        if (range.Length == 0) return (0, value.Length * 8L - 1);
        long start = long.Parse(range[0]);
        long end = range.Length > 1 ? long.Parse(range[1]) : total - 1;
        // BITCOUNT answers 0 for two negative indexes in the wrong order; BITPOS's clamping ends up empty too.
        if (range.Length > 1 && start < 0 && end < 0 && start > end) return (0, -1);
        if (start < 0) start += total;
        if (end < 0) end += total;
        start = Math.Max(start, 0);
        end = Math.Min(Math.Max(end, 0), total - 1);
        if (start > end) return (0, -1);
        return bits ? (start, end) : (start * 8, end * 8 + 7);
    }

    static int At(byte[] value, int index) => index < value.Length ? value[index] : 0;

    static int GetBit(byte[]? value, long offset)
        => value is not null && offset / 8 < value.Length ? (value[offset / 8] >> (7 - (int)(offset % 8))) & 1 : 0;

    static void SetBit(byte[] value, long offset, int bit)
    {
        int shift = 7 - (int)(offset % 8);
        value[offset / 8] = (byte)((value[offset / 8] & ~(1 << shift)) | (bit << shift));
    }

    /// <summary>The key's string, created or zero-extended so bit <paramref name="maxBit"/> exists.</summary>
    static byte[] Grow(Dictionary<string, byte[]?> model, string key, long maxBit)
    {
        long length = maxBit / 8 + 1;
        var value = model[key] ?? [];
        if (value.Length < length) Array.Resize(ref value, (int)length);
        model[key] = value;
        return value;
    }
}
