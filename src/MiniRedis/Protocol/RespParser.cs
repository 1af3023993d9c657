using System.Buffers;
using MiniRedis.Data;

namespace MiniRedis.Protocol;

/// <summary>
/// What a connection lets the parser accept, read afresh before every parse so that CONFIG SET
/// (proto-max-bulk-len) and AUTH apply to connections already open.
/// </summary>
/// <param name="MaxBulkLength">proto-max-bulk-len.</param>
/// <param name="MaxBatchBytes">No new command is started once a batch holds this many argument bytes.</param>
/// <param name="Unauthenticated">The client must still AUTH: Redis's small limits apply (CVE-2021-32675).</param>
public readonly record struct ParseLimits(long MaxBulkLength, int MaxBatchBytes, bool Unauthenticated)
{
    public const int UnauthenticatedMaxArguments = 10;
    public const int UnauthenticatedMaxBulkLength = 16 * 1024;
}

/// <summary>
/// Parses RESP2 multibulk and inline commands straight from a connection's pipe buffers into a
/// <see cref="CommandBatch"/>, as Redis's processMultibulkBuffer/processInlineBuffer do.
/// A multibulk command that is the first of its batch is parsed as far as its bytes go: its finished
/// arguments are consumed from the pipe and it stays open in the batch, to be resumed on the next
/// read, so a big command costs time linear in its size. Announced lengths are checked but never
/// pre-allocated: a bulk is copied once all its bytes are in the pipe.
/// Lines end where C's strchr would look: a NUL before the line's end hides it, so the line stays
/// incomplete (Redis then waits for more data until the line limit is passed).
/// </summary>
public static class RespParser
{
    /// <summary>Redis's PROTO_INLINE_MAX_SIZE: the longest line before a newline must appear.</summary>
    public const int InlineMaxSize = 64 * 1024;

    /// <summary>
    /// Room for a "*n"/"$n" line split over two pipe segments. A longer line is invalid anyway, and
    /// its first bytes are enough to say so, so such lines are parsed without allocating.
    /// </summary>
    const int LengthLineScratch = 32;

    /// <summary>
    /// Adds every complete command in <paramref name="buffer"/> to <paramref name="batch"/> (and
    /// resumes or leaves open a big first command). Returns the position after the last consumed
    /// byte. A protocol error is recorded on the batch; nothing after it is parsed.
    /// </summary>
    public static SequencePosition Parse(ReadOnlySequence<byte> buffer, CommandBatch batch, in ParseLimits limits)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (batch.HasOpenCommand && !TryReadArguments(ref reader, batch, limits)) return Stop(ref reader, batch);
        var consumed = reader.Position;
        // An unauthenticated client's next command may be AUTH, which lifts the limits for the one
        // after it: Redis runs one before parsing the next, so such a batch holds a single command.
        while (!reader.End && batch.ArenaBytes < limits.MaxBatchBytes && !(limits.Unauthenticated && batch.Count > 0))
        {
            if (!limits.Unauthenticated && TryParseMultibulkInSpan(reader.UnreadSpan, batch, limits.MaxBulkLength, out int used))
            {
                reader.Advance(used);
                consumed = reader.Position;
                continue;
            }
            var start = reader;
            bool complete = reader.IsNext((byte)'*')
                ? TryParseMultibulk(ref reader, batch, limits)
                : TryParseInline(ref reader, batch);
            if (complete)
            {
                consumed = reader.Position;
                continue;
            }
            if (batch.HasOpenCommand && batch.Count > 0 && batch.ProtocolError is null)
            {
                // Complete commands must not wait for this one: it starts the next batch instead.
                batch.DropLastCommand();
                reader = start;
            }
            return Stop(ref reader, batch);
        }
        return consumed;
    }

    /// <summary>
    /// The common case, a well-formed multibulk command wholly inside <paramref name="span"/> (one pipe
    /// segment), parsed straight from the span. Anything else (an incomplete or malformed command, a
    /// length with a sign or a leading zero, a bulk over <paramref name="maxBulkLength"/>) leaves the batch
    /// as it was and returns false: the general parser then takes the command from the same byte and
    /// says what Redis says. <paramref name="used"/> is the command's length in bytes.
    /// </summary>
    static bool TryParseMultibulkInSpan(ReadOnlySpan<byte> span, CommandBatch batch, long maxBulkLength, out int used)
    {
        used = 0;
        if (span.IsEmpty || span[0] != (byte)'*') return false;
        int pos = 1;
        if (!TryReadSpanLength(span, ref pos, out long count) || count == 0 || count > int.MaxValue) return false;
        batch.OpenCommand((int)count);
        for (long i = 0; i < count; i++)
        {
            if (pos >= span.Length || span[pos] != (byte)'$') break;
            pos++;
            if (!TryReadSpanLength(span, ref pos, out long length) || length > maxBulkLength || span.Length - pos < length + 2) break;
            span.Slice(pos, (int)length).CopyTo(batch.AddArgument((int)length));
            // Like Redis, the two bytes after the payload are skipped without being checked.
            pos += (int)length + 2;
        }
        if (batch.HasOpenCommand)
        {
            batch.DropLastCommand();
            return false;
        }
        used = pos;
        return true;
    }

    /// <summary>
    /// Digits up to a '\r' followed by one more byte (skipped unchecked, as Redis does), at most 18 of
    /// them and no leading zero unless the number is 0; <paramref name="pos"/> moves past the line.
    /// </summary>
    static bool TryReadSpanLength(ReadOnlySpan<byte> span, ref int pos, out long value)
    {
        value = 0;
        int start = pos;
        while (pos < span.Length && pos - start <= 18)
        {
            uint digit = (uint)(span[pos] - '0');
            if (digit > 9) break;
            value = value * 10 + digit;
            pos++;
        }
        int digits = pos - start;
        if (digits == 0 || digits > 18 || (digits > 1 && span[start] == (byte)'0')) return false;
        if (span.Length - pos < 2 || span[pos] != (byte)'\r') return false;
        pos += 2;
        return true;
    }

    /// <summary>Ends a parse at an incomplete command: an open command's finished arguments leave the pipe.</summary>
    static SequencePosition Stop(ref SequenceReader<byte> reader, CommandBatch batch)
    {
        if (batch.ProtocolError is not null && batch.HasOpenCommand) batch.DropLastCommand();
        return reader.Position;
    }

    static bool TryParseMultibulk(ref SequenceReader<byte> reader, CommandBatch batch, in ParseLimits limits)
    {
        Span<byte> scratch = stackalloc byte[LengthLineScratch];
        if (!TryReadLengthLine(ref reader, batch, "too big mbulk count string", out var countSequence)) return false;
        var countLine = Flatten(countSequence, scratch);
        if (!RedisNumbers.TryParseInt64(countLine.Slice(1), out long count) || count > int.MaxValue)
        {
            batch.ProtocolError = "Protocol error: invalid multibulk length";
            return false;
        }
        if (count > ParseLimits.UnauthenticatedMaxArguments && limits.Unauthenticated)
        {
            batch.ProtocolError = "Protocol error: unauthenticated multibulk length";
            return false;
        }
        if (count <= 0) return true; // Redis skips empty multibulks silently.
        batch.OpenCommand((int)count);
        return TryReadArguments(ref reader, batch, limits);
    }

    /// <summary>
    /// Reads the open command's missing arguments; false when the bytes run out (the reader then
    /// stands after the last finished argument or "$n" line) or on a protocol error.
    /// </summary>
    static bool TryReadArguments(ref SequenceReader<byte> reader, CommandBatch batch, in ParseLimits limits)
    {
        Span<byte> scratch = stackalloc byte[LengthLineScratch];
        while (batch.HasOpenCommand)
        {
            if (batch.PendingBulkLength < 0)
            {
                if (!TryReadLengthLine(ref reader, batch, "too big bulk count string", out var bulkSequence)) return false;
                var bulkLine = Flatten(bulkSequence, scratch);
                // An empty line shows Redis's '\r' there (sent as a space, as error texts never hold CR/LF).
                byte first = bulkLine.IsEmpty ? (byte)'\r' : bulkLine[0];
                if (first != (byte)'$')
                {
                    batch.ProtocolError = $"Protocol error: expected '$', got '{(char)first}'";
                    return false;
                }
                if (!RedisNumbers.TryParseInt64(bulkLine.Slice(1), out long length) || length < 0 || length > limits.MaxBulkLength)
                {
                    batch.ProtocolError = "Protocol error: invalid bulk length";
                    return false;
                }
                if (length > ParseLimits.UnauthenticatedMaxBulkLength && limits.Unauthenticated)
                {
                    batch.ProtocolError = "Protocol error: unauthenticated bulk length";
                    return false;
                }
                batch.PendingBulkLength = length;
            }
            // Like Redis, the two bytes after the payload are skipped without being checked.
            long pending = batch.PendingBulkLength;
            if (reader.Remaining < pending + 2) return false;
            reader.TryCopyTo(batch.AddArgument((int)pending));
            reader.Advance(pending + 2);
        }
        return true;
    }

    /// <summary>
    /// Reads a "*n" or "$n" line up to its '\r' (Redis then skips two bytes, whatever they are);
    /// false, with the reader left at the line's start, when it is incomplete or too long.
    /// </summary>
    static bool TryReadLengthLine(ref SequenceReader<byte> reader, CommandBatch batch, string tooBigError, out ReadOnlySequence<byte> line)
    {
        var start = reader;
        if (!TryReadLine(ref reader, (byte)'\r', batch, tooBigError, out line)) return false;
        if (reader.Remaining < 2)
        {
            reader = start;
            return false;
        }
        reader.Advance(2);
        return true;
    }

    /// <summary>A length line as one span: in place, or its first bytes copied to <paramref name="scratch"/>.</summary>
    static ReadOnlySpan<byte> Flatten(in ReadOnlySequence<byte> line, Span<byte> scratch)
    {
        if (line.IsSingleSegment) return line.FirstSpan;
        var prefix = line.Slice(0, Math.Min(line.Length, scratch.Length));
        prefix.CopyTo(scratch);
        return scratch[..(int)prefix.Length];
    }

    /// <summary>
    /// Reads up to <paramref name="end"/>, leaving the reader on it. A NUL before it (or no end yet)
    /// leaves the reader where it was and the line incomplete, an error once the rest passes
    /// <see cref="InlineMaxSize"/>.
    /// </summary>
    static bool TryReadLine(ref SequenceReader<byte> reader, byte end, CommandBatch batch, string tooBigError, out ReadOnlySequence<byte> line)
    {
        var start = reader;
        ReadOnlySpan<byte> ends = [end, 0];
        if (reader.TryReadToAny(out line, ends, advancePastDelimiter: false) && reader.IsNext(end)) return true;
        reader = start;
        if (reader.Remaining > InlineMaxSize) batch.ProtocolError = "Protocol error: " + tooBigError;
        return false;
    }

    static bool TryParseInline(ref SequenceReader<byte> reader, CommandBatch batch)
    {
        if (!TryReadLine(ref reader, (byte)'\n', batch, "too big inline request", out var sequence)) return false;
        reader.Advance(1);
        // Inline commands are for humans at a terminal: a line split over two segments may allocate.
        var line = sequence.IsSingleSegment ? sequence.FirstSpan : sequence.ToArray();
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];

        batch.BeginCommand();
        if (!ArgSplitter.Split(line, batch))
        {
            batch.DropLastCommand();
            batch.ProtocolError = "Protocol error: unbalanced quotes in request";
            return false;
        }
        if (batch[batch.Count - 1].Count == 0) batch.DropLastCommand();
        return true;
    }
}
