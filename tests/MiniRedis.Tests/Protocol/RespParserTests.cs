using System.Buffers;
using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Tests.Protocol;

/// <summary>
/// RespParser fed as a PipeReader loop feeds it: whatever has arrived, as a multi-segment
/// sequence, re-offered from the first unconsumed byte after every read.
/// </summary>
[Trait("Category", "Unit")]
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

    /// <param name="OpenCommand">A command is still open in the batch, its finished arguments consumed.</param>
    /// <param name="MostUnconsumedBytes">The most bytes left in the pipe after any parse.</param>
    sealed record Outcome(List<string[]> Commands, string? Error, int UnconsumedBytes, bool OpenCommand, long MostUnconsumedBytes);

    static string[] Strings(ArgVector args) => Enumerable.Range(0, args.Count).Select(i => Encoding.Latin1.GetString(args[i])).ToArray();

    /// <summary>
    /// Delivers <paramref name="arrivals"/> one by one and collects every command parsed, keeping the
    /// batch across reads while it holds only an open command, as ClientConnection does.
    /// </summary>
    static Outcome Feed(IEnumerable<byte[]> arrivals, int maxArenaBytes = 1 << 20, long maxBulk = MaxBulk, bool unauthenticated = false)
    {
        var limits = new ParseLimits(maxBulk, maxArenaBytes, unauthenticated);
        var commands = new List<string[]>();
        var batch = new CommandBatch();
        var pending = new List<ReadOnlyMemory<byte>>();
        long mostUnconsumed = 0;
        foreach (var arrival in arrivals)
        {
            pending.Add(arrival);
            var buffer = Join(pending);
            while (!buffer.IsEmpty)
            {
                var consumed = RespParser.Parse(buffer, batch, limits);
                buffer = buffer.Slice(consumed);
                mostUnconsumed = Math.Max(mostUnconsumed, buffer.Length);
                for (int c = 0; c < batch.Count; c++) commands.Add(Strings(batch[c]));
                if (batch.ProtocolError is not null) return new Outcome(commands, batch.ProtocolError, (int)buffer.Length, false, mostUnconsumed);
                if (batch.Count == 0) break;
                batch.Clear();
            }
            // What is left keeps its segment boundaries, as a pipe's unconsumed buffers do.
            pending = [];
            foreach (var memory in buffer) pending.Add(memory);
        }
        return new Outcome(commands, null, pending.Sum(m => m.Length), batch.HasOpenCommand, mostUnconsumed);
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
    public void Incomplete_command_keeps_its_finished_arguments_and_leaves_only_the_rest_in_the_pipe()
    {
        const string partial = "*2\r\n$4\r\nECHO\r\n$10\r\nabc";
        var outcome = Feed([Bytes("PING\r\n" + partial)]);
        Assert.Equal([["PING"]], outcome.Commands);
        Assert.Null(outcome.Error);
        Assert.True(outcome.OpenCommand);
        // "*2", ECHO and "$10" are parsed and consumed; only the unfinished payload waits.
        Assert.Equal("abc".Length, outcome.UnconsumedBytes);

        var finished = Feed([Bytes("PING\r\n" + partial), Bytes("defghij\r\nPING\r\n")]);
        Assert.Equal([["PING"], ["ECHO", "abcdefghij"], ["PING"]], finished.Commands);
        Assert.False(finished.OpenCommand);
    }

    [Fact]
    public void Big_command_arriving_in_pieces_is_resumed_not_parsed_again()
    {
        var args = new[] { "RPUSH", "list" }.Concat(Enumerable.Range(0, 5000).Select(i => $"v{i % 10}")).ToArray();
        var input = Bytes($"PING\r\n*{args.Length}\r\n" + string.Concat(args.Select(a => $"${a.Length}\r\n{a}\r\n")) + "PING\r\n");
        var outcome = Feed(input.Chunk(100));
        Assert.Null(outcome.Error);
        Assert.Equal([["PING"], args, ["PING"]], outcome.Commands);
        Assert.Equal(0, outcome.UnconsumedBytes);
        // Each piece's finished arguments leave the pipe at once: never more than a piece waits.
        Assert.True(outcome.MostUnconsumedBytes < 100, $"{outcome.MostUnconsumedBytes} bytes left unconsumed");
    }

    [Fact]
    public void Big_bulk_waits_in_the_pipe_after_its_length_line_is_consumed()
    {
        var value = new string('x', 50_000);
        var input = Bytes($"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${value.Length}\r\n{value}\r\n");
        var outcome = Feed(input.Chunk(4096));
        Assert.Equal([["SET", "k", value]], outcome.Commands);
        var waiting = Feed([input[..^10]]);
        Assert.True(waiting.OpenCommand);
        Assert.Equal(value.Length - 8, waiting.UnconsumedBytes);
    }

    [Fact]
    public void Line_with_a_NUL_before_its_end_stays_incomplete_like_Redis_strchr()
    {
        foreach (var input in new[] { "\0\r\n", "PING\0\r\nPING\r\n", "*1\0\r\n$4\r\nPING\r\n" })
        {
            var outcome = Feed([Bytes(input)]);
            Assert.Null(outcome.Error);
            Assert.Empty(outcome.Commands);
            Assert.Equal(input.Length, outcome.UnconsumedBytes);
        }
        var bulkLine = Feed([Bytes("*1\r\n$4\0\r\nPING\r\n")]);
        Assert.Empty(bulkLine.Commands);
        Assert.Equal("$4\0\r\nPING\r\n".Length, bulkLine.UnconsumedBytes);
        // Redis keeps waiting until the rest passes its line limit.
        Assert.Equal("Protocol error: too big inline request", Feed([Bytes("\0\r\n" + new string('a', 70_000))]).Error);
        Assert.Null(Feed([Bytes("\0\r\n" + new string('a', 60_000))]).Error);
    }

    [Fact]
    public void Unauthenticated_client_gets_Redis_small_limits()
    {
        var eleven = "*11\r\n" + string.Concat(Enumerable.Repeat("$1\r\na\r\n", 11));
        var bigBulk = $"*2\r\n$4\r\nAUTH\r\n$16385\r\n{new string('p', 16385)}\r\n";
        Assert.Equal("Protocol error: unauthenticated multibulk length", Feed([Bytes(eleven)], unauthenticated: true).Error);
        Assert.Equal("Protocol error: unauthenticated bulk length", Feed([Bytes(bigBulk)], unauthenticated: true).Error);
        Assert.Equal("Protocol error: invalid multibulk length", Feed([Bytes("*11x\r\n")], unauthenticated: true).Error);
        Assert.Null(Feed([Bytes("*-11\r\n")], unauthenticated: false).Error);

        var ten = "*10\r\n" + string.Concat(Enumerable.Repeat("$16384\r\n" + new string('a', 16384) + "\r\n", 10));
        Assert.Single(Feed([Bytes(ten)], unauthenticated: true).Commands);
        Assert.Single(Feed([Bytes(eleven)]).Commands);
        Assert.Single(Feed([Bytes(bigBulk)]).Commands);
    }

    [Fact]
    public void Unauthenticated_batch_holds_one_command_so_AUTH_runs_before_the_next_is_checked()
    {
        var batch = new CommandBatch();
        var input = new ReadOnlySequence<byte>(Bytes("AUTH pw\r\nPING\r\n"));
        var consumed = RespParser.Parse(input, batch, new ParseLimits(MaxBulk, 1 << 20, Unauthenticated: true));
        Assert.Equal(1, batch.Count);
        Assert.Equal(["AUTH", "pw"], Strings(batch[0]));
        Assert.Equal("PING\r\n".Length, input.Slice(consumed).Length);
    }

    [Fact]
    public void Empty_bulk_length_line_is_Redis_expected_dollar_error()
    {
        // Redis shows the '\r' it found; the reply writer turns it into a space.
        Assert.Equal("Protocol error: expected '$', got '\r'", Feed([Bytes("*1\r\n\r\n")]).Error);
        Assert.Equal("Protocol error: invalid bulk length", Feed([Bytes("*1\r\n$\r\n")]).Error);
    }

    [Fact]
    public void Open_command_dropped_on_a_protocol_error_keeps_the_commands_before_it()
    {
        var outcome = Feed([Bytes("PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk"), Bytes("\r\nx1\r\n")]);
        Assert.Equal([["PING"]], outcome.Commands);
        Assert.Equal("Protocol error: expected '$', got 'x'", outcome.Error);
    }

    [Fact]
    public void A_new_batch_holds_no_arrays_until_its_first_command()
    {
        // Every connection makes two batches; an idle one (or one that never pipelines) must not pay for them.
        GC.KeepAlive(new CommandBatch());
        long before = GC.GetAllocatedBytesForCurrentThread();
        var batch = new CommandBatch();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 256, $"a new batch allocated {allocated} bytes");
        GC.KeepAlive(batch);
    }

    [Fact]
    public void A_released_batch_parses_again_as_a_new_one()
    {
        var batch = new CommandBatch();
        var limits = new ParseLimits(MaxBulk, 1 << 20, Unauthenticated: false);
        var input = new ReadOnlySequence<byte>(Bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\nPING\r\n"));
        RespParser.Parse(input, batch, limits);
        batch.Release();
        Assert.Equal(0, batch.Count);
        Assert.Equal(0, batch.ArenaBytes);
        RespParser.Parse(input, batch, limits);
        Assert.Equal(2, batch.Count);
        Assert.Equal(["SET", "k", "value"], Strings(batch[0]));
        Assert.Equal(["PING"], Strings(batch[1]));
    }

    [Fact]
    public void Small_commands_parse_without_allocating_once_the_batch_has_grown()
    {
        var input = new StringBuilder();
        for (int i = 0; i < 200; i++) input.Append($"*3\r\n$3\r\nSET\r\n$6\r\nkey:{i % 100:D2}\r\n$5\r\nvalue\r\n*2\r\n$3\r\nGET\r\n$6\r\nkey:{i % 100:D2}\r\n");
        var bytes = Bytes(input.ToString());
        // Segments of 7 bytes put length lines across segment boundaries too.
        var whole = Join(bytes.Chunk(7).Select(c => (ReadOnlyMemory<byte>)c).ToList());
        var halves = new[] { whole.Slice(0, bytes.Length / 2 + 3), whole.Slice(bytes.Length / 2 + 3) };
        var batch = new CommandBatch();
        var limits = new ParseLimits(MaxBulk, 1 << 20, Unauthenticated: false);

        long ParseInTwoReads()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            batch.Clear();
            // The first half ends inside a command, which stays open and is resumed by the second.
            var consumed = RespParser.Parse(halves[0], batch, limits);
            int parsed = batch.Count;
            var rest = whole.Slice(halves[0].Slice(0, consumed).Length);
            batch.Clear();
            RespParser.Parse(rest, batch, limits);
            parsed += batch.Count;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(400, parsed);
            return allocated;
        }

        ParseInTwoReads();
        Assert.Equal(0, ParseInTwoReads());
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

    /// <summary>
    /// A command wholly inside one pipe segment takes the parser's span path; delivered a byte at a time
    /// it never can. Random pipelines of well-formed and mutated commands (signs, leading zeros, NULs,
    /// wrong markers, lengths past the limit, cut short) give the same commands, error and unconsumed
    /// bytes (when no error) both ways.
    /// </summary>
    [Fact]
    public void The_span_path_and_the_segmented_path_agree_on_random_and_mutated_commands()
    {
        var random = new Random(20261207);
        string[] mutations = ["", "+", "-", "0", "00", " ", "\0", "x", "\r", "\n", "99999999999999999999"];
        for (int round = 0; round < 2000; round++)
        {
            var input = new StringBuilder();
            int commands = random.Next(1, 5);
            for (int c = 0; c < commands; c++)
            {
                var args = Enumerable.Range(0, random.Next(1, 4)).Select(_ => new string('a', random.Next(0, 12))).ToList();
                var frame = new StringBuilder($"*{args.Count}\r\n");
                foreach (var arg in args) frame.Append($"${arg.Length}\r\n{arg}\r\n");
                var text = frame.ToString();
                if (random.Next(4) == 0)
                {
                    int at = random.Next(text.Length);
                    text = text[..at] + mutations[random.Next(mutations.Length)] + text[(at + random.Next(0, 2))..];
                }
                input.Append(text);
            }
            if (random.Next(4) == 0) input.Length = random.Next(input.Length);
            var bytes = Bytes(input.ToString());
            var whole = Feed([bytes], maxBulk: 8);
            var byteByByte = Feed(bytes.Select(b => new[] { b }), maxBulk: 8);
            var context = $"round {round}: {input.ToString().Replace("\r", "\\r").Replace("\n", "\\n")}";
            Assert.True(whole.Error == byteByByte.Error, $"{context}: {whole.Error} / {byteByByte.Error}");
            // After an error the rest was never read byte by byte, so only a clean parse compares what is left.
            if (whole.Error is null) Assert.True(whole.UnconsumedBytes == byteByByte.UnconsumedBytes && whole.OpenCommand == byteByByte.OpenCommand, context);
            Assert.True(whole.Commands.Count == byteByByte.Commands.Count, context);
            for (int i = 0; i < whole.Commands.Count; i++) Assert.Equal(byteByByte.Commands[i], whole.Commands[i]);
        }
    }
}
