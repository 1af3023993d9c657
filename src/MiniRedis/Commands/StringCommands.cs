using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>String commands (Redis's t_string.c).</summary>
public static unsafe class StringCommands
{
    const string StringTooLongError = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

    public static void Register(CommandTable t)
    {
        t.Add("get", &Get);
        t.Add("set", &Set);
        t.Add("setnx", &SetNx);
        t.Add("setex", &SetEx);
        t.Add("psetex", &PSetEx);
        t.Add("getset", &GetSet);
        t.Add("getdel", &GetDel);
        t.Add("getex", &GetEx);
        t.Add("mget", &MGet);
        t.Add("mset", &MSet);
        t.Add("msetnx", &MSetNx);
        t.Add("append", &Append);
        t.Add("strlen", &StrLen);
        t.Add("getrange", &GetRange);
        t.Add("substr", &GetRange);
        t.Add("setrange", &SetRange);
        t.Add("incr", &Incr);
        t.Add("decr", &Decr);
        t.Add("incrby", &IncrBy);
        t.Add("decrby", &DecrBy);
        t.Add("incrbyfloat", &IncrByFloat);
    }

    /// <summary>The key if it holds a string, null if missing; replies WRONGTYPE (and sets <paramref name="wrongType"/>) otherwise.</summary>
    static KeyEntry? ReadString(CommandContext ctx, KeyEntry? entry, out bool wrongType)
    {
        wrongType = false;
        if (entry is null) return null;
        if (entry.Type == RedisType.String) return entry;
        wrongType = true;
        ctx.WrongType();
        return null;
    }

    static void Get(CommandContext ctx)
    {
        var value = ReadString(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrongType);
        if (wrongType) return;
        if (value is null) ctx.Reply.NullBulk();
        else ctx.Reply.Bulk(value.StringValue);
    }

    [Flags]
    enum SetFlags { None = 0, Nx = 1, Xx = 2, Get = 4, KeepTtl = 8, Ex = 16, Px = 32, ExAt = 64, PxAt = 128, Persist = 256 }

    const SetFlags AnyExpire = SetFlags.Ex | SetFlags.Px | SetFlags.ExAt | SetFlags.PxAt;

    /// <summary>
    /// SET's and GETEX's EX/PX/EXAT/PXAT at argument <paramref name="i"/>, None when it is not one or
    /// not allowed here. As in Redis's parseExtendedStringArgumentsOrReply, each excludes the other
    /// three, KEEPTTL and PERSIST, but may repeat itself (the last value wins).
    /// </summary>
    static SetFlags ExpireOption(CommandContext ctx, int i, SetFlags flags)
    {
        if (i + 1 >= ctx.ArgCount) return SetFlags.None;
        var option = ctx.ArgIs(i, "EX"u8) ? SetFlags.Ex
            : ctx.ArgIs(i, "PX"u8) ? SetFlags.Px
            : ctx.ArgIs(i, "EXAT"u8) ? SetFlags.ExAt
            : ctx.ArgIs(i, "PXAT"u8) ? SetFlags.PxAt
            : SetFlags.None;
        return (flags & ((AnyExpire & ~option) | SetFlags.KeepTtl | SetFlags.Persist)) == 0 ? option : SetFlags.None;
    }

    static void Set(CommandContext ctx)
    {
        var flags = SetFlags.None;
        int expireArg = -1;
        for (int i = 3; i < ctx.ArgCount; i++)
        {
            SetFlags flag;
            if (ctx.ArgIs(i, "NX"u8) && (flags & SetFlags.Xx) == 0) flag = SetFlags.Nx;
            else if (ctx.ArgIs(i, "XX"u8) && (flags & SetFlags.Nx) == 0) flag = SetFlags.Xx;
            else if (ctx.ArgIs(i, "GET"u8)) flag = SetFlags.Get;
            else if (ctx.ArgIs(i, "KEEPTTL"u8) && (flags & AnyExpire) == 0) flag = SetFlags.KeepTtl;
            else if ((flag = ExpireOption(ctx, i, flags)) == SetFlags.None)
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
            flags |= flag;
            if ((flag & AnyExpire) != 0) expireArg = ++i;
        }
        SetGeneric(ctx, flags, expireArg, ctx.Arg(1), ctx.Arg(2));
    }

    /// <summary>Turns an EX/PX/EXAT/PXAT argument into absolute ms; replies the error and returns false if invalid.</summary>
    static bool TryGetExpireAt(CommandContext ctx, int argIndex, SetFlags unit, out long expireAtMs)
    {
        expireAtMs = 0;
        if (!ctx.TryGetLong(argIndex, out long value)) return false;
        bool seconds = unit is SetFlags.Ex or SetFlags.ExAt;
        bool relative = unit is SetFlags.Ex or SetFlags.Px;
        if (value <= 0 || (seconds && value > long.MaxValue / 1000))
        {
            ctx.Error($"ERR invalid expire time in '{ctx.Command.Name}' command");
            return false;
        }
        long ms = seconds ? value * 1000 : value;
        if (relative && ms > long.MaxValue - ctx.NowMs)
        {
            ctx.Error($"ERR invalid expire time in '{ctx.Command.Name}' command");
            return false;
        }
        expireAtMs = relative ? ms + ctx.NowMs : ms;
        return true;
    }

    static void SetGeneric(CommandContext ctx, SetFlags flags, int expireArg, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        long expireAt = 0;
        if (expireArg >= 0 && !TryGetExpireAt(ctx, expireArg, flags & AnyExpire, out expireAt)) return;

        var entry = ctx.LookupWrite(key);
        if ((flags & SetFlags.Get) != 0)
        {
            var old = ReadString(ctx, entry, out bool wrongType);
            if (wrongType) return;
            if (old is null) ctx.Reply.NullBulk();
            else ctx.Reply.Bulk(old.StringValue);
        }
        if (((flags & SetFlags.Nx) != 0 && entry is not null) || ((flags & SetFlags.Xx) != 0 && entry is null))
        {
            if ((flags & SetFlags.Get) == 0) ctx.Reply.NullBulk();
            return;
        }

        var db = ctx.Db;
        entry = db.SetString(entry, key, value, keepTtl: (flags & SetFlags.KeepTtl) != 0);
        ctx.KeyModified(key);
        ctx.Notify(NotifyClass.String, "set"u8, key);
        if (expireArg >= 0)
        {
            db.SetExpire(entry, expireAt);
            ctx.Notify(NotifyClass.Generic, "expire"u8, key);
        }
        // Logged with an absolute time so replay does not depend on when it happens.
        if (expireArg >= 0 && (flags & SetFlags.PxAt) == 0) ctx.Propagate().Arg("SET"u8).Arg(key).Arg(value).Arg("PXAT"u8).Arg(expireAt);
        else if ((flags & SetFlags.Get) != 0)
        {
            // Like Redis 7.0, logged without its GET tokens.
            var record = ctx.Propagate();
            for (int i = 0; i < ctx.ArgCount; i++)
            {
                if (i < 3 || !ctx.ArgIs(i, "GET"u8)) record.Arg(ctx.Arg(i));
            }
        }
        if ((flags & SetFlags.Get) == 0) ctx.Reply.Ok();
    }

    static void SetNx(CommandContext ctx)
    {
        if (ctx.LookupWrite(ctx.Arg(1)) is not null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        ctx.Db.SetString(ctx.Arg(1), ctx.Arg(2));
        ctx.KeyModified(ctx.Arg(1));
        ctx.Notify(NotifyClass.String, "set"u8, ctx.Arg(1));
        ctx.Reply.Integer(1);
    }

    static void SetEx(CommandContext ctx) => SetGeneric(ctx, SetFlags.Ex, 2, ctx.Arg(1), ctx.Arg(3));

    static void PSetEx(CommandContext ctx) => SetGeneric(ctx, SetFlags.Px, 2, ctx.Arg(1), ctx.Arg(3));

    static void GetSet(CommandContext ctx)
    {
        var old = ReadString(ctx, ctx.LookupWrite(ctx.Arg(1)), out bool wrongType);
        if (wrongType) return;
        if (old is null) ctx.Reply.NullBulk();
        else ctx.Reply.Bulk(old.StringValue); // written before the in-place overwrite below
        ctx.Db.SetString(ctx.Arg(1), ctx.Arg(2));
        ctx.KeyModified(ctx.Arg(1));
        ctx.Notify(NotifyClass.String, "set"u8, ctx.Arg(1));
        ctx.Propagate().Arg("SET"u8).Arg(ctx.Arg(1)).Arg(ctx.Arg(2));
    }

    static void GetDel(CommandContext ctx)
    {
        var entry = ctx.LookupRead(ctx.Arg(1));
        var value = ReadString(ctx, entry, out bool wrongType);
        if (wrongType) return;
        if (value is null)
        {
            ctx.Reply.NullBulk();
            return;
        }
        ctx.Reply.Bulk(value.StringValue);
        ctx.Db.Delete(entry!);
        ctx.KeyModified(ctx.Arg(1));
        ctx.Notify(NotifyClass.Generic, "del"u8, ctx.Arg(1));
        ctx.Propagate().Arg("DEL"u8).Arg(ctx.Arg(1));
    }

    static void GetEx(CommandContext ctx)
    {
        var flags = SetFlags.None;
        int expireArg = -1;
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            SetFlags flag;
            if (ctx.ArgIs(i, "PERSIST"u8) && (flags & AnyExpire) == 0) flag = SetFlags.Persist;
            else if ((flag = ExpireOption(ctx, i, flags)) == SetFlags.None)
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
            flags |= flag;
            if ((flag & AnyExpire) != 0) expireArg = ++i;
        }
        bool persist = (flags & SetFlags.Persist) != 0;
        var key = ctx.Arg(1);
        var entry = ctx.LookupRead(key);
        var value = ReadString(ctx, entry, out bool wrongType);
        if (wrongType) return;
        // Redis looks the key up before it checks the expire time: a missing key is nil whatever the time.
        if (value is null)
        {
            ctx.Reply.NullBulk();
            return;
        }
        long expireAt = 0;
        if (expireArg >= 0 && !TryGetExpireAt(ctx, expireArg, flags & AnyExpire, out expireAt)) return;
        ctx.Reply.Bulk(value.StringValue);
        var db = ctx.Db;
        if (expireArg >= 0)
        {
            if (expireAt <= ctx.NowMs)
            {
                db.Delete(entry!);
                ctx.KeyModified(key);
                ctx.Notify(NotifyClass.Generic, "del"u8, key);
                ctx.Propagate().Arg("DEL"u8).Arg(key);
                return;
            }
            db.SetExpire(entry!, expireAt);
            ctx.KeyModified(key);
            ctx.Notify(NotifyClass.Generic, "expire"u8, key);
            ctx.Propagate().Arg("PEXPIREAT"u8).Arg(key).Arg(expireAt);
        }
        else if (persist && entry!.ExpireAt != 0)
        {
            db.Persist(entry);
            ctx.KeyModified(key);
            ctx.Notify(NotifyClass.Generic, "persist"u8, key);
            ctx.Propagate().Arg("PERSIST"u8).Arg(key);
        }
    }

    static void MGet(CommandContext ctx)
    {
        PrefetchKeys(ctx, step: 1);
        ctx.Reply.ArrayHeader(ctx.ArgCount - 1);
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            var entry = ctx.LookupRead(ctx.Arg(i));
            if (entry is { Type: RedisType.String }) ctx.Reply.Bulk(entry.StringValue);
            else ctx.Reply.NullBulk();
        }
    }

    static void MSet(CommandContext ctx)
    {
        if (ctx.ArgCount % 2 == 0)
        {
            ctx.Error($"ERR wrong number of arguments for '{ctx.Command.Name}' command");
            return;
        }
        SetPairs(ctx);
        ctx.Reply.Ok();
    }

    static void SetPairs(CommandContext ctx)
    {
        PrefetchKeys(ctx, step: 2);
        for (int i = 1; i < ctx.ArgCount; i += 2)
        {
            ctx.Db.SetString(ctx.Arg(i), ctx.Arg(i + 1));
            ctx.KeyModified(ctx.Arg(i));
            ctx.Notify(NotifyClass.String, "set"u8, ctx.Arg(i));
        }
    }

    /// <summary>A command's own keys start loading together (<see cref="KeyPrefetch"/>): the batch's look-ahead reaches only its first few commands of ten keys.</summary>
    static void PrefetchKeys(CommandContext ctx, int step)
    {
        var prefetch = new KeyPrefetch(ctx.Db.Table, stackalloc uint[16]);
        for (int i = 1; i < ctx.ArgCount && !prefetch.IsFull; i += step) prefetch.Add(ctx.Arg(i));
        prefetch.Start();
    }

    static void MSetNx(CommandContext ctx)
    {
        if (ctx.ArgCount % 2 == 0)
        {
            ctx.Error($"ERR wrong number of arguments for '{ctx.Command.Name}' command");
            return;
        }
        for (int i = 1; i < ctx.ArgCount; i += 2)
        {
            if (ctx.LookupWrite(ctx.Arg(i)) is not null)
            {
                ctx.Reply.Integer(0);
                return;
            }
        }
        SetPairs(ctx);
        ctx.Reply.Integer(1);
    }

    /// <summary>Redis's checkStringLength: <paramref name="size"/> + <paramref name="append"/> bytes must fit, without overflowing.</summary>
    static bool CheckLength(CommandContext ctx, long size, long append)
    {
        if (size <= ctx.Config.ProtoMaxBulkLen - append) return true;
        ctx.Error(StringTooLongError);
        return false;
    }

    static void Append(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var suffix = ctx.Arg(2);
        var entry = ctx.LookupWrite(key);
        long length;
        if (entry is null)
        {
            ctx.Db.SetString(key, suffix);
            length = suffix.Length;
        }
        else
        {
            if (ReadString(ctx, entry, out bool wrongType) is null) return;
            var old = entry.StringValue;
            if (!CheckLength(ctx, old.Length, suffix.Length)) return;
            var joined = new byte[old.Length + suffix.Length];
            old.CopyTo(joined);
            suffix.CopyTo(joined.AsSpan(old.Length));
            entry.Value = joined;
            entry.Encoding = ObjectEncoding.Raw;
            length = joined.Length;
        }
        ctx.KeyModified(key);
        ctx.Notify(NotifyClass.String, "append"u8, key);
        ctx.Reply.Integer(length);
    }

    static void StrLen(CommandContext ctx)
    {
        var value = ReadString(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrongType);
        if (!wrongType) ctx.Reply.Integer(value?.StringValue.Length ?? 0);
    }

    static void GetRange(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long start) || !ctx.TryGetLong(3, out long end)) return;
        var entry = ReadString(ctx, ctx.LookupRead(ctx.Arg(1)), out bool wrongType);
        if (wrongType) return;
        if (entry is null)
        {
            ctx.Reply.Bulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        var value = entry.StringValue;
        long length = value.Length;
        if (start < 0 && end < 0 && start > end)
        {
            ctx.Reply.Bulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        if (start < 0) start = Math.Max(0, length + start);
        if (end < 0) end = Math.Max(0, length + end);
        if (end >= length) end = length - 1;
        if (start > end || length == 0) ctx.Reply.Bulk(ReadOnlySpan<byte>.Empty);
        else ctx.Reply.Bulk(value.Slice((int)start, (int)(end - start + 1)));
    }

    static void SetRange(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var patch = ctx.Arg(3);
        if (!ctx.TryGetLong(2, out long offset)) return;
        if (offset < 0)
        {
            ctx.Error("ERR offset is out of range");
            return;
        }
        var entry = ctx.LookupWrite(key);
        var old = ReadString(ctx, entry, out bool wrongType)?.StringArray();
        if (wrongType) return;
        long oldLength = old?.Length ?? 0;
        if (patch.Length == 0)
        {
            ctx.Reply.Integer(oldLength);
            return;
        }
        if (!CheckLength(ctx, offset, patch.Length)) return;
        long newLength = Math.Max(oldLength, offset + patch.Length);
        var value = old is not null && old.Length == newLength ? old : new byte[newLength];
        if (old is not null && value != old) old.CopyTo(value, 0);
        patch.CopyTo(value.AsSpan((int)offset));
        if (entry is null) entry = ctx.Db.Add(key, value, RedisType.String, ObjectEncoding.Raw);
        else entry.Value = value;
        entry.Encoding = ObjectEncoding.Raw;
        ctx.KeyModified(key);
        ctx.Notify(NotifyClass.String, "setrange"u8, key);
        ctx.Reply.Integer(newLength);
    }

    static void Incr(CommandContext ctx) => IncrDecr(ctx, 1);

    static void Decr(CommandContext ctx) => IncrDecr(ctx, -1);

    static void IncrBy(CommandContext ctx)
    {
        if (ctx.TryGetLong(2, out long by)) IncrDecr(ctx, by);
    }

    static void DecrBy(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long by)) return;
        if (by == long.MinValue)
        {
            ctx.Error("ERR decrement would overflow");
            return;
        }
        IncrDecr(ctx, -by);
    }

    static void IncrDecr(CommandContext ctx, long by)
    {
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        var old = ReadString(ctx, entry, out bool wrongType);
        if (wrongType) return;
        long value = 0;
        if (old is not null && !RedisNumbers.TryParseInt64(old.StringValue, out value))
        {
            ctx.Error(CommandContext.NotIntegerError);
            return;
        }
        if ((by < 0 && value < 0 && by < long.MinValue - value) || (by > 0 && value > 0 && by > long.MaxValue - value))
        {
            ctx.Error(CommandContext.OverflowError);
            return;
        }
        value += by;
        Span<byte> digits = stackalloc byte[RedisNumbers.MaxInt64Length];
        int n = RedisNumbers.FormatInt64(value, digits);
        // Digits of a long: the int encoding, known without parsing them again.
        ctx.Db.SetString(entry, key, digits[..n], keepTtl: true, ObjectEncoding.Int);
        ctx.KeyModified(key);
        ctx.Notify(NotifyClass.String, "incrby"u8, key);
        ctx.Reply.Integer(value);
    }

    static void IncrByFloat(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        var old = ReadString(ctx, entry, out bool wrongType);
        if (wrongType) return;
        var current = LongDouble.Zero;
        if ((old is not null && !LongDouble.TryParse(old.StringValue, out current)) || !LongDouble.TryParse(ctx.Arg(2), out var increment))
        {
            ctx.Error(CommandContext.NotFloatError);
            return;
        }
        Span<byte> text = stackalloc byte[LongDouble.MaxStringLength];
        int length = FormatSum(ctx, current, increment, text);
        if (length < 0) return;
        var formatted = text[..length];
        // Redis stores the printed sum as it is, without tryObjectEncoding: "3" is an embstr, not a shared integer.
        ctx.Db.SetString(entry, key, formatted, keepTtl: true, StringEncoding.NotInteger(formatted));
        ctx.KeyModified(key);
        ctx.Notify(NotifyClass.String, "incrbyfloat"u8, key);
        ctx.Reply.Bulk(formatted);
        // Replayed as the exact result so float rounding can't drift between runs.
        ctx.Propagate().Arg("SET"u8).Arg(key).Arg(formatted).Arg("KEEPTTL"u8);
    }

    /// <summary>
    /// INCRBYFLOAT/HINCRBYFLOAT's sum as Redis prints it into <paramref name="text"/> (of
    /// <see cref="LongDouble.MaxStringLength"/> bytes): its length, or -1 once a NaN/infinite result is replied as an error.
    /// </summary>
    internal static int FormatSum(CommandContext ctx, LongDouble current, LongDouble increment, Span<byte> text)
    {
        var sum = LongDouble.Add(current, increment);
        if (sum.IsNaN || sum.IsInfinity)
        {
            ctx.Error("ERR increment would produce NaN or Infinity");
            return -1;
        }
        return sum.FormatHuman(text);
    }
}
