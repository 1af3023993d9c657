using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// Generic key and database commands, in-process. Expected replies were taken from a real Redis
/// 7.0.15 given the same commands.
/// </summary>
[Trait("Category", "Unit")]
public sealed class KeyCommandsTests : IDisposable
{
    const string Null = "$-1\r\n";
    const string Ok = "+OK\r\n";
    const string Zero = ":0\r\n";
    const string One = ":1\r\n";

    readonly RedisServer _server = InProcessClient.StartServer();
    readonly InProcessClient _client;

    public KeyCommandsTests() => _client = new InProcessClient(_server);

    public void Dispose() => _server.Stop();

    string Run(string line) => _client.Run(line);

    static string Error(string message) => $"-{message}\r\n";

    static string Bulk(string value) => $"${value.Length}\r\n{value}\r\n";

    string[] AfterExpiring(string[] keys, params string[] lines) => _client.RunAfterExpiring(keys, lines);

    /// <summary>The bulk strings of a flat reply array, sorted.</summary>
    static List<string> Elements(string reply)
    {
        var lines = reply.Split("\r\n");
        var items = new List<string>();
        for (int i = 1; i < lines.Length - 1; i++)
        {
            if (lines[i].StartsWith('$')) items.Add(lines[++i]);
        }
        items.Sort(StringComparer.Ordinal);
        return items;
    }

    [Fact]
    public void Del_and_unlink_count_only_keys_that_existed()
    {
        Run("MSET a 1 b 2 c 3");
        Assert.Equal(":2\r\n", Run("DEL a a nope b"));
        Assert.Equal(One, Run("UNLINK c"));
        Assert.Equal(Zero, Run("DEL a"));
        Assert.Equal(Zero, Run("DBSIZE"));
    }

    [Fact]
    public void Exists_counts_repeated_keys_and_binary_keys()
    {
        Run("SET \"bin\\x00\\xff\\r\\nkey\" v");
        Run("SET a 1");
        Assert.Equal(":3\r\n", Run("EXISTS a a nope \"bin\\x00\\xff\\r\\nkey\""));
    }

    [Fact]
    public void Type_names_the_value_type_or_none()
    {
        Run("SET s v");
        Assert.Equal("+string\r\n", Run("TYPE s"));
        Assert.Equal("+none\r\n", Run("TYPE missing"));
    }

    [Fact]
    public void Keys_matches_redis_globs_and_hides_expired_keys()
    {
        Run("MSET foo 1 fob 1 f*o 1 bar 1 ABC 1");
        var replies = AfterExpiring(["fox"], "KEYS f*", "DBSIZE");
        Assert.Equal(["f*o", "fob", "foo"], Elements(replies[0]));
        Assert.Equal(":6\r\n", replies[1]); // KEYS does not delete the expired key
        Assert.Equal(["fob", "foo"], Elements(Run("KEYS f[a-o]?")));
        Assert.Equal(["f*o"], Elements(Run("KEYS f\\*o")));
        Assert.Equal(["ABC"], Elements(Run("KEYS ABC")));
        Assert.Equal(5, Elements(Run("KEYS *")).Count);
    }

    [Theory]
    [InlineData("x")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("-")]
    [InlineData("+")]
    [InlineData("0x1")]
    [InlineData("18446744073709551616")]
    public void Scan_rejects_what_strtoul_rejects(string cursor)
        => Assert.Equal(Error("ERR invalid cursor"), Run($"SCAN \"{cursor}\""));

    [Theory]
    [InlineData("\"\"")]
    [InlineData("+0")]
    [InlineData("-0")]
    [InlineData("-1")]
    [InlineData("18446744073709551615")]
    public void Scan_accepts_signed_and_empty_cursors(string cursor)
        => Assert.Equal("*2\r\n$1\r\n0\r\n*0\r\n", Run($"SCAN {cursor}"));

    [Theory]
    [InlineData("SCAN 0 COUNT 0", "ERR syntax error")]
    [InlineData("SCAN 0 COUNT -1", "ERR syntax error")]
    [InlineData("SCAN 0 COUNT x", "ERR value is not an integer or out of range")]
    [InlineData("SCAN 0 MATCH", "ERR syntax error")]
    [InlineData("SCAN 0 FOO bar", "ERR syntax error")]
    [InlineData("SCAN x COUNT 0", "ERR invalid cursor")]
    public void Scan_option_errors(string command, string error) => Assert.Equal(Error(error), Run(command));

    /// <summary>A SCAN reply's cursor and its keys, sorted.</summary>
    static (string Cursor, List<string> Keys) ScanReply(string reply)
    {
        var lines = reply.Split("\r\n");
        var keys = new List<string>();
        for (int i = 5; i < lines.Length - 1; i += 2) keys.Add(lines[i]);
        keys.Sort(StringComparer.Ordinal);
        return (lines[2], keys);
    }

    List<string> ScanAll(string options)
    {
        var keys = new List<string>();
        string cursor = "0";
        do
        {
            (cursor, var batch) = ScanReply(Run($"SCAN {cursor} {options}"));
            keys.AddRange(batch);
        }
        while (cursor != "0");
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    [Fact]
    public void Scan_filters_by_match_and_type()
    {
        Run("MSET foo 1 fob 1 bar 1");
        Assert.Equal(["bar", "fob", "foo"], ScanAll("COUNT 1"));
        Assert.Equal(["fob", "foo"], ScanAll("MATCH f* COUNT 2"));
        Assert.Equal(["bar", "fob", "foo"], ScanAll("TYPE STRING"));
        Assert.Empty(ScanAll("TYPE list"));
    }

    [Fact]
    public void Scan_skips_expired_keys()
    {
        Run("MSET foo 1 bar 1");
        var replies = AfterExpiring(["fox"], "SCAN 0 COUNT 100", "DBSIZE");
        Assert.Equal(["bar", "foo"], ScanReply(replies[0]).Keys);
        Assert.Equal(":2\r\n", replies[1]);
    }

    [Fact]
    public void Scan_type_none_returns_an_expired_key_like_redis()
    {
        Run("SET live 1");
        var replies = AfterExpiring(["gone"], "SCAN 0 TYPE none COUNT 100", "DBSIZE");
        Assert.Equal(["gone"], ScanReply(replies[0]).Keys);
        Assert.Equal(One, replies[1]); // the type lookup deleted it
    }

    [Fact]
    public void Scan_returns_every_key_present_throughout_while_the_table_resizes()
    {
        for (int i = 0; i < 200; i++) Run($"SET stay:{i} v");
        var seen = new HashSet<string>();
        string cursor = "0";
        int round = 0;
        do
        {
            (cursor, var keys) = ScanReply(Run($"SCAN {cursor} COUNT 7"));
            seen.UnionWith(keys);
            // Grow, then shrink the table between calls.
            if (round < 10) for (int i = 0; i < 100; i++) Run($"SET churn:{round}:{i} v");
            else if (round == 10) Run("DEL " + string.Join(' ', Enumerable.Range(0, 10).SelectMany(r => Enumerable.Range(0, 100).Select(i => $"churn:{r}:{i}"))));
            round++;
        }
        while (cursor != "0");
        for (int i = 0; i < 200; i++) Assert.Contains($"stay:{i}", seen);
    }

    [Fact]
    public void Randomkey_is_null_when_empty_and_never_returns_an_expired_key()
    {
        Assert.Equal(Null, Run("RANDOMKEY"));
        Assert.Equal([Null, Zero], AfterExpiring(["a", "b", "c"], "RANDOMKEY", "DBSIZE"));
        Run("SET only 1");
        Assert.Equal(Bulk("only"), Run("RANDOMKEY"));
    }

    [Fact]
    public void Rename_moves_value_and_ttl_and_overwrites_target()
    {
        Run("SET r1 v1");
        Run("PEXPIRE r1 100000");
        Run("SET r2 old EX 5");
        Assert.Equal(Ok, Run("RENAME r1 r2"));
        Assert.Equal(Bulk("v1"), Run("GET r2"));
        Assert.Equal(":100\r\n", Run("TTL r2"));
        Assert.Equal(Zero, Run("EXISTS r1"));
        Run("SET plain v");
        Assert.Equal(Ok, Run("RENAME plain r2"));
        Assert.Equal(":-1\r\n", Run("TTL r2"));
    }

    [Fact]
    public void Rename_same_key_and_missing_key_rules()
    {
        Assert.Equal(Error("ERR no such key"), Run("RENAME nokey nokey"));
        Assert.Equal(Error("ERR no such key"), Run("RENAMENX nokey x"));
        Run("SET k v");
        Assert.Equal(Ok, Run("RENAME k k"));
        Assert.Equal(Zero, Run("RENAMENX k k"));
        Run("SET other v");
        Assert.Equal(Zero, Run("RENAMENX k other"));
        Assert.Equal(One, Run("RENAMENX k fresh"));
    }

    [Fact]
    public void Copy_is_deep_and_keeps_ttl()
    {
        Run("SET src abc");
        Run("EXPIRE src 1000");
        Assert.Equal(One, Run("COPY src dst"));
        Run("SET src xyz KEEPTTL"); // same length: rewritten in place, which must not reach the copy
        Assert.Equal(Bulk("abc"), Run("GET dst"));
        Assert.Equal(":1000\r\n", Run("TTL dst"));
        Assert.Equal(Zero, Run("COPY src dst"));
        Assert.Equal(One, Run("COPY src dst REPLACE"));
        Assert.Equal(Bulk("xyz"), Run("GET dst"));
    }

    [Fact]
    public void Copy_to_another_database()
    {
        Run("SET k 123");
        Assert.Equal(One, Run("COPY k k DB 1"));
        Run("SELECT 1");
        Assert.Equal(Bulk("123"), Run("GET k"));
        Assert.Equal(Bulk("int"), Run("OBJECT ENCODING k"));
    }

    [Theory]
    [InlineData("COPY k k", "ERR source and destination objects are the same")]
    [InlineData("COPY k k DB 0", "ERR source and destination objects are the same")]
    [InlineData("COPY k x DB 16", "ERR DB index is out of range")]
    [InlineData("COPY k x DB -1", "ERR DB index is out of range")]
    [InlineData("COPY k x DB x", "ERR value is not an integer or out of range")]
    [InlineData("COPY k x DB 4294967296", "ERR value is out of range, value must between -2147483648 and 2147483647")]
    [InlineData("COPY k x DB", "ERR syntax error")]
    [InlineData("COPY k x FOO", "ERR syntax error")]
    [InlineData("COPY nokey nokey", "ERR source and destination objects are the same")]
    public void Copy_errors(string command, string error) => Assert.Equal(Error(error), Run(command));

    [Fact]
    public void Move_keeps_ttl_and_refuses_existing_target()
    {
        Run("SET m v PX 500000");
        Assert.Equal(One, Run("MOVE m 2"));
        Assert.Equal(Zero, Run("EXISTS m"));
        Run("SELECT 2");
        Assert.Equal(":500\r\n", Run("TTL m"));
        Run("SET taken 1");
        Run("SELECT 0");
        Run("SET taken 2");
        Assert.Equal(Zero, Run("MOVE taken 2"));
        Assert.Equal(Zero, Run("MOVE nokey 2"));
    }

    [Theory]
    [InlineData("MOVE k 0", "ERR source and destination objects are the same")]
    [InlineData("MOVE k 16", "ERR DB index is out of range")]
    [InlineData("MOVE k x", "ERR value is not an integer or out of range")]
    [InlineData("MOVE k 99999999999", "ERR value is out of range, value must between -2147483648 and 2147483647")]
    public void Move_errors(string command, string error) => Assert.Equal(Error(error), Run(command));

    [Fact]
    public void Touch_counts_existing_keys()
    {
        Run("SET a 1");
        Assert.Equal(":2\r\n", Run("TOUCH a a missing"));
    }

    [Theory]
    [InlineData("EXPIRE k 100 foo", "ERR Unsupported option foo")]
    [InlineData("EXPIRE k 100 \"fo\\x00o\"", "ERR Unsupported option fo")]
    [InlineData("EXPIRE k 100 nx xx", "ERR NX and XX, GT or LT options at the same time are not compatible")]
    [InlineData("EXPIRE k 100 lt NX", "ERR NX and XX, GT or LT options at the same time are not compatible")]
    [InlineData("EXPIRE k 100 GT LT", "ERR GT and LT options at the same time are not compatible")]
    [InlineData("EXPIRE k x nx xx", "ERR NX and XX, GT or LT options at the same time are not compatible")]
    [InlineData("EXPIRE k x", "ERR value is not an integer or out of range")]
    [InlineData("EXPIRE k 9223372036854776", "ERR invalid expire time in 'expire' command")]
    [InlineData("EXPIRE k -9223372036854776", "ERR invalid expire time in 'expire' command")]
    [InlineData("EXPIRE nokey 9223372036854775", "ERR invalid expire time in 'expire' command")]
    [InlineData("PEXPIRE k 9223372036854775807", "ERR invalid expire time in 'pexpire' command")]
    [InlineData("EXPIREAT k 9223372036854776", "ERR invalid expire time in 'expireat' command")]
    public void Expire_errors(string command, string error)
    {
        Run("SET k v");
        Assert.Equal(Error(error), Run(command));
    }

    [Fact]
    public void Expire_options_follow_redis_7_rules()
    {
        Run("SET e v");
        Assert.Equal(Zero, Run("EXPIRE e 100 XX"));
        Assert.Equal(Zero, Run("EXPIRE e 100 GT")); // no TTL counts as infinite
        Assert.Equal(One, Run("EXPIRE e 100 LT"));
        Assert.Equal(Zero, Run("EXPIRE e 50 NX"));
        Assert.Equal(One, Run("EXPIRE e 200 GT"));
        Assert.Equal(Zero, Run("EXPIRE e 100 GT"));
        Assert.Equal(Zero, Run("EXPIRE e 300 LT"));
        Assert.Equal(One, Run("EXPIRE e 10 XX LT"));
        Assert.Equal(":10\r\n", Run("TTL e"));
        Assert.Equal(Zero, Run("EXPIRE nokey 100"));
    }

    [Theory]
    [InlineData("EXPIRE e 0")]
    [InlineData("EXPIRE e -5 NX")]
    [InlineData("PEXPIREAT e 1")]
    [InlineData("EXPIREAT e 0 LT")]
    public void Expire_in_the_past_deletes_the_key(string command)
    {
        Run("SET e v");
        Assert.Equal(One, Run(command));
        Assert.Equal(Zero, Run("EXISTS e"));
    }

    [Fact]
    public void Ttl_family_rounds_and_reports_missing_and_persistent_keys()
    {
        Run("SET t v");
        Assert.Equal(":-1\r\n", Run("TTL t"));
        Assert.Equal(":-1\r\n", Run("PEXPIRETIME t"));
        Assert.Equal(":-2\r\n", Run("PTTL nokey"));
        Assert.Equal(":-2\r\n", Run("EXPIRETIME nokey"));
        Run("PEXPIREAT t 4000000000499");
        Assert.Equal(":4000000000\r\n", Run("EXPIRETIME t"));
        Assert.Equal(":4000000000499\r\n", Run("PEXPIRETIME t"));
        Run("PEXPIREAT t 4000000000500");
        Assert.Equal(":4000000001\r\n", Run("EXPIRETIME t"));
        Run("PEXPIREAT t 9223372036854775807");
        Assert.Equal(":9223372036854776\r\n", Run("EXPIRETIME t"));
    }

    [Fact]
    public void Persist_removes_a_ttl_once()
    {
        Run("SET p v EX 100");
        Assert.Equal(One, Run("PERSIST p"));
        Assert.Equal(Zero, Run("PERSIST p"));
        Assert.Equal(Zero, Run("PERSIST nokey"));
        Assert.Equal(":-1\r\n", Run("TTL p"));
    }

    [Theory]
    [InlineData("0", "int", 2147483647)]
    [InlineData("9999", "int", 2147483647)]
    [InlineData("10000", "int", 1)]
    [InlineData("-1", "int", 1)]
    [InlineData("01", "embstr", 1)]
    [InlineData("12345678901234567890", "embstr", 1)]
    [InlineData("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "embstr", 1)]
    [InlineData("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "raw", 1)]
    public void Object_encoding_and_refcount_of_strings(string value, string encoding, int refcount)
    {
        Run($"SET o {value}");
        Assert.Equal(Bulk(encoding), Run("OBJECT ENCODING o"));
        Assert.Equal($":{refcount}\r\n", Run("OBJECT REFCOUNT o"));
    }

    [Fact]
    public void Object_on_missing_key_is_null_and_freq_needs_lfu()
    {
        Assert.Equal(Null, Run("OBJECT ENCODING nokey"));
        Assert.Equal(Null, Run("OBJECT FREQ nokey"));
        Run("SET k v");
        Assert.Equal(Zero, Run("OBJECT IDLETIME k"));
        Assert.Equal(Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."), Run("OBJECT FREQ k"));
        Assert.Equal(Error("ERR unknown subcommand 'foo'. Try OBJECT HELP."), Run("OBJECT foo"));
        Assert.Equal(Error("ERR wrong number of arguments for 'object|encoding' command"), Run("OBJECT ENCODING"));
    }

    [Fact]
    public void Object_help()
    {
        var reply = Run("object help");
        Assert.StartsWith("*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n", reply, StringComparison.Ordinal);
        Assert.EndsWith("+HELP\r\n+    Prints this help.\r\n", reply, StringComparison.Ordinal);
    }

    [Fact]
    public void Flush_and_swap_databases()
    {
        Run("SET a 1");
        Run("SELECT 3");
        Run("MSET b 1 c 1");
        Assert.Equal(Ok, Run("SWAPDB 3 0"));
        Assert.Equal(One, Run("DBSIZE"));
        Assert.Equal(Bulk("1"), Run("GET a"));
        Assert.Equal(Ok, Run("FLUSHDB ASYNC"));
        Assert.Equal(Zero, Run("DBSIZE"));
        Run("SELECT 0");
        Assert.Equal(":2\r\n", Run("DBSIZE"));
        Assert.Equal(Ok, Run("FLUSHALL sync"));
        Assert.Equal(Zero, Run("DBSIZE"));
    }

    [Theory]
    [InlineData("FLUSHDB x", "ERR syntax error")]
    [InlineData("FLUSHALL sync async", "ERR syntax error")]
    [InlineData("SWAPDB 0 16", "ERR DB index is out of range")]
    [InlineData("SWAPDB -1 0", "ERR DB index is out of range")]
    [InlineData("SWAPDB x 0", "ERR invalid first DB index")]
    [InlineData("SWAPDB 0 x", "ERR invalid second DB index")]
    [InlineData("SWAPDB 99999999999 0", "ERR invalid first DB index")]
    public void Database_command_errors(string command, string error) => Assert.Equal(Error(error), Run(command));

    /// <summary>WATCH w, another client runs <paramref name="commands"/>, then MULTI/EXEC: aborted or not.</summary>
    [Theory]
    [InlineData("SET w 1", "EXPIRE w 100", true)]
    [InlineData("SET w 1", "EXPIRE nokey 100", false)]
    [InlineData("SET w 1 EX 100", "EXPIRE w 100 NX", false)]
    [InlineData("SET w 1", "PERSIST w", false)]
    [InlineData("SET w 1", "EXPIRE w -1", true)]
    [InlineData("SET w 1", "DEL w", true)]
    [InlineData("SET z 1", "DEL w", false)]
    [InlineData("SET z 1", "RENAME z w", true)]
    [InlineData("SET z 1", "COPY z w", true)]
    [InlineData("SET w 1", "MOVE w 1", true)]
    [InlineData("SET z 1", "FLUSHDB", false)]
    [InlineData("SET w 1", "FLUSHALL", true)]
    [InlineData("SET z 1", "SWAPDB 0 1", false)]
    [InlineData("SET w 1", "SWAPDB 0 1", true)]
    [InlineData("SET w 1", "SWAPDB 0 0", false)]
    [InlineData("SET w 1", "TOUCH w", false)]
    public void Watch_sees_real_changes_only(string setup, string commands, bool aborted)
    {
        Run(setup);
        Run("WATCH w");
        var other = new InProcessClient(_server);
        foreach (var command in commands.Split(';')) other.Run(command);
        Run("MULTI");
        Run("PING");
        Assert.Equal(aborted ? "*-1\r\n" : "*1\r\n+PONG\r\n", Run("EXEC"));
    }

    [Fact]
    public void Swapdb_touches_a_key_watched_in_the_other_database()
    {
        Run("SELECT 1");
        Run("SET w 1");
        Run("SELECT 0");
        Run("WATCH w");
        new InProcessClient(_server).Run("SWAPDB 0 1");
        Run("MULTI");
        Assert.Equal("*-1\r\n", Run("EXEC"));
    }

    [Theory]
    [InlineData("EXISTS x", ":0\r\n")]
    [InlineData("TYPE x", "+none\r\n")]
    [InlineData("RENAME x y", "-ERR no such key\r\n")]
    [InlineData("COPY x y", ":0\r\n")]
    [InlineData("MOVE x 1", ":0\r\n")]
    [InlineData("EXPIRE x 100", ":0\r\n")]
    [InlineData("PERSIST x", ":0\r\n")]
    [InlineData("TTL x", ":-2\r\n")]
    [InlineData("OBJECT ENCODING x", "$-1\r\n")]
    [InlineData("DEL x", ":0\r\n")]
    public void Lazily_expired_keys_look_missing(string command, string reply)
        => Assert.Equal([reply, Zero], AfterExpiring(["x"], command, "DBSIZE"));

    [Fact]
    public void Binary_keys_round_trip_through_rename_and_keys()
    {
        byte[] key = [0, 0xff, (byte)'\r', (byte)'\n', (byte)'*'];
        byte[] renamed = [0xfe, 0];
        Assert.Equal("+OK\r\n"u8.ToArray(), _client.Run("SET"u8.ToArray(), key, "v"u8.ToArray()));
        Assert.Equal("+OK\r\n"u8.ToArray(), _client.Run("RENAME"u8.ToArray(), key, renamed));
        byte[] expected = [.. "*1\r\n$2\r\n"u8, .. renamed, .. "\r\n"u8];
        Assert.Equal(expected, _client.Run("KEYS"u8.ToArray(), "*"u8.ToArray()));
    }
}
