using System.Text;

namespace MiniRedis.Config;

/// <summary>Redis's argument splitting (sdssplitargs) and quoting (sdscatrepr) for configuration lines.</summary>
internal static class ConfigArgs
{
    /// <summary>
    /// Splits a line into arguments: blanks separate, "double quotes" understand \n \r \t \b \a \xHH and
    /// \-anything, 'single quotes' understand only \'. Returns null for unbalanced quotes, including a
    /// closing quote not followed by a blank or the end of the line.
    /// </summary>
    public static List<byte[]>? Split(ReadOnlySpan<byte> line)
    {
        // The C code sees a NUL byte as the end of the line.
        int nul = line.IndexOf((byte)0);
        if (nul >= 0)
            line = line[..nul];
        var args = new List<byte[]>();
        var current = new List<byte>();
        int p = 0;
        while (true)
        {
            while (p < line.Length && IsCSpace(line[p]))
                p++;
            if (p >= line.Length)
                return args;

            bool inDouble = false, inSingle = false, done = false;
            current.Clear();
            while (!done)
            {
                byte c = At(line, p);
                if (inDouble)
                {
                    if (c == '\\' && At(line, p + 1) == 'x' && IsHex(At(line, p + 2)) && IsHex(At(line, p + 3)))
                    {
                        current.Add((byte)(HexValue(At(line, p + 2)) * 16 + HexValue(At(line, p + 3))));
                        p += 3;
                    }
                    else if (c == '\\' && p + 1 < line.Length)
                    {
                        p++;
                        current.Add(Unescape(line[p]));
                    }
                    else if (c == '"')
                    {
                        if (p + 1 < line.Length && !IsCSpace(line[p + 1]))
                            return null;
                        done = true;
                    }
                    else if (p >= line.Length)
                    {
                        return null;
                    }
                    else
                    {
                        current.Add(c);
                    }
                }
                else if (inSingle)
                {
                    if (c == '\\' && At(line, p + 1) == '\'')
                    {
                        p++;
                        current.Add((byte)'\'');
                    }
                    else if (c == '\'')
                    {
                        if (p + 1 < line.Length && !IsCSpace(line[p + 1]))
                            return null;
                        done = true;
                    }
                    else if (p >= line.Length)
                    {
                        return null;
                    }
                    else
                    {
                        current.Add(c);
                    }
                }
                else
                {
                    if (p >= line.Length || c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
                        done = true; // Not on \v or \f: Redis skips those between tokens but keeps them inside one.
                    else if (c == '"')
                        inDouble = true;
                    else if (c == '\'')
                        inSingle = true;
                    else
                        current.Add(c);
                }
                if (p < line.Length)
                    p++;
            }
            args.Add([.. current]);
        }
    }

    /// <summary>Quotes a value so that <see cref="Split"/> gives it back unchanged (Redis's sdscatrepr).</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            switch (b)
            {
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case 7: sb.Append("\\a"); break;
                case 8: sb.Append("\\b"); break;
                default:
                    if (b is >= 0x20 and < 0x7f)
                        sb.Append((char)b);
                    else
                        sb.Append($"\\x{b:x2}");
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>C isspace() in the C locale.</summary>
    public static bool IsCSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    /// <summary>Reads past the end as NUL, the way the C code sees its terminator.</summary>
    private static byte At(ReadOnlySpan<byte> line, int i) => i < line.Length ? line[i] : (byte)0;

    private static byte Unescape(byte c) => c switch
    {
        (byte)'n' => (byte)'\n',
        (byte)'r' => (byte)'\r',
        (byte)'t' => (byte)'\t',
        (byte)'b' => 8,
        (byte)'a' => 7,
        _ => c,
    };

    private static bool IsHex(byte c) => char.IsAsciiHexDigit((char)c);

    private static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
