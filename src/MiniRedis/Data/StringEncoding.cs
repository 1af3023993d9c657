namespace MiniRedis.Data;

/// <summary>Redis's tryObjectEncoding for strings: what OBJECT ENCODING reports for a value.</summary>
public static class StringEncoding
{
    /// <summary>Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.</summary>
    const int EmbstrLimit = 44;

    public static ObjectEncoding Of(ReadOnlySpan<byte> value)
    {
        if (value.Length <= RedisNumbers.MaxInt64Length && RedisNumbers.TryParseInt64(value, out _)) return ObjectEncoding.Int;
        return NotInteger(value);
    }

    /// <summary>Redis's createStringObject, for values stored without tryObjectEncoding (INCRBYFLOAT's result).</summary>
    public static ObjectEncoding NotInteger(ReadOnlySpan<byte> value) => value.Length <= EmbstrLimit ? ObjectEncoding.Embstr : ObjectEncoding.Raw;
}
