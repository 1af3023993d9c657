using System.Numerics;
using System.Runtime.InteropServices;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>
/// Bitmap commands (Redis's bitops.c): strings seen as arrays of bits, bit 0 the most significant bit
/// of the first byte. Writes grow the string with zero bytes and leave it raw-encoded, as Redis's
/// lookupStringForBitCommand does.
/// </summary>
public static unsafe class BitmapCommands
{
    const string BitOffsetError = "ERR bit offset is not an integer or out of range";
    const string BitValueError = "ERR bit is not an integer or out of range";

    public static void Register(CommandTable t)
    {
        t.Add("setbit", &SetBit);
        t.Add("getbit", &GetBit);
        t.Add("bitcount", &BitCount);
        t.Add("bitpos", &BitPos);
        t.Add("bitop", &BitOp);
    }

    /// <summary>
    /// Redis's getBitOffsetFromArgument: a bit offset, or with <paramref name="hashForm"/> "#N" meaning N
    /// fields of <paramref name="bits"/> bits; it must address a byte below proto-max-bulk-len.
    /// </summary>
    internal static bool TryGetBitOffset(CommandContext ctx, int index, bool hashForm, int bits, out long offset)
    {
        var arg = ctx.Arg(index);
        bool hash = hashForm && arg.Length > 0 && arg[0] == '#';
        if (RedisNumbers.TryParseInt64(hash ? arg[1..] : arg, out offset))
        {
            if (hash) offset = unchecked(offset * bits); // C's wrapping multiplication; a wrapped result is refused below
            if (offset >= 0 && (offset >> 3) < ctx.Config.ProtoMaxBulkLen) return true;
        }
        ctx.Error(BitOffsetError);
        return false;
    }

    /// <summary>
    /// Redis's lookupStringForBitCommand: the key's string, created or zero-extended so bit
    /// <paramref name="maxBit"/> exists, made raw; null after replying WRONGTYPE. <paramref name="grown"/>:
    /// created or lengthened (a change even if no bit flips).
    /// </summary>
    internal static KeyEntry? LookupStringForBits(CommandContext ctx, long maxBit, out bool grown)
    {
        var key = ctx.Arg(1);
        long length = (maxBit >> 3) + 1;
        var entry = ctx.LookupWrite(key);
        grown = false;
        if (entry is null)
        {
            grown = true;
            return ctx.Db.Add(key, new byte[length], RedisType.String, ObjectEncoding.Raw);
        }
        if (entry.Type != RedisType.String)
        {
            ctx.WrongType();
            return null;
        }
        var old = entry.StringArray();
        if (old.Length < length)
        {
            var longer = new byte[length];
            old.CopyTo(longer, 0);
            entry.Value = longer;
            grown = true;
        }
        entry.Encoding = ObjectEncoding.Raw;
        return entry;
    }

    /// <summary>The string of a key for reading: null when missing (the caller replies), or after replying WRONGTYPE (<paramref name="wrongType"/>).</summary>
    static byte[]? ReadString(CommandContext ctx, out bool wrongType)
    {
        var entry = ctx.LookupRead(ctx.Arg(1));
        wrongType = entry is not null && entry.Type != RedisType.String;
        if (wrongType) ctx.WrongType();
        return wrongType ? null : entry?.StringArray();
    }

    static void SetBit(CommandContext ctx)
    {
        if (!TryGetBitOffset(ctx, 2, false, 0, out long offset)) return;
        if (!ctx.TryGetLong(3, out long on, BitValueError)) return;
        if ((on & ~1L) != 0)
        {
            ctx.Error(BitValueError);
            return;
        }
        var entry = LookupStringForBits(ctx, offset, out bool grown);
        if (entry is null) return;
        var value = entry.StringArray();
        int index = (int)(offset >> 3), shift = 7 - (int)(offset & 7);
        int old = (value[index] >> shift) & 1;
        // Redis counts a change only when the string grew or the bit flips: SETBIT of the same bit is not propagated.
        if (grown || old != on)
        {
            value[index] = (byte)((value[index] & ~(1 << shift)) | ((int)on << shift));
            ctx.KeyModified(ctx.Arg(1));
            ctx.Notify(NotifyClass.String, "setbit"u8, ctx.Arg(1));
        }
        ctx.Reply.Integer(old);
    }

    static void GetBit(CommandContext ctx)
    {
        if (!TryGetBitOffset(ctx, 2, false, 0, out long offset)) return;
        var value = ReadString(ctx, out bool wrongType);
        if (wrongType) return;
        long index = offset >> 3;
        int bit = value is not null && index < value.Length ? (value[index] >> (7 - (int)(offset & 7))) & 1 : 0;
        ctx.Reply.Integer(bit);
    }

    /// <summary>
    /// BITCOUNT's and BITPOS's [start end [BYTE|BIT]] range over a string of <paramref name="length"/> bytes,
    /// as the inclusive bit range it selects (empty when <paramref name="firstBit"/> > <paramref name="lastBit"/>);
    /// false after replying an error. Negative indexes count from the end; both ends are clamped into the string.
    /// </summary>
    static bool TryGetRange(CommandContext ctx, int startArg, int endArg, int unitArg, long length, out long firstBit, out long lastBit)
    {
        firstBit = 0;
        lastBit = -1;
        if (!ctx.TryGetLong(startArg, out long start)) return false;
        bool isBit = false;
        if (unitArg < ctx.ArgCount)
        {
            if (ctx.ArgIs(unitArg, "BIT"u8)) isBit = true;
            else if (!ctx.ArgIs(unitArg, "BYTE"u8))
            {
                ctx.Error(CommandContext.SyntaxError);
                return false;
            }
        }
        long total = isBit ? length << 3 : length;
        long end = total - 1;
        if (endArg < ctx.ArgCount && !ctx.TryGetLong(endArg, out end)) return false;
        if (start < 0) start += total;
        if (end < 0) end += total;
        start = Math.Max(start, 0);
        end = Math.Min(Math.Max(end, 0), total - 1);
        if (start > end) return true;
        firstBit = isBit ? start : start << 3;
        lastBit = isBit ? end : (end << 3) + 7;
        return true;
    }

    static void BitCount(CommandContext ctx)
    {
        var value = ReadString(ctx, out bool wrongType);
        if (wrongType) return;
        if (value is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        long firstBit = 0, lastBit = ((long)value.Length << 3) - 1;
        if (ctx.ArgCount is 4 or 5)
        {
            // Redis answers 0 for two negative indexes in the wrong order before it reads the unit.
            if (!ctx.TryGetLong(2, out long start) || !ctx.TryGetLong(3, out long end)) return;
            if (start < 0 && end < 0 && start > end)
            {
                ctx.Reply.Integer(0);
                return;
            }
            if (!TryGetRange(ctx, 2, 3, 4, value.Length, out firstBit, out lastBit)) return;
        }
        else if (ctx.ArgCount != 2)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        ctx.Reply.Integer(firstBit > lastBit ? 0 : CountBits(value, firstBit, lastBit));
    }

    /// <summary>The set bits of <paramref name="value"/> from bit <paramref name="firstBit"/> to <paramref name="lastBit"/> inclusive.</summary>
    static long CountBits(ReadOnlySpan<byte> value, long firstBit, long lastBit)
    {
        int firstByte = (int)(firstBit >> 3), lastByte = (int)(lastBit >> 3);
        long count = PopCount(value[firstByte..(lastByte + 1)]);
        // Take back the bits of the edge bytes outside the range.
        count -= BitOperations.PopCount((uint)(value[firstByte] & (0xff00 >> (int)(firstBit & 7)) & 0xff));
        count -= BitOperations.PopCount((uint)(value[lastByte] & ((1 << (7 - (int)(lastBit & 7))) - 1)));
        return count;
    }

    static long PopCount(ReadOnlySpan<byte> bytes)
    {
        long count = 0;
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (ulong w in words) count += BitOperations.PopCount(w);
        foreach (byte b in bytes[(words.Length * 8)..]) count += BitOperations.PopCount(b);
        return count;
    }

    static void BitPos(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long bit)) return;
        if (bit is not (0 or 1))
        {
            ctx.Error("ERR The bit argument must be 1 or 0.");
            return;
        }
        var value = ReadString(ctx, out bool wrongType);
        if (wrongType) return;
        // A missing key is an endless run of zeros.
        if (value is null)
        {
            ctx.Reply.Integer(bit == 1 ? -1 : 0);
            return;
        }
        long firstBit = 0, lastBit = ((long)value.Length << 3) - 1;
        bool endGiven = ctx.ArgCount >= 5;
        if (ctx.ArgCount is >= 4 and <= 6)
        {
            if (!TryGetRange(ctx, 3, 4, 5, value.Length, out firstBit, out lastBit)) return;
        }
        else if (ctx.ArgCount != 3)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        if (firstBit > lastBit)
        {
            ctx.Reply.Integer(-1);
            return;
        }
        long pos = FindBit(value, firstBit, lastBit, (int)bit);
        // Looking for a 0 without an explicit end, the string continues with zeros past its end.
        if (pos < 0 && bit == 0 && !endGiven) pos = lastBit + 1;
        ctx.Reply.Integer(pos);
    }

    /// <summary>The first bit equal to <paramref name="bit"/> between two bit positions (inclusive), or -1.</summary>
    static long FindBit(ReadOnlySpan<byte> value, long firstBit, long lastBit, int bit)
    {
        byte uniform = bit == 1 ? (byte)0 : (byte)0xff;
        long pos = firstBit;
        while (pos <= lastBit)
        {
            int index = (int)(pos >> 3);
            // From a byte boundary, skip whole bytes that cannot hold the bit.
            if ((pos & 7) == 0 && pos + 7 <= lastBit)
            {
                int wholeEnd = (int)((lastBit + 1) >> 3);
                int found = value[index..wholeEnd].IndexOfAnyExcept(uniform);
                if (found < 0)
                {
                    pos = (long)wholeEnd << 3;
                    continue;
                }
                index += found;
                pos = (long)index << 3;
            }
            for (; pos <= lastBit && (pos >> 3) == index; pos++)
            {
                if (((value[index] >> (7 - (int)(pos & 7))) & 1) == bit) return pos;
            }
        }
        return -1;
    }

    enum BitOperation { And, Or, Xor, Not }

    static void BitOp(CommandContext ctx)
    {
        BitOperation op;
        if (ctx.ArgIs(1, "AND"u8)) op = BitOperation.And;
        else if (ctx.ArgIs(1, "OR"u8)) op = BitOperation.Or;
        else if (ctx.ArgIs(1, "XOR"u8)) op = BitOperation.Xor;
        else if (ctx.ArgIs(1, "NOT"u8)) op = BitOperation.Not;
        else
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        if (op == BitOperation.Not && ctx.ArgCount != 4)
        {
            ctx.Error("ERR BITOP NOT must be called with a single source key.");
            return;
        }

        var sources = new byte[ctx.ArgCount - 3][];
        int maxLength = 0;
        for (int i = 0; i < sources.Length; i++)
        {
            var entry = ctx.LookupRead(ctx.Arg(i + 3));
            if (entry is not null && entry.Type != RedisType.String)
            {
                ctx.WrongType();
                return;
            }
            sources[i] = entry?.StringArray() ?? [];
            maxLength = Math.Max(maxLength, sources[i].Length);
        }

        var dest = ctx.Arg(2);
        if (maxLength > 0)
        {
            ctx.Db.SetKey(dest, Combine(op, sources, maxLength), RedisType.String, ObjectEncoding.Raw);
            ctx.KeyModified(dest);
            ctx.Notify(NotifyClass.String, "set"u8, dest);
        }
        else if (ctx.LookupWrite(dest) is { } old)
        {
            // Every source empty: the destination is deleted rather than set to "".
            ctx.Db.Delete(old);
            ctx.KeyModified(dest);
            ctx.Notify(NotifyClass.Generic, "del"u8, dest);
        }
        ctx.Reply.Integer(maxLength);
    }

    /// <summary>The result of BITOP over <paramref name="sources"/>, shorter ones padded with zero bytes.</summary>
    static byte[] Combine(BitOperation op, byte[][] sources, int length)
    {
        var result = new byte[length];
        sources[0].CopyTo(result, 0);
        if (op == BitOperation.Not)
        {
            Apply(result, result, static (a, _) => ~a);
            return result;
        }
        for (int i = 1; i < sources.Length; i++)
        {
            var source = sources[i];
            switch (op)
            {
                case BitOperation.And:
                    Apply(result.AsSpan(0, source.Length), source, static (a, b) => a & b);
                    result.AsSpan(source.Length).Clear();
                    break;
                case BitOperation.Or:
                    Apply(result.AsSpan(0, source.Length), source, static (a, b) => a | b);
                    break;
                default:
                    Apply(result.AsSpan(0, source.Length), source, static (a, b) => a ^ b);
                    break;
            }
        }
        return result;
    }

    /// <summary><paramref name="target"/>[i] = f(target[i], source[i]), a word at a time.</summary>
    static void Apply(Span<byte> target, ReadOnlySpan<byte> source, Func<ulong, ulong, ulong> f)
    {
        var targetWords = MemoryMarshal.Cast<byte, ulong>(target);
        var sourceWords = MemoryMarshal.Cast<byte, ulong>(source[..target.Length]);
        for (int i = 0; i < targetWords.Length; i++) targetWords[i] = f(targetWords[i], sourceWords[i]);
        for (int i = targetWords.Length * 8; i < target.Length; i++) target[i] = (byte)f(target[i], source[i]);
    }
}
