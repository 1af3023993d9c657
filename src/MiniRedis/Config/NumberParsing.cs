namespace MiniRedis.Config;

/// <summary>The three number readers Redis's config code uses, with their exact acceptance rules.</summary>
internal static class NumberParsing
{
    /// <summary>
    /// Redis string2ll: optional '-', no '+', no blanks, no leading zeros (except "0" itself, and "-0" is
    /// rejected), and the value must fit in a long.
    /// </summary>
    public static bool TryParseStrictLong(string s, out long value)
    {
        value = 0;
        if (s == "0")
            return true;
        bool negative = s.StartsWith('-');
        int start = negative ? 1 : 0;
        if (s.Length == start || s[start] is < '1' or > '9')
            return false;
        ulong magnitude = 0;
        for (int i = start; i < s.Length; i++)
        {
            if (!char.IsAsciiDigit(s[i]) || magnitude > (ulong.MaxValue - 9) / 10)
                return false;
            magnitude = magnitude * 10 + (ulong)(s[i] - '0');
        }
        if (negative ? magnitude > (ulong)long.MaxValue + 1 : magnitude > long.MaxValue)
            return false;
        value = negative ? (long)(0 - magnitude) : (long)magnitude;
        return true;
    }

    /// <summary>
    /// Redis memtoull: digits (possibly none, meaning 0) followed by an optional case-insensitive unit
    /// b, k (1000), kb (1024), m, mb, g, gb. A digit run too long for 64 bits saturates, as strtoull does;
    /// a unit that multiplies past 64 bits is an error.
    /// </summary>
    public static bool TryParseMemory(string s, out ulong bytes)
    {
        bytes = 0;
        // memtoull finds the unit with strlen: a NUL ends the value ("1\0x" is 1).
        int nul = s.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
            s = s[..nul];
        int digits = 0;
        while (digits < s.Length && char.IsAsciiDigit(s[digits]))
            digits++;
        ulong multiplier = s[digits..].ToLowerInvariant() switch
        {
            "" or "b" => 1,
            "k" => 1000,
            "kb" => 1024,
            "m" => 1000 * 1000,
            "mb" => 1024 * 1024,
            "g" => 1000L * 1000 * 1000,
            "gb" => 1024L * 1024 * 1024,
            _ => 0,
        };
        if (multiplier == 0)
            return false;
        ulong value = 0;
        for (int i = 0; i < digits; i++)
            value = SaturatingAppend(value, s[i]);
        if (value > ulong.MaxValue / multiplier)
            return false;
        bytes = value * multiplier;
        return true;
    }

    /// <summary>
    /// C strtoll(s, &amp;end, 10) followed by Redis's "*end must be NUL" check: leading blanks and a sign are
    /// allowed, out-of-range values saturate, and the empty string reads as 0.
    /// </summary>
    public static bool TryParseCLong(string s, out long value)
    {
        value = 0;
        int i = 0;
        while (i < s.Length && Data.RedisNumbers.IsCSpace((byte)s[i]))
            i++;
        bool negative = i < s.Length && s[i] == '-';
        if (i < s.Length && s[i] is '-' or '+')
            i++;
        int firstDigit = i;
        decimal magnitude = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            magnitude = Math.Min(magnitude * 10 + (s[i] - '0'), (decimal)long.MaxValue + 1);
            i++;
        }
        if (i == firstDigit)
            return s.Length == 0; // No digits: strtoll leaves the end pointer at the start of the string.
        if (i != s.Length)
            return false;
        value = negative ? (long)Math.Max(-magnitude, long.MinValue) : (long)Math.Min(magnitude, long.MaxValue);
        return true;
    }

    private static ulong SaturatingAppend(ulong value, char digit)
    {
        ulong d = (ulong)(digit - '0');
        return value > (ulong.MaxValue - d) / 10 ? ulong.MaxValue : value * 10 + d;
    }
}
