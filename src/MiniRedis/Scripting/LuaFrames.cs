namespace MiniRedis.Scripting;

/// <summary>
/// Keeps every Lua function's own frame through "return redis.call(...)": Lua 5.4 drops the caller's
/// frame on a tail call, and with it the line Redis's error texts name (5.1 kept frames for C
/// functions). Declaring a to-be-closed local (nil: nothing to close) at the top of a function body
/// turns its tail calls into ordinary calls. The declaration goes on the line of the function's
/// parameter list, so line numbers stay the user's. A small lexer skips strings and comments, so
/// only the keyword <c>function</c> is touched.
/// </summary>
static class LuaFrames
{
    static readonly byte[] Guard = " local __redis__frames <close> = nil;"u8.ToArray();

    /// <summary><paramref name="source"/> with the guard after each function's parameter list.</summary>
    public static byte[] GuardFunctionBodies(ReadOnlySpan<byte> source)
    {
        var output = new List<byte>(source.Length + 256);
        bool awaitingParameters = false;
        int i = 0;
        while (i < source.Length)
        {
            int start = i;
            byte c = source[i];
            if (c == '-' && i + 1 < source.Length && source[i + 1] == '-') i = SkipComment(source, i + 2);
            else if (c is (byte)'"' or (byte)'\'') i = SkipQuoted(source, i);
            else if (c == '[' && LongBracketLevel(source, i) >= 0) i = SkipLongBracket(source, i);
            else if (char.IsAsciiLetter((char)c) || c == '_')
            {
                while (i < source.Length && (char.IsAsciiLetterOrDigit((char)source[i]) || source[i] == '_')) i++;
                if (source[start..i].SequenceEqual("function"u8)) awaitingParameters = true;
            }
            else if (char.IsAsciiDigit((char)c))
            {
                while (i < source.Length && (char.IsAsciiLetterOrDigit((char)source[i]) || source[i] is (byte)'_' or (byte)'.')) i++;
            }
            else i++;
            output.AddRange(source[start..i]);
            if (awaitingParameters && c == ')')
            {
                output.AddRange(Guard);
                awaitingParameters = false;
            }
        }
        return [.. output];
    }

    static int SkipComment(ReadOnlySpan<byte> source, int i)
    {
        if (i < source.Length && source[i] == '[' && LongBracketLevel(source, i) >= 0) return SkipLongBracket(source, i);
        int end = source[i..].IndexOf((byte)'\n');
        return end < 0 ? source.Length : i + end;
    }

    static int SkipQuoted(ReadOnlySpan<byte> source, int i)
    {
        byte quote = source[i++];
        while (i < source.Length && source[i] != quote && source[i] != '\n')
        {
            i += source[i] == '\\' ? 2 : 1;
        }
        return Math.Min(i + 1, source.Length);
    }

    /// <summary>The number of '=' of a long bracket "[==[" opening at <paramref name="i"/>, or -1 when none opens there.</summary>
    static int LongBracketLevel(ReadOnlySpan<byte> source, int i)
    {
        int j = i + 1;
        while (j < source.Length && source[j] == '=') j++;
        return j < source.Length && source[j] == '[' ? j - i - 1 : -1;
    }

    static int SkipLongBracket(ReadOnlySpan<byte> source, int i)
    {
        int level = LongBracketLevel(source, i);
        Span<byte> close = level <= 64 ? stackalloc byte[level + 2] : new byte[level + 2];
        close.Fill((byte)'=');
        close[0] = close[^1] = (byte)']';
        int end = source[(i + level + 2)..].IndexOf(close);
        return end < 0 ? source.Length : i + level + 2 + end + close.Length;
    }
}
