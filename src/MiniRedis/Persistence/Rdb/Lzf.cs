namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// LZF (liblzf's format), which RDB strings use when <c>rdbcompression</c> is on. The stream is a
/// sequence of runs: a control byte below 32 starts ctrl+1 literal bytes; any other control byte is a
/// back reference of (ctrl&gt;&gt;5)+2 bytes (7 means "add the next byte") at distance
/// ((ctrl&amp;0x1f)&lt;&lt;8) + next byte + 1 behind the output's end.
/// </summary>
public static class Lzf
{
    internal const int MaxLiteral = 1 << 5;
    internal const int MaxOffset = 1 << 13;
    internal const int MaxReference = (1 << 8) + (1 << 3);

    /// <summary>
    /// The most output one input byte can stand for (a 3-byte reference copies 264 bytes): a length
    /// field claiming more than this is corrupt, so a loader can refuse it before allocating.
    /// </summary>
    public const int MaxExpansion = 88;

    /// <summary>
    /// Decompresses <paramref name="input"/> into exactly <paramref name="output"/>; false when the data
    /// is malformed, references before the start, or does not produce exactly output.Length bytes.
    /// </summary>
    public static bool TryDecompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int ip = 0, op = 0;
        while (ip < input.Length)
        {
            int control = input[ip++];
            if (control < MaxLiteral)
            {
                int length = control + 1;
                if (length > input.Length - ip || length > output.Length - op) return false;
                input.Slice(ip, length).CopyTo(output[op..]);
                ip += length;
                op += length;
                continue;
            }
            int count = control >> 5;
            if (ip >= input.Length) return false;
            if (count == 7)
            {
                count += input[ip++];
                if (ip >= input.Length) return false;
            }
            count += 2;
            int from = op - ((control & 0x1F) << 8) - input[ip++] - 1;
            if (from < 0 || count > output.Length - op) return false;
            // Byte by byte: a reference may overlap the bytes it produces (a run of a repeated pattern).
            if (op - from >= count) output.Slice(from, count).CopyTo(output[op..]);
            else for (int i = 0; i < count; i++) output[op + i] = output[from + i];
            op += count;
        }
        return op == output.Length;
    }
}

/// <summary>
/// The LZF compressor, reusable across calls (it keeps its 64K-slot hash table). It makes the same
/// choices as liblzf in Redis (3-byte hash, first match wins, two positions re-hashed after a match),
/// so dumps compress as well as Redis's. Table slots hold positions tagged with a per-call base, so a
/// stale slot from an earlier input is recognised without clearing 256 KB per string.
/// </summary>
public sealed class LzfCompressor
{
    const int HashLog = 16;
    const int HashMask = (1 << HashLog) - 1;

    readonly int[] _table = new int[1 << HashLog];
    int _base;

    /// <summary>
    /// Compresses <paramref name="input"/> into <paramref name="output"/>; the compressed length, or 0
    /// when it does not fit in output (the caller then stores the bytes as they are).
    /// </summary>
    public int Compress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int length = input.Length;
        if (length == 0 || output.IsEmpty) return 0;
        if (_base > int.MaxValue - length - 1)
        {
            Array.Clear(_table);
            _base = 0;
        }
        int tagBase = _base;
        _base += length + 1;

        int outEnd = output.Length;
        int ip = 0, op = 1, literals = 0;
        uint hash = length >= 2 ? (uint)((input[0] << 8) | input[1]) : 0;
        while (ip < length - 2)
        {
            hash = (hash << 8) | input[ip + 2];
            ref int slot = ref _table[Slot(hash)];
            int reference = slot - tagBase;
            slot = tagBase + ip;
            int offset = ip - reference - 1;
            // Position 0 doubles as "empty": liblzf never references the very first byte either.
            if (reference > 0 && offset < Lzf.MaxOffset
                && input[reference] == input[ip] && input[reference + 1] == input[ip + 1] && input[reference + 2] == input[ip + 2])
            {
                if (op - (literals == 0 ? 1 : 0) + 3 + 1 >= outEnd) return 0;
                output[op - literals - 1] = (byte)(literals - 1);
                if (literals == 0) op--;

                int maxLength = Math.Min(length - ip - 2, Lzf.MaxReference);
                int matched = 2;
                do matched++;
                while (matched < maxLength && input[reference + matched] == input[ip + matched]);

                int encoded = matched - 2;
                if (encoded < 7) output[op++] = (byte)((offset >> 8) + (encoded << 5));
                else
                {
                    output[op++] = (byte)((offset >> 8) + (7 << 5));
                    output[op++] = (byte)(encoded - 7);
                }
                output[op++] = (byte)offset;
                literals = 0;
                op++;
                ip += matched;
                if (ip >= length - 2) break;

                // Re-hash the two positions just before the new one, so the next match can start there.
                ip -= 2;
                hash = (uint)((input[ip] << 8) | input[ip + 1]);
                for (int i = 0; i < 2; i++, ip++)
                {
                    hash = (hash << 8) | input[ip + 2];
                    _table[Slot(hash)] = tagBase + ip;
                }
            }
            else
            {
                if (op >= outEnd) return 0;
                CopyLiteral(input, ref ip, output, ref op, ref literals);
            }
        }

        if (op + 3 > outEnd) return 0;
        while (ip < length) CopyLiteral(input, ref ip, output, ref op, ref literals);
        output[op - literals - 1] = (byte)(literals - 1);
        if (literals == 0) op--;
        return op;
    }

    /// <summary>Copies one byte into the literal run; a full run gets its control byte and a new one is reserved.</summary>
    static void CopyLiteral(ReadOnlySpan<byte> input, ref int ip, Span<byte> output, ref int op, ref int literals)
    {
        literals++;
        output[op++] = input[ip++];
        if (literals == Lzf.MaxLiteral)
        {
            output[op - literals - 1] = Lzf.MaxLiteral - 1;
            literals = 0;
            op++;
        }
    }

    /// <summary>liblzf's hash of the three bytes ending in <paramref name="hash"/>'s low byte (its VERY_FAST variant).</summary>
    static int Slot(uint hash) => (int)(((hash >> (3 * 8 - HashLog)) - hash * 5) & HashMask);
}
