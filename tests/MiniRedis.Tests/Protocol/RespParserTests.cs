using System.Buffers;
using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Tests.Protocol;

/// <summary>
/// RespParser fed as a PipeReader loop feeds it: whatever has arrived, as a multi-segment
/// sequence, re-offered from the first unconsumed byte after every read.
/// </summary>
public sealed class RespParserTests
{
    const long MaxBulk = 512L * 1024 * 1024;

    sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is null) return;
            RunningIndex = previous.RunningIndex + previous.Memory.Length;
            previous.Next = this;
        }
    }

    static ReadOnlySequence<byte> Join(IReadOnlyList<ReadOnlyMemory<byte>> chunks)
    {
        var parts = chunks.Where(c => !c.IsEmpty).ToList();
        if (parts.Count == 0) return ReadOnlySequence<byte>.Empty;
        Segment first = new(parts[0], null), last = first;
        foreach (var part in parts.Skip(1)) last = new Segment(part, last);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    sealed record Outcome(List<string[]> Commands, string? Error, int UnconsumedBytes);

    /// <summary>Delivers <paramref name="arrivals"/> one by one and collects every command parsed.</summary>
    static Outcome Feed(IEnumerable<byte[]> arrivals, int maxArenaBytes = 1 << 20, long maxBulk = MaxBulk)
    {
        var commands = new List<string[]>();
        var batch = new CommandBatch();
        var pending = new List<ReadOnlyMemory<byte>>();
        foreach (var arrival in arrivals)
        {
            pending.Add(arrival);
            var buffer = Join(pending);
            while (!buffer.IsEmpty)
            {
                batch.Clear();
                var consumed = RespParser.Parse(buffer, batch, maxBulk, maxArenaBytes);
                buffer = buffer.Slice(consumed);
                for (int c = 0; c < batch.Count; c++)
                {
                    var args = batch[c];
                    commands.Add(Enumerable.Range(0, args.Count).Select(i => Encoding.Latin1.GetString(args[i])).ToArray());
                }
                if (batch.ProtocolError is not null) return new Outcome(commands, batch.ProtocolError, (int)buffer.Length);
                if (batch.Count == 0) break;
            }
            // What is left keeps its segment boundaries, as a pipe's unconsumed buffers do.
            pending = [];
            foreach (var memory in buffer) pending.Add(memory);
        }
        return new Outcome(commands, null, pending.Sum(m => m.Length));
    }

    static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    /// <summary>The input split in two at every position, then delivered one byte at a time.</summary>
    static IEnumerable<byte[][]> Deliveries(byte[] input)
    {
        for (int split = 0; split <= input.Length; split++) yield return [input[..split], input[split..]];
        yield return input.Select(b => new[] { b }).ToArray();
    }

    static void AssertParsesAtEverySplit(string input, params string[][] expected)
    {
        foreach (var delivery in Deliveries(Bytes(input)))
        {
            var outcome = Feed(delivery);
            var split = string.Join(" | ", delivery.Select(d => d.Length));
            Assert.Null(outcome.Error);
            Assert.Equal(0, outcome.UnconsumedBytes);
            Assert.True(expected.Length == outcome.Commands.Count, $"split {split}: {outcome.Commands.Count} commands");
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], outcome.Commands[i]);
        }
    }

    [Fact]
    public void Multibulk_commands_parse_whatever_the_packet_boundaries()
    {
        AssertParsesAtEverySplit(
            "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*1\r\n$4\r\nPING\r\n",
            ["SET", "key", "value"], ["PING"]);
    }

    [Fact]
    public void Bulk_payloads_are_binary_safe()
    {
        AssertParsesAtEverySplit(
            "*2\r\n$4\r\nECHO\r\n$6\r\na\r\n\0\xff*\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n",
            ["ECHO", "a\r\n\0\xff*"], ["GET", ""]);
    }

    [Fact]
    public void Inline_commands_split_quotes_and_escapes_like_sdssplitargs()
    {
        AssertParsesAtEverySplit(
            "SET \"a b\" 'c\\'d' \"\\x41\\n\\t\\\"\"\r\nPING\n   ECHO   x  \r\n",
            ["SET", "a b", "c'd", "A\n\t\""], ["PING"], ["ECHO", "x"]);
    }

    [Fact]
    public void Empty_inline_lines_and_empty_multibulks_are_skipped()
    {
        AssertParsesAtEverySplit("\r\n\n   \r\n*0\r\n*-1\r\nPING\r\n\r\n*1\r\n$4\r\nPING\r\n", ["PING"], ["PING"]);
    }

    [Fact]
    public void Pipelined_inline_and_multibulk_commands_keep_their_order()
    {
        var input = new StringBuilder();
        var expected = new List<string[]>();
        for (int i = 0; i < 50; i++)
        {
            input.Append($"*3\r\n$3\r\nSET\r\n${$"k{i}".Length}\r\nk{i}\r\n$1\r\n{i % 10}\r\n");
            input.Append($"GET k{i}\r\n");
            expected.Add(["SET", $"k{i}", $"{i % 10}"]);
            expected.Add(["GET", $"k{i}"]);
        }
        var bytes = Bytes(input.ToString());
        var chunks = bytes.Chunk(7).ToArray();
        var outcome = Feed(chunks);
        Assert.Null(outcome.Error);
        Assert.Equal(expected, outcome.Commands);
        // A small arena cap spreads the same input over many batches without losing a command.
        Assert.Equal(expected, Feed([bytes], maxArenaBytes: 16).Commands);
    }

    [Fact]
    public void Incomplete_command_is_left_unconsumed()
    {
        const string partial = "*2\r\n$4\r\nECHO\r\n$10\r\nabc";
        var outcome = Feed([Bytes("PING\r\n" + partial)]);
        Assert.Equal([["PING"]], outcome.Commands);
        Assert.Null(outcome.Error);
        Assert.Equal(partial.Length, outcome.UnconsumedBytes);
    }

    public static TheoryData<string, string> MalformedInputs => new()
    {
        { "*abc\r\n", "Protocol error: invalid multibulk length" },
        { "*2147483648\r\n", "Protocol error: invalid multibulk length" },
        { "*1\r\n$abc\r\n", "Protocol error: invalid bulk length" },
        { "*1\r\n$-1\r\n", "Protocol error: invalid bulk length" },
        { "*1\r\n$536870913\r\n", "Protocol error: invalid bulk length" },
        { "*1\r\nx3\r\n", "Protocol error: expected '$', got 'x'" },
        { "SET \"abc\r\n", "Protocol error: unbalanced quotes in request" },
        { "SET 'a'b\r\n", "Protocol error: unbalanced quotes in request" },
        { new string('a', 70_000), "Protocol error: too big inline request" },
        { "*" + new string('1', 70_000), "Protocol error: too big mbulk count string" },
        { "*1\r\n$" + new string('1', 70_000), "Protocol error: too big bulk count string" },
    };

    [Theory]
    [MemberData(nameof(MalformedInputs))]
    public void Malformed_input_after_good_commands_reports_Redis_error(string malformed, string error)
    {
        var input = Bytes("*1\r\n$4\r\nPING\r\nECHO ok\r\n" + malformed);
        // Small chunks, but few enough that re-parsing a 70 KB line stays cheap.
        foreach (var delivery in new[] { [input], input.Chunk(Math.Max(5, input.Length / 100)).ToArray() })
        {
            var outcome = Feed(delivery);
            Assert.Equal(error, outcome.Error);
            Assert.Equal([["PING"], ["ECHO", "ok"]], outcome.Commands);
        }
    }

    [Fact]
    public void Announced_bulk_within_the_limit_waits_for_its_bytes()
    {
        var outcome = Feed([Bytes("*1\r\n$104857600\r\nabc")]);
        Assert.Null(outcome.Error);
        Assert.Empty(outcome.Commands);
    }

    [Fact]
    public void Bulk_length_limit_is_the_configured_one()
    {
        Assert.Equal("Protocol error: invalid bulk length", Feed([Bytes("*1\r\n$11\r\n")], maxBulk: 10).Error);
        Assert.Equal([["0123456789"]], Feed([Bytes("*1\r\n$10\r\n0123456789\r\n")], maxBulk: 10).Commands);
    }
}
