namespace MiniRedis.Data;

/// <summary>
/// Redis 7.0 glob matching (stringmatchlen), as used by KEYS, SCAN MATCH and PSUBSCRIBE, including its quirks:
/// bytes compare as signed C chars in ranges, reversed ranges are swapped, an unterminated '[' class ends at the
/// pattern's last byte, "*" never matches an empty remainder, and a pattern needing more than
/// <see cref="MaxStars"/> non-trailing '*' groups never matches (Redis's recursion limit).
/// </summary>
public static class GlobPattern
{
    public const int MaxStars = 1000;

    public static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false)
    {
        var p = 0;
        var t = 0;
        // Only the most recent '*' is ever retried: once it fails at every later text position, retrying an
        // earlier '*' cannot help (Redis's skipLongerMatches), which keeps "*a*a*a...b" patterns linear per star.
        var starResume = -1;
        var starText = -1;
        var stars = 0;
        while (true)
        {
            var matched = false;
            while (p < pattern.Length && t < text.Length)
            {
                if (pattern[p] == (byte)'*')
                {
                    while (p + 1 < pattern.Length && pattern[p + 1] == (byte)'*')
                    {
                        p++;
                    }

                    if (p == pattern.Length - 1)
                    {
                        return true;
                    }

                    if (++stars > MaxStars)
                    {
                        return false;
                    }

                    starResume = p + 1;
                    starText = t;
                    p = starResume;
                    continue;
                }

                if (!MatchSingle(pattern, ref p, text[t], ignoreCase))
                {
                    break;
                }

                p++;
                t++;
                if (t == text.Length)
                {
                    while (p < pattern.Length && pattern[p] == (byte)'*')
                    {
                        p++;
                    }

                    matched = p == pattern.Length;
                    break;
                }
            }

            if (matched || (p == pattern.Length && t == text.Length))
            {
                return true;
            }

            // A '*' is only tried against non-empty remainders of the text.
            if (starResume < 0 || ++starText >= text.Length)
            {
                return false;
            }

            p = starResume;
            t = starText;
        }
    }

    /// <summary>Matches one pattern token against <paramref name="c"/>, leaving <paramref name="p"/> on the token's last byte.</summary>
    private static bool MatchSingle(ReadOnlySpan<byte> pattern, ref int p, byte c, bool ignoreCase)
    {
        switch (pattern[p])
        {
            case (byte)'?':
                return true;
            case (byte)'[':
                return MatchClass(pattern, ref p, c, ignoreCase);
            case (byte)'\\':
                if (pattern.Length - p >= 2)
                {
                    p++;
                }

                return BytesEqual(pattern[p], c, ignoreCase);
            default:
                return BytesEqual(pattern[p], c, ignoreCase);
        }
    }

    private static bool MatchClass(ReadOnlySpan<byte> pattern, ref int p, byte c, bool ignoreCase)
    {
        p++;
        var negate = p < pattern.Length && pattern[p] == (byte)'^';
        if (negate)
        {
            p++;
        }

        var match = false;
        while (true)
        {
            if (p >= pattern.Length)
            {
                // Unterminated: the class is whatever was read, ending on the last pattern byte.
                p--;
                break;
            }

            if (pattern[p] == (byte)'\\' && pattern.Length - p >= 2)
            {
                p++;
                // Escaped class members compare exactly even when ignoring case, as in Redis.
                match |= pattern[p] == c;
            }
            else if (pattern[p] == (byte)']')
            {
                break;
            }
            else if (pattern.Length - p >= 3 && pattern[p + 1] == (byte)'-')
            {
                // Redis compares plain (signed) chars, so bytes >= 0x80 sort below ASCII in ranges.
                int start = (sbyte)pattern[p];
                int end = (sbyte)pattern[p + 2];
                int value = (sbyte)c;
                if (start > end)
                {
                    (start, end) = (end, start);
                }

                if (ignoreCase)
                {
                    start = ToLower(start);
                    end = ToLower(end);
                    value = ToLower(value);
                }

                p += 2;
                match |= value >= start && value <= end;
            }
            else
            {
                match |= BytesEqual(pattern[p], c, ignoreCase);
            }

            p++;
        }

        return match != negate;
    }

    private static bool BytesEqual(byte a, byte b, bool ignoreCase) =>
        a == b || (ignoreCase && ToLower(a) == ToLower(b));

    // The C locale's tolower: only ASCII letters change.
    private static int ToLower(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;
}
