using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Observability;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>
/// DEBUG (Redis's debug.c): the subcommands tools and test suites use that make sense without a C
/// heap; the crash, allocator and cluster ones are not here.
/// </summary>
public static unsafe class DebugCommands
{
    /// <summary>Redis's OBJ_SHARED_REFCOUNT: the refcount of its shared small integers.</summary>
    const int SharedRefCount = int.MaxValue;

    const uint LruClockMax = (1 << 24) - 1;

    /// <summary>Redis 7.0.15's DEBUG HELP lines for the subcommands this server has, in Redis's order.</summary>
    static readonly string[] HelpLines =
    [
        "CHANGE-REPL-ID",
        "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication subsystem.",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "RELOAD [option ...]",
        "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
        "    * MERGE: conflicting keys will be loaded from RDB.",
        "    * NOFLUSH: the existing database will not be removed before load, but",
        "      conflicting keys will generate an exception and kill the server.",
        "    * NOSAVE: the database will be loaded from an existing RDB file.",
        "    Examples:",
        "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
        "      the database.",
        "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
        "      existing RDB file.",
        "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
        "      file to the database.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Sets the threshold for elements to be inserted as plain vs packed nodes",
        "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "STRINGMATCH-TEST",
        "    Run a fuzz tester against the stringmatchlen() function.",
        "LISTPACK <key>",
        "    Show low level info about the listpack encoding of <key>.",
    ];

    public static void Register(CommandTable t) => t.Add("debug", &Debug);

    static void Debug(CommandContext ctx)
    {
        int argc = ctx.ArgCount;
        if (argc == 2 && ctx.ArgIs(1, "HELP"u8)) ServerCommands.ReplyHelp(ctx, "DEBUG", HelpLines);
        else if (argc == 3 && ctx.ArgIs(1, "SLEEP"u8)) Sleep(ctx);
        else if (argc == 3 && ctx.ArgIs(1, "OBJECT"u8)) Object(ctx);
        else if (ctx.ArgIs(1, "RELOAD"u8)) Reload(ctx);
        else if (argc == 2 && ctx.ArgIs(1, "DIGEST"u8)) ctx.Reply.SimpleString(DatasetDigest.OfDataset(ctx.Keyspace));
        else if (ctx.ArgIs(1, "DIGEST-VALUE"u8)) DigestValue(ctx);
        else if (argc == 3 && ctx.ArgIs(1, "SET-ACTIVE-EXPIRE"u8)) SetActiveExpire(ctx);
        else if (argc is >= 3 and <= 5 && ctx.ArgIs(1, "POPULATE"u8)) Populate(ctx);
        else if (argc == 3 && ctx.ArgIs(1, "PROTOCOL"u8)) Protocol(ctx);
        else if (argc == 3 && ctx.ArgIs(1, "QUICKLIST-PACKED-THRESHOLD"u8)) QuicklistPackedThreshold(ctx);
        else if (argc == 3 && ctx.ArgIs(1, "LISTPACK"u8)) Listpack(ctx);
        else if (argc == 2 && ctx.ArgIs(1, "CHANGE-REPL-ID"u8)) ChangeReplicationId(ctx);
        else if (argc == 3 && ctx.ArgIs(1, "LOG"u8)) Log(ctx);
        else if (argc == 2 && ctx.ArgIs(1, "STRINGMATCH-TEST"u8)) StringMatchTest(ctx);
        else ServerCommands.SubcommandSyntaxError(ctx);
    }

    /// <summary>DEBUG DIGEST-VALUE key...: each key's value digest; a missing key (or one logically expired: not expired here) gives zeros.</summary>
    static void DigestValue(CommandContext ctx)
    {
        ctx.Reply.ArrayHeader(ctx.ArgCount - 2);
        for (int i = 2; i < ctx.ArgCount; i++) ctx.Reply.SimpleString(DatasetDigest.OfValue(ctx.Db.Peek(ctx.Arg(i))));
    }

    /// <summary>DEBUG SET-ACTIVE-EXPIRE 0|1: C's atoi, any non-zero number enables.</summary>
    static void SetActiveExpire(CommandContext ctx)
    {
        ctx.Server.ActiveExpireEnabled = Atoi(ctx.ArgString(2)) != 0;
        ctx.Reply.Ok();
    }

    /// <summary>C's atoi: an optional sign and the leading digits, 0 without any.</summary>
    static long Atoi(string text)
    {
        text = text.TrimStart();
        int end = text.Length > 0 && text[0] is '-' or '+' ? 1 : 0;
        while (end < text.Length && char.IsAsciiDigit(text[end]) && end < 19) end++;
        return long.TryParse(text.AsSpan(0, end), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value : 0;
    }

    /// <summary>
    /// DEBUG POPULATE count [prefix] [size]: string keys prefix:N = "value:N" (padded with zero bytes
    /// to size, or cut to it), skipping keys that exist. Not propagated, as in Redis.
    /// </summary>
    static void Populate(CommandContext ctx)
    {
        if (!TryGetPositive(ctx, 2, out long count)) return;
        long size = 0;
        if (ctx.ArgCount == 5 && !TryGetPositive(ctx, 4, out size)) return;
        string prefix = ctx.ArgCount == 3 ? "key" : ctx.ArgString(3);
        for (long i = 0; i < count; i++)
        {
            var key = Encoding.Latin1.GetBytes(prefix + ":" + i.ToString(CultureInfo.InvariantCulture));
            if (ctx.LookupWrite(key) is not null) continue;
            var text = Encoding.ASCII.GetBytes("value:" + i.ToString(CultureInfo.InvariantCulture));
            var value = size == 0 ? text : new byte[size];
            if (size != 0) text.AsSpan(0, (int)Math.Min(size, text.Length)).CopyTo(value);
            ctx.Db.SetString(key, value, encodingAs: value.Length <= EmbstrMaxLength ? ObjectEncoding.Embstr : ObjectEncoding.Raw);
            ctx.Db.Touch(key);
        }
        ctx.Reply.Ok();
    }

    /// <summary>Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.</summary>
    const int EmbstrMaxLength = 44;

    /// <summary>Redis's getPositiveLongFromObjectOrReply: one error for a non-number and a negative one.</summary>
    static bool TryGetPositive(CommandContext ctx, int index, out long value)
    {
        const string error = "ERR value is out of range, must be positive";
        if (!ctx.TryGetLong(index, out value, error)) return false;
        if (value >= 0) return true;
        ctx.Error(error);
        return false;
    }

    /// <summary>DEBUG PROTOCOL type: a sample reply of each RESP type (Redis's client library test aid).</summary>
    static void Protocol(CommandContext ctx)
    {
        var reply = ctx.Reply;
        switch (ctx.ArgString(2).ToLowerInvariant())
        {
            case "string": reply.Bulk("Hello World"u8); break;
            case "integer": reply.Integer(12345); break;
            case "double": reply.Double(3.141); break;
            case "bignum":
                if (reply.Resp3) reply.Raw("(1234567999999999999999999999999999999\r\n"u8);
                else reply.Bulk("1234567999999999999999999999999999999"u8);
                break;
            case "null": reply.NullBulk(); break;
            case "array":
                reply.ArrayHeader(3);
                for (int i = 0; i < 3; i++) reply.Integer(i);
                break;
            case "set":
                reply.SetHeader(3);
                for (int i = 0; i < 3; i++) reply.Integer(i);
                break;
            case "map":
                reply.MapHeader(3);
                for (int i = 0; i < 3; i++)
                {
                    reply.Integer(i);
                    reply.Boolean(i == 1);
                }
                break;
            case "attrib":
                if (reply.Resp3)
                {
                    reply.Raw("|1\r\n"u8);
                    reply.Bulk("key-popularity"u8);
                    reply.ArrayHeader(2);
                    reply.Bulk("key:123"u8);
                    reply.Integer(90);
                }
                reply.Bulk("Some real reply following the attribute"u8);
                break;
            case "push":
                if (!reply.Resp3)
                {
                    ctx.Error("ERR RESP2 is not supported by this command");
                    return;
                }
                reply.PushHeader(2);
                reply.Bulk("server-cpu-usage"u8);
                reply.Integer(42);
                reply.Bulk("Some real reply following the push reply"u8);
                break;
            case "true": reply.Boolean(true); break;
            case "false": reply.Boolean(false); break;
            case "verbatim": reply.Verbatim("This is a verbatim\nstring"); break;
            default:
                ctx.Error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
                break;
        }
    }

    /// <summary>
    /// DEBUG QUICKLIST-PACKED-THRESHOLD size: checked as Redis checks it (a memory value up to 4 GiB
    /// minus 1 MiB; 0 restores 1 GiB). Lists here have no plain nodes, so the value changes no encoding.
    /// </summary>
    static void QuicklistPackedThreshold(CommandContext ctx)
    {
        if (!Config.NumberParsing.TryParseMemory(ctx.ArgString(2), out ulong size) || size > (1UL << 32) - (1 << 20))
        {
            ctx.Error("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
            return;
        }
        ctx.Reply.Ok();
    }

    /// <summary>DEBUG LISTPACK key: Redis prints the listpack's entries on stdout; here they go to the log.</summary>
    static void Listpack(CommandContext ctx)
    {
        var entry = ctx.Db.Peek(ctx.Arg(2));
        if (entry is null)
        {
            ctx.Error("ERR no such key");
            return;
        }
        if (entry.Encoding != ObjectEncoding.Listpack)
        {
            ctx.Error("ERR Not a listpack encoded object.");
            return;
        }
        ctx.Logger.LogInformation("Listpack of key {Key}: {Type} value, {Encoding} encoding, {Bytes} bytes accounted",
            ArgVector.CString(entry.Key), entry.Type, EncodingName(entry.Encoding), entry.AccountedBytes);
        ctx.Reply.SimpleString("Listpack structure printed on stdout"u8);
    }

    /// <summary>DEBUG CHANGE-REPL-ID: a new master_replid, and master_replid2 cleared (it is always clear here).</summary>
    static void ChangeReplicationId(CommandContext ctx)
    {
        ctx.Replication.ChangeReplicationId();
        ctx.Reply.Ok();
    }

    static void Log(CommandContext ctx)
    {
        ctx.Logger.LogWarning("DEBUG LOG: {Message}", ctx.ArgCString(2));
        ctx.Reply.Ok();
    }

    /// <summary>DEBUG STRINGMATCH-TEST: Redis's stringmatchlen fuzz test, random patterns over random strings (fewer rounds than Redis's 10 million).</summary>
    static void StringMatchTest(CommandContext ctx)
    {
        const int Rounds = 100_000;
        Span<byte> text = stackalloc byte[32];
        Span<byte> pattern = stackalloc byte[32];
        var random = Random.Shared;
        for (int round = 0; round < Rounds; round++)
        {
            var t = text[..random.Next(text.Length)];
            var p = pattern[..random.Next(pattern.Length)];
            for (int i = 0; i < t.Length; i++) t[i] = (byte)random.Next(128);
            for (int i = 0; i < p.Length; i++) p[i] = (byte)random.Next(128);
            GlobPattern.Match(p, t);
        }
        ctx.Reply.SimpleString("Apparently Redis did not crash: test passed"u8);
    }

    /// <summary>
    /// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the databases, load the dump back, all
    /// on the executor. Where Redis would crash (a key of the dump already there without MERGE, a
    /// corrupt dump) this replies an error instead.
    /// </summary>
    static void Reload(CommandContext ctx)
    {
        bool merge = false, flush = true, save = true;
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "MERGE"u8)) merge = true;
            else if (ctx.ArgIs(i, "NOFLUSH"u8)) flush = false;
            else if (ctx.ArgIs(i, "NOSAVE"u8)) save = false;
            else
            {
                ctx.Error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
                return;
            }
        }
        if (save && !ctx.Rdb.Save())
        {
            ctx.Error("ERR");
            return;
        }
        if (flush)
        {
            for (int i = 0; i < ctx.Keyspace.Count; i++) ctx.Keyspace[i].Clear();
            // Redis's emptyData flushes the function libraries too (only FLUSHALL keeps them).
            ctx.Functions.Flush();
        }
        if (!RdbLoading.LoadNow(ctx.Persistence.Host, ctx.Rdb, ctx.Rdb.FilePath, RdbLoadOptions.DebugReload(ctx.Rdb.FilePath, merge, asMaster: ctx.Config.MasterHost is null)))
        {
            ctx.Error("ERR Error trying to load the RDB dump");
            return;
        }
        ctx.Logger.LogWarning("DB reloaded by DEBUG RELOAD");
        ctx.Reply.Ok();
    }

    /// <summary>Blocks the executor, hence every client, as Redis blocks its event loop.</summary>
    static void Sleep(CommandContext ctx)
    {
        double seconds = ParseLeadingDouble(ctx.ArgString(2));
        long micros = (long)(seconds * 1_000_000);
        if (micros > 0) Thread.Sleep(TimeSpan.FromMicroseconds(micros));
        ctx.Reply.Ok();
    }

    /// <summary>C's strtod: the longest numeric prefix, 0 when there is none.</summary>
    static double ParseLeadingDouble(string text)
    {
        text = text.TrimStart();
        for (int length = text.Length; length > 0; length--)
        {
            if (double.TryParse(text.AsSpan(0, length), NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
        }
        return 0;
    }

    /// <summary>
    /// "Value at:... refcount:... encoding:... serializedlength:... lru:... lru_seconds_idle:...".
    /// The address is the value's identity hash (objects move under the GC, so there is no stable
    /// address); serializedlength is the RDB string encoding's length without LZF compression.
    /// </summary>
    static void Object(CommandContext ctx)
    {
        // Like Redis, a raw find: DEBUG does not expire the key it inspects.
        var entry = ctx.Db.Peek(ctx.Arg(2));
        if (entry is null)
        {
            ctx.Error("ERR no such key");
            return;
        }
        bool shared = entry.IsSharedInteger;
        uint lru = entry.LastAccess & LruClockMax;
        uint clock = ctx.Keyspace.LruClock & LruClockMax;
        long idle = clock >= lru ? clock - lru : LruClockMax - lru + clock;
        ctx.Reply.SimpleString(
            $"Value at:0x{RuntimeHelpers.GetHashCode(entry.Type == RedisType.String ? entry : entry.Value):x} refcount:{(shared ? SharedRefCount : 1)} " +
            $"encoding:{EncodingName(entry.Encoding)} serializedlength:{SerializedLength(entry)} " +
            $"lru:{lru} lru_seconds_idle:{idle}");
    }

    internal static string EncodingName(ObjectEncoding encoding) => encoding.ToString().ToLowerInvariant();

    /// <summary>Redis's rdbSavedObjectLen for strings (only strings exist so far).</summary>
    static long SerializedLength(KeyEntry entry)
    {
        var value = entry.StringValue;
        if (value.Length <= RedisNumbers.MaxInt64Length && RedisNumbers.TryParseInt64(value, out long number)
            && IsCanonical(value, number))
        {
            if (number is >= sbyte.MinValue and <= sbyte.MaxValue) return 2;
            if (number is >= short.MinValue and <= short.MaxValue) return 3;
            if (number is >= int.MinValue and <= int.MaxValue) return 5;
        }
        return LengthPrefix(value.Length) + value.Length;
    }

    /// <summary>RDB stores a string as an integer only when printing it back gives the same bytes.</summary>
    static bool IsCanonical(ReadOnlySpan<byte> value, long number)
        => value.SequenceEqual(Encoding.ASCII.GetBytes(number.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Redis's rdbSaveLen: 1, 2, 5 or 9 bytes.</summary>
    static int LengthPrefix(long length) => length switch
    {
        < 1 << 6 => 1,
        < 1 << 14 => 2,
        <= uint.MaxValue => 5,
        _ => 9,
    };
}
