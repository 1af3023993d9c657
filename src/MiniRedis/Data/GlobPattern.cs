namespace MiniRedis.Data;

/// <summary>
/// Redis-style glob matching (<c>*</c>, <c>?</c>, <c>[a-z]</c>, <c>[^x]</c>, <c>\</c> escapes).
/// TEMPORARY: written in the config branch only so CONFIG GET compiles and is testable; the data
/// engineer's implementation with the same signature replaces this file at merge.
/// </summary>
internal static class GlobPattern
{
    public static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase)
    {
        int p = 0, t = 0;
        int starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == (byte)'*')
            {
                // Remember the star so a later mismatch can let it swallow one more byte.
                starP = ++p;
                starT = t;
                continue;
            }
            if (p < pattern.Length && MatchOne(pattern, ref p, text[t], ignoreCase))
            {
                t++;
                continue;
            }
            if (starP < 0)
                return false;
            p = starP;
            t = ++starT;
        }
        while (p < pattern.Length && pattern[p] == (byte)'*')
            p++;
        return p == pattern.Length;
    }

    /// <summary>Matches one pattern element at <paramref name="p"/> against <paramref name="c"/>, advancing past it on success.</summary>
    private static bool MatchOne(ReadOnlySpan<byte> pattern, ref int p, byte c, bool ignoreCase)
    {
        int next = p;
        bool matched;
        switch (pattern[p])
        {
            case (byte)'?':
                matched = true;
                next = p + 1;
                break;
            case (byte)'[':
                matched = MatchClass(pattern, p + 1, c, ignoreCase, out next);
                break;
            case (byte)'\\' when p + 1 < pattern.Length:
                matched = SameByte(pattern[p + 1], c, ignoreCase);
                next = p + 2;
                break;
            default:
                matched = SameByte(pattern[p], c, ignoreCase);
                next = p + 1;
                break;
        }
        if (matched)
            p = next;
        return matched;
    }

    private static bool MatchClass(ReadOnlySpan<byte> pattern, int p, byte c, bool ignoreCase, out int next)
    {
        bool negate = p < pattern.Length && pattern[p] == (byte)'^';
        if (negate)
            p++;
        bool found = false;
        while (p < pattern.Length && pattern[p] != (byte)']')
        {
            if (pattern[p] == (byte)'\\' && p + 1 < pattern.Length)
            {
                found |= SameByte(pattern[p + 1], c, ignoreCase);
                p += 2;
            }
            else if (p + 2 < pattern.Length && pattern[p + 1] == (byte)'-' && pattern[p + 2] != (byte)']')
            {
                byte low = pattern[p], high = pattern[p + 2];
                if (low > high)
                    (low, high) = (high, low);
                found |= InRange(c, low, high) || (ignoreCase && InRange(Lower(c), Lower(low), Lower(high)));
                p += 3;
            }
            else
            {
                found |= SameByte(pattern[p], c, ignoreCase);
                p++;
            }
        }
        // An unterminated class ends at the end of the pattern, as in Redis.
        next = Math.Min(p + 1, pattern.Length);
        return found != negate;
    }

    private static bool InRange(byte c, byte low, byte high) => c >= low && c <= high;

    private static bool SameByte(byte a, byte b, bool ignoreCase) => a == b || (ignoreCase && Lower(a) == Lower(b));

    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;
}
