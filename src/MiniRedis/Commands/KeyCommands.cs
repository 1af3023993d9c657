using System.Globalization;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>Generic key commands (Redis's db.c, expire.c and OBJECT from object.c).</summary>
public static unsafe class KeyCommands
{
    const string NoSuchKeyError = "ERR no such key";
    const string SameObjectError = "ERR source and destination objects are the same";
    internal const string DbIndexOutOfRangeError = "ERR DB index is out of range";
    const string IntOutOfRangeError = "ERR value is out of range, value must between -2147483648 and 2147483647";

    /// <summary>TYPE's names, indexed by <see cref="RedisType"/>.</summary>
    static readonly byte[][] TypeNames = ["string"u8.ToArray(), "list"u8.ToArray(), "set"u8.ToArray(), "zset"u8.ToArray(), "hash"u8.ToArray(), "stream"u8.ToArray()];

    /// <summary>OBJECT ENCODING's names, indexed by <see cref="ObjectEncoding"/>.</summary>
    static readonly byte[][] EncodingNames =
    [
        "raw"u8.ToArray(), "int"u8.ToArray(), "embstr"u8.ToArray(), "listpack"u8.ToArray(),
        "quicklist"u8.ToArray(), "intset"u8.ToArray(), "hashtable"u8.ToArray(), "skiplist"u8.ToArray(), "stream"u8.ToArray(),
    ];

    static readonly string[] ObjectHelp =
    [
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
    ];

    public static void Register(CommandTable t)
    {
        t.Add("del", &Del);
        t.Add("unlink", &Del);
        t.Add("exists", &Exists);
        t.Add("type", &Type);
        t.Add("keys", &Keys);
        t.Add("scan", &Scan);
        t.Add("randomkey", &RandomKey);
        t.Add("rename", &Rename);
        t.Add("renamenx", &RenameNx);
        t.Add("copy", &Copy);
        t.Add("move", &Move);
        t.Add("touch", &Touch);
        t.Add("expire", &Expire);
        t.Add("pexpire", &PExpire);
        t.Add("expireat", &ExpireAt);
        t.Add("pexpireat", &PExpireAt);
        t.Add("ttl", &Ttl);
        t.Add("pttl", &PTtl);
        t.Add("expiretime", &ExpireTime);
        t.Add("pexpiretime", &PExpireTime);
        t.Add("persist", &Persist);
        t.Add("object|encoding", &ObjectEncodingOf);
        t.Add("object|refcount", &ObjectRefCount);
        t.Add("object|idletime", &ObjectIdleTime);
        t.Add("object|freq", &ObjectFreq);
        t.Add("object|help", &ObjectHelpReply);
    }

    /// <summary>Redis's lookupKeyReadWithFlags(LOOKUP_NOTOUCH): counts hits and misses but leaves the LRU clock alone.</summary>
    static KeyEntry? LookupReadNoTouch(CommandContext ctx, ReadOnlySpan<byte> key)
    {
        var entry = ctx.Db.Lookup(key);
        if (entry is null)
        {
            ctx.Notify(NotifyClass.KeyMiss, "keymiss"u8, key);
            ctx.Stats.KeyspaceMisses++;
        }
        else ctx.Stats.KeyspaceHits++;
        return entry;
    }

    /// <summary>Redis's getIntFromObjectOrReply: a long that must also fit an int.</summary>
    internal static bool TryGetInt(CommandContext ctx, int index, out int value, string? error = null)
    {
        value = 0;
        if (!ctx.TryGetLong(index, out long parsed, error ?? CommandContext.NotIntegerError)) return false;
        if (parsed is < int.MinValue or > int.MaxValue)
        {
            ctx.Error(error ?? IntOutOfRangeError);
            return false;
        }
        value = (int)parsed;
        return true;
    }

    /// <summary>A database index as SELECT, MOVE and COPY ... DB take it: an int first, then in range.</summary>
    internal static bool TryGetDatabase(CommandContext ctx, int index, out Database db)
    {
        db = ctx.Db;
        if (!TryGetInt(ctx, index, out int id)) return false;
        if (id < 0 || id >= ctx.Keyspace.Count)
        {
            ctx.Error(DbIndexOutOfRangeError);
            return false;
        }
        db = ctx.Keyspace[id];
        return true;
    }

    static void Del(CommandContext ctx)
    {
        long deleted = 0;
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            var entry = ctx.Db.Lookup(ctx.Arg(i));
            if (entry is null) continue;
            ctx.Db.Discard(entry);
            ctx.KeyModified(ctx.Arg(i));
            ctx.Notify(NotifyClass.Generic, "del"u8, ctx.Arg(i));
            deleted++;
        }
        ctx.Reply.Integer(deleted);
    }

    static void Exists(CommandContext ctx)
    {
        long count = 0;
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            if (LookupReadNoTouch(ctx, ctx.Arg(i)) is not null) count++;
        }
        ctx.Reply.Integer(count);
    }

    static ReadOnlySpan<byte> TypeName(KeyEntry? entry) => entry is null ? "none"u8 : TypeNames[(int)entry.Type];

    static void Type(CommandContext ctx) => ctx.Reply.SimpleString(TypeName(LookupReadNoTouch(ctx, ctx.Arg(1))));

    static void Keys(CommandContext ctx)
    {
        var pattern = ctx.Arg(1);
        bool all = pattern.SequenceEqual("*"u8);
        var reply = ctx.Reply;
        int header = reply.BeginDeferredArray();
        long count = 0;
        foreach (var entry in ctx.Db)
        {
            if (!all && !GlobPattern.Match(pattern, entry.Key, ignoreCase: false)) continue;
            // Like Redis, an expired key is hidden but not deleted: KEYS must not change the table it walks.
            if (ctx.Keyspace.IsExpired(entry)) continue;
            reply.Bulk(entry.Key);
            count++;
        }
        reply.EndDeferredArray(header, count);
    }

    struct KeyCollector : IEntryVisitor
    {
        public List<byte[]> Keys;

        public readonly void Visit(KeyEntry entry) => Keys.Add(entry.Key.ToArray());
    }

    /// <summary>
    /// Redis's parseScanCursorOrReply: C's strtoul in base 10, so a sign is accepted ("-1" wraps),
    /// the empty string is 0, and the value ends at the first NUL byte.
    /// </summary>
    internal static bool TryParseCursor(ReadOnlySpan<byte> text, out ulong cursor)
    {
        cursor = 0;
        int nul = text.IndexOf((byte)0);
        if (nul >= 0) text = text[..nul];
        if (text.IsEmpty) return true;
        if (text[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') return false;
        bool negative = text[0] == '-';
        if (text[0] is (byte)'+' or (byte)'-') text = text[1..];
        if (text.IsEmpty) return false;
        foreach (byte b in text)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
            ulong digit = (ulong)(b - '0');
            if (cursor > (ulong.MaxValue - digit) / 10) return false;
            cursor = cursor * 10 + digit;
        }
        if (negative) cursor = unchecked(0 - cursor);
        return true;
    }

    /// <summary>
    /// The options of SCAN and the collection scans from argument <paramref name="first"/> on: COUNT (at
    /// least 1), MATCH (dropped when it is "*") and, for SCAN, TYPE; false once an error is replied.
    /// </summary>
    internal static bool TryParseScanOptions(CommandContext ctx, int first, bool allowType, out long count, out int pattern, out int type)
    {
        count = 10;
        pattern = -1;
        type = -1;
        for (int i = first; i < ctx.ArgCount; i += 2)
        {
            bool hasValue = i + 1 < ctx.ArgCount;
            if (ctx.ArgIs(i, "COUNT"u8) && hasValue)
            {
                if (!ctx.TryGetLong(i + 1, out count)) return false;
                if (count < 1)
                {
                    ctx.Error(CommandContext.SyntaxError);
                    return false;
                }
            }
            else if (ctx.ArgIs(i, "MATCH"u8) && hasValue) pattern = i + 1;
            else if (allowType && ctx.ArgIs(i, "TYPE"u8) && hasValue) type = i + 1;
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return false;
            }
        }
        if (pattern >= 0 && ctx.Arg(pattern).SequenceEqual("*"u8)) pattern = -1;
        return true;
    }

    /// <summary>The head of every scan reply: a two-element array whose first element is the next cursor.</summary>
    internal static void ReplyCursor(ReplyBuffer reply, ulong cursor)
    {
        reply.ArrayHeader(2);
        Span<byte> digits = stackalloc byte[20];
        cursor.TryFormat(digits, out int length, default, CultureInfo.InvariantCulture);
        reply.Bulk(digits[..length]);
    }

    /// <summary>
    /// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], as Redis's scanGenericCommand: visit
    /// buckets until COUNT keys were collected (at most COUNT*10 buckets), then filter them.
    /// </summary>
    static void Scan(CommandContext ctx)
    {
        if (!TryParseCursor(ctx.Arg(1), out ulong cursor))
        {
            ctx.Error("ERR invalid cursor");
            return;
        }
        if (!TryParseScanOptions(ctx, 2, allowType: true, out long count, out int pattern, out int type)) return;

        var db = ctx.Db;
        var collector = new KeyCollector { Keys = [] };
        long maxIterations = count > long.MaxValue / 10 ? long.MaxValue : count * 10;
        do cursor = db.Scan(cursor, ref collector);
        while (cursor != 0 && maxIterations-- > 0 && collector.Keys.Count < count);

        var reply = ctx.Reply;
        ReplyCursor(reply, cursor);
        int header = reply.BeginDeferredArray();
        long returned = 0;
        foreach (var key in collector.Keys)
        {
            if (pattern >= 0 && !GlobPattern.Match(ctx.Arg(pattern), key, ignoreCase: false)) continue;
            // Redis checks the type through a lookup that first deletes an expired key, which then
            // reads as "none" (and so matches TYPE none) and is not filtered as expired afterwards.
            if (type >= 0 && !System.Text.Ascii.EqualsIgnoreCase(TypeName(LookupReadNoTouch(ctx, key)), ctx.Arg(type))) continue;
            if (type < 0 && db.Lookup(key) is null) continue;
            reply.Bulk(key);
            returned++;
        }
        reply.EndDeferredArray(header, returned);
    }

    static void RandomKey(CommandContext ctx)
    {
        var db = ctx.Db;
        while (true)
        {
            var entry = db.RandomEntry();
            if (entry is null)
            {
                ctx.Reply.NullBulk();
                return;
            }
            // An expired pick is deleted by the lookup and another key drawn, as Redis's dbRandomKey.
            if (entry.ExpireAt != 0 && db.Lookup(entry.Key) is null) continue;
            ctx.Reply.Bulk(entry.Key);
            return;
        }
    }

    static void Rename(CommandContext ctx) => RenameGeneric(ctx, onlyIfAbsent: false);

    static void RenameNx(CommandContext ctx) => RenameGeneric(ctx, onlyIfAbsent: true);

    static void ReplyRenamed(CommandContext ctx, bool onlyIfAbsent, bool renamed)
    {
        if (!onlyIfAbsent) ctx.Reply.Ok();
        else ctx.Reply.Integer(renamed ? 1 : 0);
    }

    static void RenameGeneric(CommandContext ctx, bool onlyIfAbsent)
    {
        var source = ctx.Arg(1);
        var target = ctx.Arg(2);
        var db = ctx.Db;
        var entry = ctx.LookupWrite(source);
        if (entry is null)
        {
            ctx.Error(NoSuchKeyError);
            return;
        }
        if (source.SequenceEqual(target))
        {
            // Renaming a key onto itself changes nothing: RENAME says OK, RENAMENX says 0.
            ReplyRenamed(ctx, onlyIfAbsent, renamed: false);
            return;
        }
        if (ctx.LookupWrite(target) is { } existing)
        {
            if (onlyIfAbsent)
            {
                ctx.Reply.Integer(0);
                return;
            }
            db.Delete(existing);
        }
        var renamed = db.AddMoved(target, entry);
        if (entry.ExpireAt != 0) db.SetExpire(renamed, entry.ExpireAt);
        db.Delete(entry);
        ctx.KeyModified(db, source);
        ctx.KeyModified(db, target, changes: 0);
        ctx.Notify(NotifyClass.Generic, "rename_from"u8, source);
        ctx.Notify(NotifyClass.Generic, "rename_to"u8, target);
        ReplyRenamed(ctx, onlyIfAbsent, renamed: true);
    }

    /// <summary>COPY source destination [DB index] [REPLACE]: a deep copy of the value, keeping its TTL.</summary>
    static void Copy(CommandContext ctx)
    {
        var target = ctx.Db;
        bool replace = false;
        for (int i = 3; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "REPLACE"u8)) replace = true;
            else if (ctx.ArgIs(i, "DB"u8) && i + 1 < ctx.ArgCount)
            {
                if (!TryGetDatabase(ctx, ++i, out target)) return;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        var sourceKey = ctx.Arg(1);
        var targetKey = ctx.Arg(2);
        if (target == ctx.Db && sourceKey.SequenceEqual(targetKey))
        {
            ctx.Error(SameObjectError);
            return;
        }
        var source = ctx.LookupRead(sourceKey);
        if (source is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var existing = target.Lookup(targetKey);
        if (existing is not null)
        {
            if (!replace)
            {
                ctx.Reply.Integer(0);
                return;
            }
            target.Delete(existing);
        }
        var copy = target.AddCopy(targetKey, source);
        if (source.ExpireAt != 0) target.SetExpire(copy, source.ExpireAt);
        ctx.KeyModified(target, targetKey);
        ctx.Notify(NotifyClass.Generic, "copy_to"u8, targetKey, target);
        ctx.Reply.Integer(1);
    }

    static void Move(CommandContext ctx)
    {
        if (!TryGetDatabase(ctx, 2, out var target)) return;
        var source = ctx.Db;
        if (target == source)
        {
            ctx.Error(SameObjectError);
            return;
        }
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        if (entry is null || target.Lookup(key) is not null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        source.Delete(entry);
        target.Adopt(entry);
        ctx.KeyModified(source, key);
        ctx.KeyModified(target, key, changes: 0);
        ctx.Notify(NotifyClass.Generic, "move_from"u8, key, source);
        ctx.Notify(NotifyClass.Generic, "move_to"u8, key, target);
        ctx.Reply.Integer(1);
    }

    static void Touch(CommandContext ctx)
    {
        long touched = 0;
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            if (ctx.LookupRead(ctx.Arg(i)) is not null) touched++;
        }
        ctx.Reply.Integer(touched);
    }

    [Flags]
    enum ExpireFlags { None = 0, Nx = 1, Xx = 2, Gt = 4, Lt = 8 }

    static void Expire(CommandContext ctx) => ExpireGeneric(ctx, relative: true, seconds: true);

    static void PExpire(CommandContext ctx) => ExpireGeneric(ctx, relative: true, seconds: false);

    static void ExpireAt(CommandContext ctx) => ExpireGeneric(ctx, relative: false, seconds: true);

    static void PExpireAt(CommandContext ctx) => ExpireGeneric(ctx, relative: false, seconds: false);

    static bool TryParseExpireFlags(CommandContext ctx, out ExpireFlags flags)
    {
        flags = ExpireFlags.None;
        for (int i = 3; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "NX"u8)) flags |= ExpireFlags.Nx;
            else if (ctx.ArgIs(i, "XX"u8)) flags |= ExpireFlags.Xx;
            else if (ctx.ArgIs(i, "GT"u8)) flags |= ExpireFlags.Gt;
            else if (ctx.ArgIs(i, "LT"u8)) flags |= ExpireFlags.Lt;
            else
            {
                // Redis formats the option with %s, which stops at a NUL byte.
                var option = ctx.Arg(i);
                int nul = option.IndexOf((byte)0);
                ctx.Error("ERR Unsupported option " + System.Text.Encoding.Latin1.GetString(nul < 0 ? option : option[..nul]));
                return false;
            }
        }
        if ((flags & ExpireFlags.Nx) != 0 && (flags & (ExpireFlags.Xx | ExpireFlags.Gt | ExpireFlags.Lt)) != 0)
        {
            ctx.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
            return false;
        }
        if ((flags & (ExpireFlags.Gt | ExpireFlags.Lt)) == (ExpireFlags.Gt | ExpireFlags.Lt))
        {
            ctx.Error("ERR GT and LT options at the same time are not compatible");
            return false;
        }
        return true;
    }

    /// <summary>Whether NX/XX/GT/LT let a new expiry <paramref name="when"/> replace <paramref name="current"/> (0 = none).</summary>
    static bool FlagsAllow(ExpireFlags flags, long current, long when)
    {
        if ((flags & ExpireFlags.Nx) != 0 && current != 0) return false;
        if ((flags & ExpireFlags.Xx) != 0 && current == 0) return false;
        // No TTL counts as infinite: GT never beats it, LT always does.
        if ((flags & ExpireFlags.Gt) != 0 && (current == 0 || when <= current)) return false;
        return (flags & ExpireFlags.Lt) == 0 || current == 0 || when < current;
    }

    /// <summary>
    /// Redis's expireGenericCommand. The effect is logged as PEXPIREAT with the absolute time (options
    /// kept), or as DEL (UNLINK under lazyfree-lazy-expire) when that time has already passed, so
    /// replaying the log later gives the same data.
    /// </summary>
    static void ExpireGeneric(CommandContext ctx, bool relative, bool seconds)
    {
        if (!TryParseExpireFlags(ctx, out var flags) || !ctx.TryGetLong(2, out long when)) return;
        if (seconds)
        {
            if (when is > long.MaxValue / 1000 or < long.MinValue / 1000)
            {
                ReplyInvalidExpireTime(ctx);
                return;
            }
            when *= 1000;
        }
        long basetime = relative ? ctx.NowMs : 0;
        if (when > long.MaxValue - basetime)
        {
            ReplyInvalidExpireTime(ctx);
            return;
        }
        when += basetime;

        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        if (entry is null || !FlagsAllow(flags, entry.ExpireAt, when))
        {
            ctx.Reply.Integer(0);
            return;
        }
        var db = ctx.Db;
        ctx.KeyModified(db, key);
        ctx.Reply.Integer(1);
        if (when <= ctx.NowMs && !ctx.Keyspace.Loading)
        {
            db.Delete(entry);
            ctx.Notify(NotifyClass.Generic, "del"u8, key);
            ctx.Propagate(db).Arg(ctx.Config.LazyfreeLazyExpire ? "UNLINK"u8 : "DEL"u8).Arg(key);
            return;
        }
        db.SetExpire(entry, when);
        ctx.Notify(NotifyClass.Generic, "expire"u8, key);
        if (relative || seconds)
        {
            var record = ctx.Propagate(db).Arg("PEXPIREAT"u8).Arg(key).Arg(when);
            for (int i = 3; i < ctx.ArgCount; i++) record.Arg(ctx.Arg(i));
        }
    }

    static void ReplyInvalidExpireTime(CommandContext ctx) => ctx.Error($"ERR invalid expire time in '{ctx.Command.Name}' command");

    static void Ttl(CommandContext ctx) => TtlGeneric(ctx, milliseconds: false, absolute: false);

    static void PTtl(CommandContext ctx) => TtlGeneric(ctx, milliseconds: true, absolute: false);

    static void ExpireTime(CommandContext ctx) => TtlGeneric(ctx, milliseconds: false, absolute: true);

    static void PExpireTime(CommandContext ctx) => TtlGeneric(ctx, milliseconds: true, absolute: true);

    static void TtlGeneric(CommandContext ctx, bool milliseconds, bool absolute)
    {
        var entry = LookupReadNoTouch(ctx, ctx.Arg(1));
        if (entry is null)
        {
            ctx.Reply.Integer(-2);
            return;
        }
        if (entry.ExpireAt == 0)
        {
            ctx.Reply.Integer(-1);
            return;
        }
        long ttl = Math.Max(0, absolute ? entry.ExpireAt : entry.ExpireAt - ctx.NowMs);
        // Rounded to the nearest second without overflowing near long.MaxValue, as Redis's build computes it.
        ctx.Reply.Integer(milliseconds ? ttl : (long)(((ulong)ttl + 500) / 1000));
    }

    static void Persist(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        if (entry is null || entry.ExpireAt == 0)
        {
            ctx.Reply.Integer(0);
            return;
        }
        ctx.Db.Persist(entry);
        ctx.KeyModified(key);
        ctx.Notify(NotifyClass.Generic, "persist"u8, key);
        ctx.Reply.Integer(1);
    }

    /// <summary>Redis's objectCommandLookupOrReply: the key's entry, or a null reply when it is missing.</summary>
    static KeyEntry? ObjectLookup(CommandContext ctx)
    {
        var entry = LookupReadNoTouch(ctx, ctx.Arg(2));
        if (entry is null) ctx.Reply.NullBulk();
        return entry;
    }

    static void ObjectEncodingOf(CommandContext ctx)
    {
        if (ObjectLookup(ctx) is { } entry) ctx.Reply.Bulk(EncodingNames[(int)entry.Encoding]);
    }

    static void ObjectRefCount(CommandContext ctx)
    {
        if (ObjectLookup(ctx) is not { } entry) return;
        ctx.Reply.Integer(entry.IsSharedInteger ? int.MaxValue : 1);
    }

    static void ObjectIdleTime(CommandContext ctx)
    {
        if (ObjectLookup(ctx) is not { } entry) return;
        if (ctx.Keyspace.Access.Lfu)
        {
            ctx.Error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
            return;
        }
        ctx.Reply.Integer(KeyAccess.IdleMs(entry.LastAccess, ctx.Keyspace.NowMs) / 1000);
    }

    static void ObjectFreq(CommandContext ctx)
    {
        if (ObjectLookup(ctx) is not { } entry) return;
        if (!ctx.Keyspace.Access.Lfu)
        {
            ctx.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
            return;
        }
        ctx.Reply.Integer(ctx.Keyspace.Access.DecayedCounter(entry.LastAccess, ctx.Keyspace.NowMs));
    }

    static void ObjectHelpReply(CommandContext ctx) => ReplyHelp(ctx, ObjectHelp);

    /// <summary>Redis's addReplyHelp: a header naming the command, the lines, then HELP's own entry.</summary>
    internal static void ReplyHelp(CommandContext ctx, string[] lines)
    {
        var reply = ctx.Reply;
        reply.ArrayHeader(lines.Length + 3);
        reply.SimpleString(ctx.ArgString(0).ToUpperInvariant() + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        foreach (var line in lines) reply.SimpleString(line);
        reply.SimpleString("HELP");
        reply.SimpleString("    Prints this help.");
    }
}
