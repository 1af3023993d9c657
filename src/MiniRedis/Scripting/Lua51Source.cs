namespace MiniRedis.Scripting;

/// <summary>
/// Lua 5.1's reading of escapes in quoted strings, for a script that 5.4 compiles: 5.1 kept the
/// character after a backslash it did not know ('\/' is "/", '\x41' is "x41", '\z' is "z", '\u{41}'
/// is "u{41}"), where 5.4 refuses unknown escapes and reads \x, \z and \u as its own. Such a
/// backslash is dropped; long strings and comments (no escapes there) and every line break pass
/// unchanged, so line numbers stay the script's.
/// </summary>
static class Lua51Source
{
    /// <summary>Writes <paramref name="script"/> to <paramref name="output"/> (at least as long) as 5.4 must read it; returns the length written.</summary>
    public static int Rewrite(ReadOnlySpan<byte> script, Span<byte> output)
    {
        if (script.IndexOf((byte)'\\') < 0)
        {
            script.CopyTo(output);
            return script.Length;
        }
        int i = 0, o = 0;
        while (i < script.Length)
        {
            byte c = script[i];
            int end;
            if (c == '-' && i + 1 < script.Length && script[i + 1] == '-')
            {
                // A comment: long (--[==[ ... ]==]) or to the end of the line.
                int level = LongBracketLevel(script, i + 2);
                end = level >= 0 ? LongBracketEnd(script, i + 2, level) : EndOfLine(script, i);
            }
            else if (c == '[' && LongBracketLevel(script, i) is var level and >= 0)
            {
                end = LongBracketEnd(script, i, level);
            }
            else if (c is (byte)'"' or (byte)'\'')
            {
                i = QuotedString(script, i, output, ref o);
                continue;
            }
            else
            {
                end = i + 1;
            }
            script[i..end].CopyTo(output[o..]);
            o += end - i;
            i = end;
        }
        return o;
    }

    /// <summary>Copies the quoted string opening at <paramref name="start"/>, escapes read as 5.1 read them; returns the position after it.</summary>
    static int QuotedString(ReadOnlySpan<byte> script, int start, Span<byte> output, ref int o)
    {
        byte quote = script[start];
        output[o++] = quote;
        int i = start + 1;
        while (i < script.Length)
        {
            byte c = script[i];
            // An unfinished string: the compiler reports it.
            if (c is (byte)'\n' or (byte)'\r') return i;
            i++;
            if (c == '\\' && i < script.Length)
            {
                byte escaped = script[i++];
                if (!KeptAsCharacter(escaped)) output[o++] = c;
                output[o++] = escaped;
                // A backslash before a CR LF (or LF CR) line break escapes both characters, as the lexers read it.
                if (escaped is (byte)'\r' or (byte)'\n' && i < script.Length && (script[i] is (byte)'\r' or (byte)'\n') && script[i] != escaped)
                    output[o++] = script[i++];
                continue;
            }
            output[o++] = c;
            if (c == quote) return i;
        }
        return i;
    }

    /// <summary>An escape 5.1 did not know: it read the character itself (5.4 reads the same for \\, \" and \').</summary>
    static bool KeptAsCharacter(byte c) =>
        c is not ((byte)'a' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t' or (byte)'v'
            or (byte)'\\' or (byte)'"' or (byte)'\'' or (byte)'\n' or (byte)'\r' or (>= (byte)'0' and <= (byte)'9'));

    /// <summary>The level of a long bracket "[", "="*level, "[" at <paramref name="i"/>, or -1.</summary>
    static int LongBracketLevel(ReadOnlySpan<byte> script, int i)
    {
        if (i >= script.Length || script[i] != '[') return -1;
        int level = 0;
        while (i + 1 + level < script.Length && script[i + 1 + level] == '=') level++;
        return i + 1 + level < script.Length && script[i + 1 + level] == '[' ? level : -1;
    }

    /// <summary>The position after the long bracket's closing "]", "="*level, "]" (the end of the script when unclosed).</summary>
    static int LongBracketEnd(ReadOnlySpan<byte> script, int open, int level)
    {
        for (int i = open + level + 2; i < script.Length; i++)
        {
            if (script[i] != ']') continue;
            int j = i + 1;
            while (j < script.Length && j - i - 1 < level && script[j] == '=') j++;
            if (j - i - 1 == level && j < script.Length && script[j] == ']') return j + 1;
        }
        return script.Length;
    }

    static int EndOfLine(ReadOnlySpan<byte> script, int i)
    {
        int newline = script[i..].IndexOfAny((byte)'\n', (byte)'\r');
        return newline < 0 ? script.Length : i + newline;
    }
}
