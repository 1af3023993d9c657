using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Commands;

/// <summary>DEBUG (Redis's debug.c): the subcommands that make sense without a C heap.</summary>
public static unsafe class DebugCommands
{
    /// <summary>Redis's OBJ_SHARED_REFCOUNT: the refcount of its shared small integers.</summary>
    const int SharedRefCount = int.MaxValue;

    const uint LruClockMax = (1 << 24) - 1;

    static readonly string[] HelpLines =
    [
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
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
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
    ];

    public static void Register(CommandTable t) => t.Add("debug", &Debug);

    static void Debug(CommandContext ctx)
    {
        if (ctx.ArgCount == 2 && ctx.ArgIs(1, "HELP"u8)) ServerCommands.ReplyHelp(ctx, "DEBUG", HelpLines);
        else if (ctx.ArgCount == 3 && ctx.ArgIs(1, "SLEEP"u8)) Sleep(ctx);
        else if (ctx.ArgCount == 3 && ctx.ArgIs(1, "OBJECT"u8)) Object(ctx);
        else if (ctx.ArgIs(1, "RELOAD"u8)) Reload(ctx);
        else ServerCommands.SubcommandSyntaxError(ctx);
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
        var server = ctx.Server;
        if (save && !server.Rdb.Save())
        {
            ctx.Error("ERR");
            return;
        }
        if (flush)
        {
            for (int i = 0; i < ctx.Keyspace.Count; i++) ctx.Keyspace[i].Clear();
            // Redis's emptyData flushes the function libraries too (only FLUSHALL keeps them).
            server.Functions.Flush();
        }
        if (!RdbLoading.LoadNow(server, server.Rdb, server.Rdb.FilePath, merge))
        {
            ctx.Error("ERR Error trying to load the RDB dump");
            return;
        }
        server.Logger.LogWarning("DB reloaded by DEBUG RELOAD");
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
            $"Value at:0x{RuntimeHelpers.GetHashCode(entry.Value):x} refcount:{(shared ? SharedRefCount : 1)} " +
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
    static bool IsCanonical(byte[] value, long number)
        => value.AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(number.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Redis's rdbSaveLen: 1, 2, 5 or 9 bytes.</summary>
    static int LengthPrefix(long length) => length switch
    {
        < 1 << 6 => 1,
        < 1 << 14 => 2,
        <= uint.MaxValue => 5,
        _ => 9,
    };
}
