namespace MiniRedis.Data;

/// <summary>Redis's tryObjectEncoding for strings: what OBJECT ENCODING reports for a value.</summary>
public static class StringEncoding
{
    /// <summary>Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.</summary>
    const int EmbstrLimit = 44;

    public static ObjectEncoding Of(ReadOnlySpan<byte> value)
    {
        if (value.Length <= RedisNumbers.MaxInt64Length && RedisNumbers.TryParseInt64(value, out _)) return ObjectEncoding.Int;
        return value.Length <= EmbstrLimit ? ObjectEncoding.Embstr : ObjectEncoding.Raw;
    }
}
