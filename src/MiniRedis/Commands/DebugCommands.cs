using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using MiniRedis.Data;
using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>DEBUG (Redis's debug.c): the subcommands that make sense without RDB and a C heap.</summary>
public static unsafe class DebugCommands
{
    /// <summary>Redis's OBJ_SHARED_REFCOUNT: the refcount of its shared small integers.</summary>
    const int SharedRefCount = int.MaxValue;

    /// <summary>Redis's OBJ_SHARED_INTEGERS: values below this share one object when maxmemory is off.</summary>
    const long SharedIntegers = 10000;

    const uint LruClockMax = (1 << 24) - 1;

    static readonly string[] HelpLines =
    [
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
    ];

    public static void Register(CommandTable t) => t.Add("debug", &Debug);

    static void Debug(CommandContext ctx)
    {
        if (ctx.ArgCount == 2 && ctx.ArgIs(1, "HELP"u8)) ServerCommands.ReplyHelp(ctx, "DEBUG", HelpLines);
        else if (ctx.ArgCount == 3 && ctx.ArgIs(1, "SLEEP"u8)) Sleep(ctx);
        else if (ctx.ArgCount == 3 && ctx.ArgIs(1, "OBJECT"u8)) Object(ctx);
        else ServerCommands.SubcommandSyntaxError(ctx);
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
        bool shared = entry.Encoding == ObjectEncoding.Int
            && RedisNumbers.TryParseInt64(entry.StringValue, out long number) && number is >= 0 and < SharedIntegers;
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
