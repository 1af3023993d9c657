using MiniRedis.Data;

namespace MiniRedis.Protocol;

/// <summary>
/// Splits a line into arguments the way Redis's sdssplitargs does: whitespace separates,
/// "double quotes" understand \n \r \t \b \a \xHH and \c, 'single quotes' only \'; a closing
/// quote must be followed by whitespace or the end. Used for inline commands and config lines.
/// Like the C original, the line ends at its first NUL.
/// </summary>
public static class ArgSplitter
{
    /// <summary>Appends the arguments of <paramref name="line"/> to the batch's current command; false on unbalanced quotes.</summary>
    public static bool Split(ReadOnlySpan<byte> line, CommandBatch batch)
    {
        int nul = line.IndexOf((byte)0);
        if (nul >= 0) line = line[..nul];
        Span<byte> scratch = line.Length <= 512 ? stackalloc byte[line.Length] : new byte[line.Length];
        int pos = 0;
        while (true)
        {
            while (pos < line.Length && RedisNumbers.IsCSpace(line[pos])) pos++;
            if (pos >= line.Length) return true;
            if (!TryReadToken(line, ref pos, scratch, out int length)) return false;
            scratch[..length].CopyTo(batch.AddArgument(length));
        }
    }

    /// <summary>
    /// The arguments of <paramref name="line"/> as arrays (config lines, ACL selectors); null for
    /// unbalanced quotes.
    /// </summary>
    public static List<byte[]>? SplitToList(ReadOnlySpan<byte> line)
    {
        var batch = new CommandBatch();
        batch.BeginCommand();
        if (!Split(line, batch))
            return null;
        var parsed = batch[0];
        var args = new List<byte[]>(parsed.Count);
        for (int i = 0; i < parsed.Count; i++)
            args.Add(parsed[i].ToArray());
        return args;
    }

    static bool TryReadToken(ReadOnlySpan<byte> line, ref int pos, Span<byte> output, out int length)
    {
        length = 0;
        bool inDouble = false, inSingle = false;
        while (true)
        {
            if (pos >= line.Length) return !inDouble && !inSingle;
            byte c = line[pos];
            if (inDouble)
            {
                if (c == '\\' && pos + 3 < line.Length && line[pos + 1] == 'x' && IsHex(line[pos + 2]) && IsHex(line[pos + 3]))
                {
                    output[length++] = (byte)(HexValue(line[pos + 2]) * 16 + HexValue(line[pos + 3]));
                    pos += 4;
                    continue;
                }
                if (c == '\\' && pos + 1 < line.Length)
                {
                    pos++;
                    output[length++] = Unescaped(line[pos]);
                    pos++;
                    continue;
                }
                if (c == '"')
                {
                    pos++;
                    if (pos < line.Length && !RedisNumbers.IsCSpace(line[pos])) return false;
                    return true;
                }
                output[length++] = c;
                pos++;
            }
            else if (inSingle)
            {
                if (c == '\\' && pos + 1 < line.Length && line[pos + 1] == '\'')
                {
                    output[length++] = (byte)'\'';
                    pos += 2;
                    continue;
                }
                if (c == '\'')
                {
                    pos++;
                    if (pos < line.Length && !RedisNumbers.IsCSpace(line[pos])) return false;
                    return true;
                }
                output[length++] = c;
                pos++;
            }
            else
            {
                switch (c)
                {
                    case (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t':
                        return true;
                    case (byte)'"':
                        inDouble = true;
                        break;
                    case (byte)'\'':
                        inSingle = true;
                        break;
                    default:
                        output[length++] = c;
                        break;
                }
                pos++;
            }
        }
    }

    /// <summary>The byte a backslash escape inside double quotes stands for (sdssplitargs: \n \r \t \b \a, any other byte itself).</summary>
    internal static byte Unescaped(byte c) => c switch
    {
        (byte)'n' => (byte)'\n',
        (byte)'r' => (byte)'\r',
        (byte)'t' => (byte)'\t',
        (byte)'b' => (byte)'\b',
        (byte)'a' => (byte)'\a',
        _ => c,
    };

    static bool IsHex(byte c) => char.IsAsciiHexDigit((char)c);
    static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
