using System.Text;

namespace MiniRedis.Tests.Differential.Fuzzing;

/// <summary>How much of two replies must agree (errors always compare by their full text).</summary>
public enum FuzzComparison
{
    /// <summary>Byte for byte.</summary>
    Exact,
    /// <summary>Aggregates as multisets: replies built by walking a hash table (SMEMBERS, HGETALL, KEYS), whose order Redis randomizes per process.</summary>
    Sorted,
    /// <summary>Types and aggregate sizes only: random picks, clocks, ids.</summary>
    Shape,
    /// <summary>Only the reply's type: texts about the process (INFO, CLIENT LIST) or the command table (COMMAND).</summary>
    TopType,
    /// <summary>Integers compare by sign: a relative expiry read back (TTL, PEXPIRETIME) depends on the millisecond each server ran it.</summary>
    Sign,
    /// <summary>SCAN-family: the cursor walks a hash table in its own order, so elements compare (as a multiset) only when both started at 0 and finished in the one call.</summary>
    Scan,
}

/// <summary>One judged command: its arguments, both replies as printed (Redis's first), and the commands before it since the data was rebuilt.</summary>
public sealed record FuzzCase(IReadOnlyList<byte[]> Args, string Redis, string Mini, IReadOnlyList<byte[][]> History)
{
    public string Arg(int index) => index < Args.Count ? Encoding.Latin1.GetString(Args[index]) : "";

    public bool AnyArg(Func<string, bool> test) => Args.Any(a => test(Encoding.Latin1.GetString(a)));
}

/// <summary>A difference a fuzz run may show without failing, and why.</summary>
/// <param name="Skip">The input ends the MiniRedis process, so it is not sent at all until fixed (only Args is set then).</param>
public sealed record KnownDifference(string Command, string Note, Func<FuzzCase, bool> Matches, bool Skip = false);

/// <summary>What the fuzzer sends and how it judges the replies, with the reason for every exception.</summary>
public static class FuzzPolicy
{
    /// <summary>Commands MiniRedis serves that the fuzzer never sends, and why.</summary>
    public static readonly IReadOnlyDictionary<string, string> Excluded = new Dictionary<string, string>
    {
        ["shutdown"] = "ends the server under test",
        ["quit"] = "closes the fuzzing connection",
        ["client|kill"] = "can close the fuzzing connections themselves",
        ["debug"] = "SLEEP stalls and RELOAD rewrites files; DEBUG OBJECT prints addresses and LRU clocks, nothing to compare",
        ["save"] = "disk I/O per call: a persistence test's subject, not a command fuzzer's",
        ["bgsave"] = "starts background jobs whose overlap answers 'already in progress' by timing",
        ["bgrewriteaof"] = "same as BGSAVE",
        ["subscribe"] = "puts the fuzzing connection in subscribed mode (RESP2 refuses the other commands then); tested in PubSubTests",
        ["psubscribe"] = "same as SUBSCRIBE",
        ["ssubscribe"] = "same as SUBSCRIBE",
        ["unsubscribe"] = "without arguments its confirmations follow Redis's hash order of the client's channels; tested in PubSubTests",
        ["punsubscribe"] = "same as UNSUBSCRIBE",
        ["sunsubscribe"] = "same as UNSUBSCRIBE",
        ["client|tracking"] = "a RESP3 fuzzing connection would get invalidation pushes between its replies (one reply is read per command); tested in TrackingTests",
        ["script|debug"] = "YES/SYNC turn Redis's client into a Lua debugger session that later EVALs wait in; MiniRedis has no debugger (README)",
        ["monitor"] = "turns the fuzzing connection into a monitor (a line for every command, keyspace commands refused); tested in ClientControlTests",
        ["client|reply"] = "OFF and SKIP drop the replies the fuzzer waits for; tested in ClientControlTests",
        ["client|pause"] = "holds the fuzzing connections until its timeout (ALL: every command); tested in ClientControlTests",
        ["migrate"] = "connects to the host and port it is given, whatever listens there (a port number wraps as C's atoi wraps it, so even the servers under test); tested in MigrateTests and dump.txt",
        ["pfselftest"] = "adds 10 million elements per call (seconds, in Redis too): it would stall the run; tested in HyperLogLogTests",
        ["slowlog|get"] = "its entries are the commands that took longer than 10 ms on that server: timing, not behaviour; tested in ObservabilityTests",
        ["slowlog|len"] = "same as SLOWLOG GET",
        ["latency|histogram"] = "per-command durations; tested in ObservabilityTests",
        ["latency|latest"] = "the latency monitor's samples are durations; tested in ObservabilityTests",
        ["latency|history"] = "same as LATENCY LATEST",
        ["latency|graph"] = "same as LATENCY LATEST",
        ["latency|doctor"] = "same as LATENCY LATEST",
        ["acl|setuser"] = "can lock the fuzzing connections out (default off, resetpass), and rules naming several single commands are described in Redis's hash order; tested in acl.txt and AclTests",
        ["acl|deluser"] = "closes the connections of the users it deletes; tested in acl.txt and AclTests",
        ["acl|genpass"] = "random bytes; tested in acl.txt",
        ["acl|log"] = "its entries name the client (id, port, ages); tested in AclTests",
        ["replicaof"] = "makes the server under test a read-only replica of whatever listens at the address; tested in Replication/",
        ["slaveof"] = "same as REPLICAOF",
        ["sync"] = "turns the fuzzing connection into a replica (an RDB, then the stream instead of replies); tested in Replication/",
        ["psync"] = "same as SYNC",
        ["replconf"] = "ACK and GETACK are never replied to, as in Redis (the fuzzer waits for one reply per command); tested in Replication/",
        ["wait"] = "waits for replica acknowledgements up to its timeout; tested in Replication/",
    };

    /// <summary>Commands sent rarely: each call discards or stalls much of what the others build.</summary>
    public static double Weight(string command) => command switch
    {
        "flushall" or "flushdb" or "swapdb" or "select" or "reset" or "hello" => 0.2,
        _ when IsBlocking(command) => 0.2,
        _ => 1,
    };

    public static bool IsBlocking(string command) => command is "blpop" or "brpop" or "brpoplpush" or "blmove" or "blmpop" or "bzpopmin" or "bzpopmax" or "bzmpop";

    /// <summary>
    /// Writes whose effect is a random pick, or the clock's (XADD's "*" IDs): the datasets differ afterwards,
    /// so the batch ends and both are rebuilt.
    /// </summary>
    public static bool IsRandomWrite(string command) => command is "spop" or "xadd";

    /// <summary>
    /// CONFIG GET / SET name only these (plus a name Redis does not know): the others move files,
    /// ports, limits or passwords under the harness, and a glob would also list the directives
    /// MiniRedis does not have (maxmemory-policy, slowlog-*, ...). Every rebuild sets them back to
    /// Redis's values.
    /// </summary>
    public static readonly string[] ConfigParameters =
    [
        "hash-max-listpack-entries", "hash-max-listpack-value", "hash-max-ziplist-entries", "set-max-intset-entries",
        "zset-max-listpack-entries", "zset-max-listpack-value", "list-max-listpack-size", "list-compress-depth",
        "no-such-directive",
    ];

    /// <summary>Where a blocking command's timeout is.</summary>
    public static int TimeoutIndex(string command, int argCount) => command switch
    {
        "brpoplpush" => 3,
        "blmove" => 5,
        "blmpop" or "bzmpop" => 1,
        _ => argCount - 1,
    };

    /// <summary>
    /// False for vectors that would test the clock or stall the harness rather than the server: a
    /// random pick of a huge negative count answers with that many elements (gigabytes) on both
    /// servers, and a short relative expiry (EXPIRE k 1, SET ... PX 5) ends the key while the batch
    /// runs, at a moment that differs between the two.
    /// </summary>
    public static bool IsSafe(string command, IReadOnlyList<byte[]> args)
    {
        if (command is "srandmember" or "hrandfield" or "zrandmember")
            return args.Count < 3 || !long.TryParse(Encoding.Latin1.GetString(args[2]), out long count) || count >= -1000 || count == long.MinValue;
        if (command is "expire" or "pexpire" or "setex" or "psetex") return args.Count < 3 || !IsShortExpiry(args[2]);
        if (command is "set" or "getex")
        {
            for (int i = 2; i + 1 < args.Count; i++)
            {
                if ((Is(args[i], "EX") || Is(args[i], "PX")) && IsShortExpiry(args[i + 1])) return false;
            }
        }
        return true;
    }

    /// <summary>Up to 1000 seconds or milliseconds: both are shorter than a long run's dataset lives.</summary>
    static bool IsShortExpiry(byte[] arg) => long.TryParse(Encoding.Latin1.GetString(arg), out long n) && n is > 0 and <= 1000;

    /// <summary>
    /// SET with EXAT/PXAT in the past stores a key that is already expired: until the active expire
    /// cycle (a timer on each server) removes it, DBSIZE still counts it.
    /// </summary>
    public static bool LeavesExpiredKey(string command, IReadOnlyList<byte[]> args) =>
        command == "set" && args.Skip(3).Any(a => Is(a, "EXAT") || Is(a, "PXAT"));

    /// <param name="expiredKeysMayLinger">Whether <see cref="LeavesExpiredKey"/> held for a command since the data was rebuilt.</param>
    public static FuzzComparison ComparisonFor(string command, IReadOnlyList<byte[]> args, bool expiredKeysMayLinger) => command switch
    {
        "dbsize" when expiredKeysMayLinger => FuzzComparison.Shape,
        "smembers" or "sinter" or "sunion" or "sdiff" or "hgetall" or "hkeys" or "hvals" or "keys" or "config|get" or "acl|cat" => FuzzComparison.Sorted,
        "spop" or "srandmember" or "hrandfield" or "zrandmember" or "randomkey" or "time" or "lastsave" or "client|id"
            or "object|idletime" or "object|freq" or "hello" or "memory|usage" or "xadd" or "xpending" or "xinfo|consumers" => FuzzComparison.Shape,
        // A hashtable-encoded set or hash is dumped in its own hash order (README); DumpRestoreTests
        // checks the encodings whose order is defined byte for byte.
        "dump" => FuzzComparison.Shape,
        "memory|stats" or "memory|doctor" or "memory|malloc-stats" => FuzzComparison.TopType,
        "info" or "client|list" or "client|info" or "command" or "command|count" or "command|list" or "command|docs" or "command|info" => FuzzComparison.TopType,
        "ttl" or "pttl" or "expiretime" or "pexpiretime" => FuzzComparison.Sign,
        "scan" or "sscan" or "hscan" or "zscan" => FuzzComparison.Scan,
        "sort" or "sort_ro" => SortComparison(args),
        _ => FuzzComparison.Exact,
    };

    /// <summary>
    /// SORT is deterministic (equal numeric weights fall back to comparing the elements) except when
    /// BY names no '*' (a set then comes back in its hash table's order), and BY with ALPHA, where
    /// elements whose weights are equal (or missing) keep the order the C library's qsort leaves
    /// them in. With LIMIT even the chosen elements differ then.
    /// </summary>
    static FuzzComparison SortComparison(IReadOnlyList<byte[]> args)
    {
        bool by = false, unsorted = false, alpha = false, limited = false;
        for (int i = 2; i < args.Count; i++)
        {
            if (Is(args[i], "BY") && i + 1 < args.Count)
            {
                by = true;
                if (!args[i + 1].Contains((byte)'*')) unsorted = true;
            }
            alpha |= Is(args[i], "ALPHA");
            limited |= Is(args[i], "LIMIT");
        }
        return !(unsorted || (by && alpha)) ? FuzzComparison.Exact : limited ? FuzzComparison.Shape : FuzzComparison.Sorted;
    }

    static bool Is(byte[] arg, string word) => Ascii.EqualsIgnoreCase(arg, Encoding.ASCII.GetBytes(word));

    /// <summary>Differences kept on purpose; each entry says why.</summary>
    public static readonly IReadOnlyList<KnownDifference> Known =
    [
        new("sort", "Redis 7.0's SORT tests errno == ERANGE after strtod without clearing it, so an overflow in an earlier command (ZADD k 1e400 m) fails a later numeric SORT of valid numbers; a Redis bug not copied",
            c => c.Redis.Contains("One or more scores can't be converted into double", StringComparison.Ordinal) && !c.Mini.StartsWith("\"-", StringComparison.Ordinal)),
        new("sort_ro", "as for SORT: Redis's stale errno", c => c.Redis.Contains("One or more scores can't be converted into double", StringComparison.Ordinal) && !c.Mini.StartsWith("\"-", StringComparison.Ordinal)),
        new("*", "issue 11 (open): Lua 5.4's compile errors are worded as 5.4 words them where 5.1's differ ('syntax error near' for 5.1's \"'=' expected near\"; README, Scripting)",
            c => c.Redis.StartsWith("\"-ERR Error compiling script", StringComparison.Ordinal) && c.Mini.StartsWith("\"-ERR Error compiling script", StringComparison.Ordinal)),
        new("*", "HELP lists only the subcommands MiniRedis serves, by design: advertising the others would invite calls that fail", c => c.Arg(1).Equals("help", StringComparison.OrdinalIgnoreCase)),
    ];
}
