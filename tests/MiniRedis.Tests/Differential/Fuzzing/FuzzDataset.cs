using System.Text;

namespace MiniRedis.Tests.Differential.Fuzzing;

/// <summary>
/// The starting data, written identically to both servers after every FLUSHALL: a few keys of
/// every type in each of its encodings (strings raw/int/embstr, lists listpack/quicklist, hashes and
/// zsets listpack/hashtable/skiplist, sets intset/listpack/hashtable), keys with a far-away expiry,
/// and names that exist nowhere. Key arguments are drawn from these names only, so most commands
/// meet a key of the type they expect or exactly the wrong one.
/// </summary>
public static class FuzzDataset
{
    public static readonly string[] Keys =
    [
        "str", "int", "negint", "float", "bin", "empty", "longstr", "maxint",
        "list", "biglist", "hash", "bighash", "intset", "set", "bigset", "zset", "bigzset",
        "ttlstr", "ttlhash", "missing", "other",
    ];

    /// <summary>Elements, fields and members that occur in the prepared collections.</summary>
    public static readonly string[] Members = ["a", "b", "c", "1", "2", "3", "-5", "f1", "f2", "m1", "m50", "e7", "x"];

    public static IEnumerable<byte[][]> Commands()
    {
        yield return Args("SET", "str", "hello");
        yield return Args("SET", "int", "12345");
        yield return Args("SET", "negint", "-7");
        yield return Args("SET", "float", "3.14");
        yield return Args("SET", "bin", "\0\xff\r\n");
        yield return Args("SET", "empty", "");
        yield return Args("SET", "longstr", new string('L', 100));
        yield return Args("SET", "maxint", "9223372036854775807");
        yield return Args("RPUSH", "list", "a", "b", "c", "1", "2", "3", "a");
        yield return Args(["RPUSH", "biglist", .. Enumerable.Range(0, 300).Select(i => "e" + i + new string('.', i % 70))]);
        yield return Args("HSET", "hash", "f1", "v1", "f2", "2", "f3", "3.5", "a", "");
        yield return Args(["HSET", "bighash", .. Enumerable.Range(0, 200).SelectMany(i => new[] { "f" + i, i.ToString() })]);
        yield return Args("SADD", "intset", "1", "2", "3", "-5", "100");
        yield return Args("SADD", "set", "a", "b", "c", "1");
        yield return Args(["SADD", "bigset", .. Enumerable.Range(0, 200).Select(i => "m" + i)]);
        yield return Args("ZADD", "zset", "1", "a", "2", "b", "2", "c", "-inf", "m1", "3.5", "x");
        yield return Args(["ZADD", "bigzset", .. Enumerable.Range(0, 200).SelectMany(i => new[] { (i % 50).ToString(), "m" + i })]);
        yield return Args("SET", "ttlstr", "42", "EX", "100000");
        yield return Args("HSET", "ttlhash", "f1", "1");
        yield return Args("PEXPIRE", "ttlhash", "100000000");
    }

    static byte[][] Args(params string[] args) => [.. args.Select(Encoding.Latin1.GetBytes)];
}
