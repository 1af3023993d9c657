using System.Buffers;
using MiniRedis.Data;

namespace MiniRedis.Protocol;

/// <summary>
/// Parses RESP2 multibulk and inline commands straight from a connection's pipe buffers into a
/// <see cref="CommandBatch"/>, as Redis's processMultibulkBuffer/processInlineBuffer do. A command
/// is consumed only once all its bytes have arrived, so an unfinished one costs exactly the bytes
/// received so far; announced lengths are checked but never pre-allocated.
/// </summary>
public static class RespParser
{
    /// <summary>Redis's PROTO_INLINE_MAX_SIZE: the longest line before a newline must appear.</summary>
    public const int InlineMaxSize = 64 * 1024;

    /// <summary>
    /// Adds every complete command in <paramref name="buffer"/> to <paramref name="batch"/>, up to
    /// <paramref name="maxArenaBytes"/> of argument data. Returns the position after the last
    /// consumed command. A protocol error is recorded on the batch; nothing after it is parsed.
    /// </summary>
    public static SequencePosition Parse(ReadOnlySequence<byte> buffer, CommandBatch batch, long maxBulkLength, int maxArenaBytes)
    {
        var reader = new SequenceReader<byte>(buffer);
        var consumed = reader.Position;
        while (!reader.End && batch.ArenaBytes < maxArenaBytes && batch.ProtocolError is null)
        {
            bool complete = reader.IsNext((byte)'*')
                ? TryParseMultibulk(ref reader, batch, maxBulkLength)
                : TryParseInline(ref reader, batch);
            if (!complete) break;
            consumed = reader.Position;
        }
        return consumed;
    }

    static bool TryParseMultibulk(ref SequenceReader<byte> reader, CommandBatch batch, long maxBulkLength)
    {
        var start = reader;
        if (!TryReadLengthLine(ref reader, batch, "too big mbulk count string", out var countLine)) { reader = start; return false; }
        if (!RedisNumbers.TryParseInt64(countLine.Slice(1), out long count) || count > int.MaxValue)
        {
            batch.ProtocolError = "Protocol error: invalid multibulk length";
            return false;
        }
        if (count <= 0) return true; // Redis skips empty multibulks silently.

        batch.BeginCommand();
        for (long i = 0; i < count; i++)
        {
            if (!TryReadLengthLine(ref reader, batch, "too big bulk count string", out var bulkLine))
            {
                Abandon(ref reader, start, batch);
                return false;
            }
            if (bulkLine[0] != (byte)'$')
            {
                batch.DropLastCommand();
                batch.ProtocolError = $"Protocol error: expected '$', got '{(char)bulkLine[0]}'";
                return false;
            }
            if (!RedisNumbers.TryParseInt64(bulkLine.Slice(1), out long length) || length < 0 || length > maxBulkLength)
            {
                batch.DropLastCommand();
                batch.ProtocolError = "Protocol error: invalid bulk length";
                return false;
            }
            // Like Redis, the two bytes after the payload are skipped without being checked.
            if (reader.Remaining < length + 2)
            {
                Abandon(ref reader, start, batch);
                return false;
            }
            reader.TryCopyTo(batch.AddArgument((int)length));
            reader.Advance(length + 2);
        }
        return true;
    }

    static void Abandon(ref SequenceReader<byte> reader, SequenceReader<byte> start, CommandBatch batch)
    {
        batch.DropLastCommand();
        reader = start;
    }

    /// <summary>Reads a "*n" or "$n" line; false when its CRLF has not arrived yet (or it is too long).</summary>
    static bool TryReadLengthLine(ref SequenceReader<byte> reader, CommandBatch batch, string tooBigError, out ReadOnlySpan<byte> line)
    {
        line = default;
        if (!reader.TryReadTo(out ReadOnlySpan<byte> raw, (byte)'\r', advancePastDelimiter: false))
        {
            if (reader.Remaining > InlineMaxSize) batch.ProtocolError = "Protocol error: " + tooBigError;
            return false;
        }
        if (reader.Remaining < 2) return false;
        reader.Advance(2);
        line = raw;
        return raw.Length > 0;
    }

    static bool TryParseInline(ref SequenceReader<byte> reader, CommandBatch batch)
    {
        if (!reader.TryReadTo(out ReadOnlySpan<byte> line, (byte)'\n'))
        {
            if (reader.Remaining > InlineMaxSize) batch.ProtocolError = "Protocol error: too big inline request";
            return false;
        }
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
