using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// Keyspace notifications against real Redis 7.0.15, driven by one table: each case sets
/// notify-keyspace-events, runs its commands (redis-cli syntax) on one client while another is
/// subscribed with PSUBSCRIBE <c>__key*__:*</c>, and the replies and the sequence of notifications
/// (channel and message) must be those Redis gives. <c>SLEEP ms</c> is not a command: the runner waits;
/// <c>@type</c> before a command compares only the shape of its reply (random picks), as in the corpus files;
/// <c>@blocked</c> sends a blocking command from another client and goes on once it waits (its reply is read at the end).
/// </summary>
[Trait("Category", "Differential")]
public sealed class KeyspaceNotificationTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    const string AllEvents = "AKEn";

    static readonly (string Name, string Classes, string[] Commands)[] Cases =
    [
        ("set", AllEvents, ["SET s 1", "SET s 2", "SET s 3 NX", "SET t 3 XX", "SET s 4 XX", "SET s 5 EX 100", "SET s 6 PX 100000 GET", "SET s 7 KEEPTTL",
            "SET u 1 NX PXAT 99999999999999", "SET s 8 EXAT 99999999999", "LPUSH l a", "SET l x GET", "SET l x"]),
        ("setnx setex psetex getset", AllEvents, ["SETNX a 1", "SETNX a 2", "SETEX b 100 v", "PSETEX c 100000 v", "GETSET a 9", "GETSET z 1", "SETEX b 0 v"]),
        ("getdel getex", AllEvents, ["SET a 1", "GETDEL a", "GETDEL a", "SET b 1", "GETEX b EX 100", "GETEX b PERSIST", "GETEX b PERSIST",
            "GETEX b PX 100000", "GETEX b", "GETEX b PXAT 1", "GETEX nokey EX 10"]),
        ("mset msetnx", AllEvents, ["MSET a 1 b 2 a 3", "MSETNX c 1 d 2", "MSETNX d 3 e 4"]),
        ("append setrange", AllEvents, ["APPEND a x", "APPEND a yz", "SETRANGE b 3 abc", "SETRANGE b 0 Z", "SETRANGE b 1 \"\"", "SETRANGE c 0 \"\"", "LPUSH l x", "APPEND l x"]),
        ("incr family", AllEvents, ["INCR n", "INCR n", "DECR n", "INCRBY n 10", "DECRBY m 5", "INCRBYFLOAT f 1.5", "INCRBYFLOAT f 2", "SET s abc", "INCR s", "INCRBYFLOAT s 1"]),
        ("del unlink", AllEvents, ["MSET a 1 b 2 c 3", "DEL a b missing", "UNLINK c missing", "DEL missing"]),
        ("rename", AllEvents, ["SET a 1", "RENAME a b", "SET c 2", "RENAME b c", "RENAME c c", "SET d 3", "RENAMENX c d", "RENAMENX c e", "RENAME missing x",
            "SET v 1 EX 100", "RENAME v w"]),
        ("copy move", AllEvents, ["SET a 1", "COPY a b", "COPY a b", "COPY a b REPLACE", "COPY a b DB 1", "SET v 1 EX 100", "COPY v w",
            "MOVE a 2", "MOVE a 2", "SET a 5", "MOVE a 2", "SELECT 2", "GET a", "SELECT 0"]),
        ("expire family", AllEvents, ["SET a 1", "EXPIRE a 100", "PEXPIRE a 100000", "EXPIREAT a 99999999999", "PEXPIREAT a 99999999999999",
            "EXPIRE a 50 NX", "EXPIRE a 200 GT", "EXPIRE a 10 LT", "EXPIRE a 10 XX", "PERSIST a", "PERSIST a", "EXPIRE a 10 XX", "EXPIRE missing 10",
            "EXPIRE a -1", "SET b 1", "PEXPIREAT b 1", "SET c 1", "EXPIREAT c 0"]),
        // One volatile key per case: with more, the active cycle may expire them in another order than the accesses.
        ("lazy expiry", AllEvents, ["SET a 1 PX 1", "SLEEP 20", "GET a", "EXISTS a", "TTL a"]),
        ("lazy expiry on write", AllEvents, ["RPUSH l a", "PEXPIRE l 1", "SLEEP 20", "RPUSH l b"]),
        ("active expiry", AllEvents, ["HSET h f v", "PEXPIRE h 1", "SLEEP 1000"]),
        ("touch flush swapdb", AllEvents, ["SET a 1", "TOUCH a", "SWAPDB 0 1", "FLUSHDB", "SELECT 1", "FLUSHALL", "SELECT 0"]),
        ("lpush rpush", AllEvents, ["LPUSH l a b c", "RPUSH l d", "LPUSHX l e", "LPUSHX m e", "RPUSHX l f", "RPUSHX m f", "SET s x", "LPUSH s a"]),
        ("lpop rpop", AllEvents, ["RPUSH l a b c d e", "LPOP l", "RPOP l", "LPOP l 2", "LPOP l 0", "RPOP l 5", "LPOP l", "RPOP l 2"]),
        ("lset linsert", AllEvents, ["RPUSH l a b c", "LSET l 0 x", "LSET l 10 x", "LINSERT l BEFORE b y", "LINSERT l AFTER nope y", "LINSERT m AFTER a b"]),
        ("lrem ltrim", AllEvents, ["RPUSH l a b a c a", "LREM l 2 a", "LREM l 0 zz", "LTRIM l 0 5", "LTRIM l 0 0", "LREM l 0 b", "RPUSH m a b", "LTRIM m 5 10", "LTRIM m 0 1"]),
        ("lmove rpoplpush", AllEvents, ["RPUSH src a b c", "LMOVE src dst LEFT RIGHT", "LMOVE src dst RIGHT LEFT", "RPOPLPUSH src src", "RPOPLPUSH src dst",
            "LMOVE missing dst LEFT LEFT", "RPUSH one x", "LMOVE one one LEFT RIGHT"]),
        ("lmpop and blocking forms served at once", AllEvents, ["RPUSH a 1 2 3", "RPUSH b 4", "LMPOP 2 missing a LEFT COUNT 2", "LMPOP 1 b RIGHT",
            "BLPOP missing a 1", "RPUSH a 5 6", "BRPOP a 1", "BLMOVE a c LEFT LEFT 1", "RPUSH d x", "BRPOPLPUSH d e 1", "RPUSH f 1 2", "BLMPOP 1 1 f RIGHT COUNT 5"]),
        ("hset hsetnx hmset", AllEvents, ["HSET h a 1 b 2", "HSET h a 3", "HMSET h c 4", "HSETNX h a 5", "HSETNX h z 5", "HSETNX g a 1", "SET s 1", "HSET s a 1"]),
        ("hdel hincrby", AllEvents, ["HSET h a 1 b 2 c x", "HDEL h a nope", "HDEL h nope", "HINCRBY h b 5", "HINCRBY h c 1", "HINCRBYFLOAT h b 0.5",
            "HINCRBY n f 1", "HDEL h b c", "HDEL h b"]),
        ("sadd srem", AllEvents, ["SADD s a b c", "SADD s a", "SREM s a nope", "SREM s nope", "SREM s b c", "SADD t 1 2 3"]),
        ("smove", AllEvents, ["SADD a x y", "SADD b y", "SMOVE a b x", "SMOVE a b y", "SMOVE b b x", "SMOVE b c x", "SMOVE b c nope", "SMOVE missing c x"]),
        ("spop", AllEvents, ["SADD s a b c d e", "SPOP s 0", "@type SPOP s 2", "@type SPOP s", "@type SPOP s 10", "SADD t x", "SPOP t", "SPOP t"]),
        ("set stores", AllEvents, ["SADD a 1 2 3", "SADD b 2 3 4", "SINTERSTORE d a b", "SINTERSTORE d a b", "SUNIONSTORE d a b", "SDIFFSTORE d a b",
            "SDIFFSTORE d a a", "SDIFFSTORE d a a", "SINTERSTORE e a missing", "SET str x", "SUNIONSTORE str a", "SADD v 1", "EXPIRE v 100", "SUNIONSTORE v a"]),
        ("zadd zincrby", AllEvents, ["ZADD z 1 a 2 b", "ZADD z 1 a", "ZADD z 3 a", "ZADD z NX 5 a 6 c", "ZADD z XX 7 a 8 d", "ZADD y XX 1 a", "ZADD z GT 1 a",
            "ZADD z LT 1 a", "ZADD z CH 9 b", "ZADD z INCR 1 a", "ZADD z NX INCR 1 a", "ZINCRBY z 2 a", "ZINCRBY w 1 a", "ZADD z INCR 0 a"]),
        ("streams", AllEvents, ["XADD s 1-0 a 1", "XADD s 2-0 a 2", "XADD s MAXLEN 1 3-0 a 3", "XADD s MAXLEN 5 4-0 a 4", "XADD s NOMKSTREAM 5-0 a 5",
            "XADD t NOMKSTREAM 1-0 a 1", "XDEL s 4-0 9-0", "XDEL s 9-0", "XTRIM s MAXLEN 0", "XTRIM s MAXLEN 0", "XSETID s 10-0",
            "XGROUP CREATE s g $", "XGROUP CREATE s g $", "XGROUP CREATE u g 0 MKSTREAM", "XGROUP CREATECONSUMER s g c", "XGROUP CREATECONSUMER s g c",
            "XGROUP SETID s g 0", "XADD s 11-0 a 1", "XREADGROUP GROUP g d STREAMS s >", "XREADGROUP GROUP g d STREAMS s 0", "XACK s g 11-0",
            "XREADGROUP GROUP g e NOACK STREAMS s 0", "XCLAIM s g f 0 11-0 FORCE JUSTID", "XAUTOCLAIM s g h 0 0", "XGROUP DELCONSUMER s g c",
            "XGROUP DELCONSUMER s g zz", "XGROUP DESTROY s g", "XGROUP DESTROY s g", "DEL s u"]),
        ("zrem zremrange", AllEvents, ["ZADD z 1 a 2 b 3 c 4 d 5 e 6 f", "ZREM z a nope", "ZREM z nope", "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYRANK z 10 20",
            "ZREMRANGEBYSCORE z 3 4", "ZREMRANGEBYSCORE z 100 200", "ZADD l 0 a 0 b 0 c", "ZREMRANGEBYLEX l [a [b", "ZREMRANGEBYLEX l - +", "ZREM z e f"]),
        ("zpop", AllEvents, ["ZADD z 1 a 2 b 3 c 4 d", "ZPOPMIN z", "ZPOPMAX z", "ZPOPMIN z 0", "ZPOPMIN z 5", "ZPOPMIN z", "ZADD y 1 a 2 b",
            "ZMPOP 2 missing y MAX COUNT 1", "BZPOPMIN y 1", "ZADD x 1 a", "BZPOPMAX x 1", "ZADD w 1 a 2 b", "BZMPOP 1 1 w MIN COUNT 9"]),
        ("zset stores", AllEvents, ["ZADD a 1 x 2 y", "ZADD b 3 y 4 z", "ZUNIONSTORE d 2 a b", "ZUNIONSTORE d 2 a b", "ZINTERSTORE d 2 a b", "ZDIFFSTORE d 2 a b",
            "ZINTERSTORE d 2 a missing", "ZINTERSTORE d 2 a missing", "ZRANGESTORE r a 0 -1", "ZRANGESTORE r a 5 10", "ZRANGESTORE r a 5 10",
            "SET s 1", "ZUNIONSTORE s 1 a"]),
        ("sort store", AllEvents, ["RPUSH l 3 1 2", "SORT l STORE d", "SORT l STORE d", "SORT missing STORE d", "SORT missing STORE d", "SADD s b a",
            "SORT s ALPHA STORE d", "SORT l"]),
        ("bitmaps", AllEvents, ["SETBIT b 3 1", "SETBIT b 3 1", "SETBIT b 3 0", "SETBIT b 100 0", "BITFIELD b GET u8 0", "BITFIELD b SET u8 0 1 INCRBY u8 0 1",
            "BITFIELD b OVERFLOW FAIL INCRBY u8 0 1000", "BITFIELD c OVERFLOW FAIL SET u2 0 9", "BITOP AND d b c", "BITOP OR d missing", "BITOP OR d missing", "LPUSH l x", "SETBIT l 0 1"]),
        ("hyperloglog", AllEvents, ["PFADD h", "PFADD h a b", "PFADD h a", "PFCOUNT h", "PFCOUNT h h", "PFMERGE m h", "PFMERGE m", "PFDEBUG TODENSE h", "SET s x", "PFADD s a"]),
        ("blocked clients served by a push", AllEvents, ["@blocked BLPOP q 0", "RPUSH q a b", "@blocked BLMOVE q2 d RIGHT LEFT 0", "LPUSH q2 x",
            "@blocked BZPOPMIN z 0", "ZADD z 1 a"]),
        ("scripts", AllEvents, ["EVAL \"redis.call('set', KEYS[1], 'v'); redis.call('lpush', KEYS[2], 'a'); redis.call('del', KEYS[1]); return 1\" 2 k l",
            "EVAL \"return redis.call('incr', 'n')\" 0", "EVAL \"redis.call('set', 'a', 1); return redis.call('expire', 'a', 100)\" 0"]),
        ("multi exec", AllEvents, ["MULTI", "SET a 1", "INCR a", "RPUSH l x", "DEL a", "EXEC", "MULTI", "SET b 1", "DISCARD"]),
        ("other databases", AllEvents, ["SELECT 5", "SET a 1", "RENAME a b", "SADD s x", "SELECT 0", "SET a 1", "MOVE a 7"]),
        ("classes keyspace only", "K$", ["SET a 1", "DEL a", "LPUSH l x", "INCR n"]),
        ("classes keyevent only", "Egl", ["SET a 1", "DEL a", "LPUSH l x", "EXPIRE l 100", "RPOP l"]),
        ("classes hash set zset", "KEhsz", ["HSET h a 1", "SADD s a", "ZADD z 1 a", "SET x 1", "DEL h s z"]),
        ("classes new only", "KEn", ["SET a 1", "SET a 2", "RPUSH l x", "RENAME a b", "COPY b c", "HSET h f v"]),
        ("keymiss", "KEm", ["GET nope", "MGET a b", "HGET h f", "LRANGE l 0 -1", "SMEMBERS s", "ZRANGE z 0 -1", "EXISTS nope", "TTL nope", "TYPE nope",
            "STRLEN nope", "SET a 1", "GET a", "LLEN nope", "SCARD nope", "ZCARD nope", "HGETALL nope", "GETRANGE nope 0 1", "LINDEX nope 0"]),
        // A limit of one byte: the key goes, then the write is refused (OOM); the limit is lifted again for the next cases.
        // One key only: the order Redis evicts keys of equal idle time in is random.
        ("eviction", AllEvents, ["RPUSH l x", "CONFIG SET maxmemory-policy allkeys-lru", "CONFIG SET maxmemory 1", "SLEEP 100", "SET b 1",
            "CONFIG SET maxmemory 0", "CONFIG SET maxmemory-policy noeviction", "DBSIZE"]),
        ("keymiss with expired", "KExm", ["SET a 1 PX 1", "SLEEP 20", "GET a", "GET a"]),
    ];

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var (name, _, _) in Cases) names.Add(name);
        return names;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Notifications_match_real_redis(string name)
    {
        var (_, classes, commands) = Cases.Single(c => c.Name == name);
        Assert.Equal(Run(servers.Redis, classes, commands), Run(servers.Mini, classes, commands));
    }

    /// <summary>
    /// The command replies, then every notification received (channel and message), as one text. With
    /// <paramref name="classes"/> null the server's own setting is used (and kept).
    /// </summary>
    static string Run(ServerProcess server, string? classes, string[] commands)
    {
        using var client = server.Connect();
        using var subscriber = server.Connect();
        using var blocked = server.Connect();
        int blockedCommands = 0;
        client.Call("FLUSHALL");
        if (classes is not null) Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(client.Call("CONFIG", "SET", "notify-keyspace-events", classes)));
        subscriber.Call("PSUBSCRIBE", "__key*__:*");
        var seen = new StringBuilder();
        try
        {
            foreach (var line in commands)
            {
                if (line.StartsWith("SLEEP ", StringComparison.Ordinal))
                {
                    Thread.Sleep(int.Parse(line[6..], System.Globalization.CultureInfo.InvariantCulture));
                    continue;
                }
                if (line.StartsWith("@blocked ", StringComparison.Ordinal))
                {
                    blocked.Send(RespConnection.EncodeCommand(CommandLine.Split(line[9..])));
                    WaitUntilBlocked(client);
                    blockedCommands++;
                    continue;
                }
                bool shapeOnly = line.StartsWith("@type ", StringComparison.Ordinal);
                var command = new CorpusLine(0, line, shapeOnly ? Comparison.Shape : Comparison.Exact, CommandLine.Split(shapeOnly ? line[6..] : line));
                client.Send(RespConnection.EncodeCommand(command.Args));
                seen.Append(line).Append(" -> ").AppendLine(command.Canonical(client.ReadReply()));
            }
            // A message of our own on a matching channel marks the end of what the commands caused.
            client.Call("PUBLISH", "__keyspace@99__:end", "end");
            while (true)
            {
                // pmessage, pattern, channel, message
                var message = subscriber.ReadReply();
                if (message.Children[2].Text.EndsWith("__keyspace@99__:end\r\n", StringComparison.Ordinal)) break;
                seen.Append(message.Children[2]).Append(' ').AppendLine(message.Children[3].ToString());
            }
            for (int i = 0; i < blockedCommands; i++) seen.Append("blocked client -> ").AppendLine(blocked.ReadReply().ToString());
        }
        finally
        {
            if (classes is not null) client.Call("CONFIG", "SET", "notify-keyspace-events", "");
        }
        return seen.ToString();
    }

    /// <summary>Waits until a client waits in a blocking command.</summary>
    static void WaitUntilBlocked(RespConnection client) => Wait.ForBlockedClients(client, 1);

    static readonly string[] ClassStrings = ["", "KEA", "AKE", "Ag$lshzxeKEtmdn", "gx", "KElsh", "A$", "g$lshzxetd", "KEAm", "En", "m", "xyz", "AK ", "Kq"];

    [Fact]
    public void Config_get_shows_the_canonical_class_string_as_redis()
    {
        Assert.Equal(ConfigRoundTrips(servers.Redis), ConfigRoundTrips(servers.Mini));
    }

    static List<string> ConfigRoundTrips(ServerProcess server)
    {
        using var client = server.Connect();
        var seen = new List<string>();
        foreach (var classes in ClassStrings)
        {
            seen.Add(RespConnection.Escape(client.Call("CONFIG", "SET", "notify-keyspace-events", classes)));
            seen.Add(RespConnection.Escape(client.Call("CONFIG", "GET", "notify-keyspace-events")));
        }
        client.Call("CONFIG", "SET", "notify-keyspace-events", "");
        return seen;
    }

    /// <summary>Both servers started with notify-keyspace-events on their command line.</summary>
    public sealed class ConfiguredPair() : ServerPairFixture("--notify-keyspace-events", "Kgxn");

    public sealed class FromCommandLine(ConfiguredPair servers) : IClassFixture<ConfiguredPair>
    {
        [Fact]
        public void The_directive_at_start_is_shown_and_applied_as_redis()
        {
            Assert.Equal(StartupView(servers.Redis), StartupView(servers.Mini));
        }

        static string StartupView(ServerProcess server)
        {
            using var client = server.Connect();
            return RespConnection.Escape(client.Call("CONFIG", "GET", "notify-keyspace-events")) + "\n"
                + Run(server, null, ["SET a 1", "RPUSH l x", "DEL a", "SET b 1 PX 1", "SLEEP 20", "GET b"]);
        }
    }
}
