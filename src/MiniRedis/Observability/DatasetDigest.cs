using System.Buffers.Binary;
using System.Security.Cryptography;
using MiniRedis.Data;

namespace MiniRedis.Observability;

/// <summary>
/// Redis's DEBUG DIGEST / DIGEST-VALUE (debug.c computeDatasetDigest, xorObjectDigest): SHA1s mixed
/// and xored so that the same data gives the same 20 bytes as Redis, whatever the encodings and the
/// order of unordered collections. Ordered data (a list's elements) is mixed, unordered data (set
/// members, hash fields, sorted set entries, the keys) is xored.
/// </summary>
// SHA1 is Redis's digest function here: a fingerprint to compare datasets, not a security measure.
#pragma warning disable CA5350
public static class DatasetDigest
{
    const int Size = 20;

    /// <summary>Redis's xorDigest: digest ^= SHA1(data).</summary>
    static void Xor(Span<byte> digest, ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Size];
        SHA1.HashData(data, hash);
        for (int i = 0; i < Size; i++) digest[i] ^= hash[i];
    }

    /// <summary>Redis's mixDigest: digest = SHA1(digest ^ SHA1(data)).</summary>
    static void Mix(Span<byte> digest, ReadOnlySpan<byte> data)
    {
        Xor(digest, data);
        Span<byte> mixed = stackalloc byte[Size];
        SHA1.HashData(digest, mixed);
        mixed.CopyTo(digest);
    }

    static void MixInt32(Span<byte> digest, int value)
    {
        Span<byte> bigEndian = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bigEndian, value);
        Mix(digest, bigEndian);
    }

    /// <summary>The whole dataset, as hex (40 zeros when empty).</summary>
    public static string OfDataset(Keyspace keyspace)
    {
        Span<byte> final = stackalloc byte[Size];
        Span<byte> digest = stackalloc byte[Size];
        for (int i = 0; i < keyspace.Count; i++)
        {
            var db = keyspace[i];
            if (db.Count == 0) continue;
            MixInt32(final, i);
            foreach (var entry in db)
            {
                digest.Clear();
                Mix(digest, entry.Key);
                AddValue(digest, entry);
                Xor(final, digest);
            }
        }
        return Convert.ToHexStringLower(final);
    }

    /// <summary>One key's value (and whether it has a TTL), as hex; 40 zeros for a missing key.</summary>
    public static string OfValue(KeyEntry? entry)
    {
        Span<byte> digest = stackalloc byte[Size];
        if (entry is not null) AddValue(digest, entry);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>Redis's xorObjectDigest: the type, the value, then "!!expire!!" when the key has a TTL.</summary>
    static void AddValue(Span<byte> digest, KeyEntry entry)
    {
        MixInt32(digest, (int)entry.Type);
        Span<byte> scratch = stackalloc byte[RedisNumbers.MaxDoubleLength];
        Span<byte> element = stackalloc byte[Size];
        switch (entry.Type)
        {
            case RedisType.String:
                Mix(digest, entry.StringValue);
                break;
            case RedisType.List:
                var list = (ListValue)entry.Value;
                var elements = list.At(0);
                for (int i = 0; i < list.Count; i++, elements.Advance()) Mix(digest, elements.Current);
                break;
            case RedisType.Set:
                for (var members = new SetValue.Enumerator(entry); members.MoveNext();) Xor(digest, members.Current.AsBytes(scratch));
                break;
            case RedisType.ZSet:
                var zset = (SortedSetValue)entry.Value;
                var cursor = zset.At(0);
                for (long i = 0; i < zset.Count; i++, cursor.Advance())
                {
                    element.Clear();
                    Mix(element, cursor.Member);
                    // Redis 7.0 prints the score with %.17g here.
                    Mix(element, scratch[..RedisNumbers.FormatDouble(cursor.Score, scratch)]);
                    Xor(digest, element);
                }
                break;
            case RedisType.Hash:
                for (var fields = new HashValue.Enumerator(entry); fields.MoveNext();)
                {
                    element.Clear();
                    Mix(element, fields.Field.AsBytes(scratch));
                    Mix(element, fields.Value.AsBytes(scratch));
                    Xor(digest, element);
                }
                break;
            default:
                throw new NotSupportedException($"DEBUG DIGEST does not know {entry.Type} values yet");
        }
        if (entry.ExpireAt != 0) Xor(digest, "!!expire!!"u8);
    }
}
#pragma warning restore CA5350
