using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;

namespace MiniRedis.Commands;

/// <summary>
/// BITFIELD and BITFIELD_RO (Redis's bitfieldGeneric): integers of 1 to 64 bits (unsigned up to 63) at
/// any bit offset, most significant bit first. Every operation is parsed (and every error found) before
/// any runs; OVERFLOW applies to the operations after it.
/// </summary>
public static unsafe class BitfieldCommand
{
    public static void Register(CommandTable t)
    {
        t.Add("bitfield", &Bitfield);
        t.Add("bitfield_ro", &BitfieldRo);
    }

    enum Opcode : byte { Get, Set, IncrBy }

    enum Overflow : byte { Wrap, Sat, Fail }

    readonly record struct Operation(Opcode Opcode, Overflow Overflow, bool Signed, int Bits, long Offset, long Value);

    static void Bitfield(CommandContext ctx) => Run(ctx, readOnly: false);

    static void BitfieldRo(CommandContext ctx) => Run(ctx, readOnly: true);

    static void Run(CommandContext ctx, bool readOnly)
    {
        var ops = new List<Operation>();
        var overflow = Overflow.Wrap;
        bool writes = false;
        long highestWrite = 0;
        for (int j = 2; j < ctx.ArgCount; j++)
        {
            int remaining = ctx.ArgCount - j - 1;
            Opcode opcode;
            if (ctx.ArgIs(j, "GET"u8) && remaining >= 2) opcode = Opcode.Get;
            else if (ctx.ArgIs(j, "SET"u8) && remaining >= 3) opcode = Opcode.Set;
            else if (ctx.ArgIs(j, "INCRBY"u8) && remaining >= 3) opcode = Opcode.IncrBy;
            else if (ctx.ArgIs(j, "OVERFLOW"u8) && remaining >= 1)
            {
                j++;
                if (ctx.ArgIs(j, "WRAP"u8)) overflow = Overflow.Wrap;
                else if (ctx.ArgIs(j, "SAT"u8)) overflow = Overflow.Sat;
                else if (ctx.ArgIs(j, "FAIL"u8)) overflow = Overflow.Fail;
                else
                {
                    ctx.Error("ERR Invalid OVERFLOW type specified");
                    return;
                }
                continue;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }

            if (!TryGetType(ctx, j + 1, out bool signed, out int bits)) return;
            if (!BitmapCommands.TryGetBitOffset(ctx, j + 2, hashForm: true, bits, out long offset)) return;
            long value = 0;
            if (opcode != Opcode.Get)
            {
                writes = true;
                highestWrite = Math.Max(highestWrite, offset + bits - 1);
                if (!ctx.TryGetLong(j + 3, out value)) return;
            }
            ops.Add(new Operation(opcode, overflow, signed, bits, offset, value));
            j += opcode == Opcode.Get ? 2 : 3;
        }

        byte[]? target;
        if (!writes)
        {
            var entry = ctx.LookupRead(ctx.Arg(1));
            if (entry is not null && entry.Type != RedisType.String)
            {
                ctx.WrongType();
                return;
            }
            target = entry?.StringArray();
        }
        else
        {
            if (readOnly)
            {
                ctx.Error("ERR BITFIELD_RO only supports the GET subcommand");
                return;
            }
            target = BitmapCommands.LookupStringForBits(ctx, highestWrite, out _)?.StringArray();
            if (target is null) return;
        }

        ctx.Reply.ArrayHeader(ops.Count);
        int changes = 0;
        foreach (var op in ops)
        {
            if (op.Opcode == Opcode.Get)
            {
                ulong raw = target is null ? 0 : Read(target, op.Offset, op.Bits);
                ctx.Reply.Integer(op.Signed ? SignExtend(raw, op.Bits) : (long)raw);
                continue;
            }
            ulong old = Read(target!, op.Offset, op.Bits);
            long oldValue = op.Signed ? SignExtend(old, op.Bits) : (long)old;
            // SET checks the new value alone; INCRBY the old value plus the increment.
            long from = op.Opcode == Opcode.Set ? op.Value : oldValue;
            long increment = op.Opcode == Opcode.Set ? 0 : op.Value;
            bool overflowed = op.Signed
                ? SignedOverflow(from, increment, op.Bits, op.Overflow, out long limited)
                : UnsignedOverflow((ulong)from, increment, op.Bits, op.Overflow, out limited);
            long result = overflowed ? limited : unchecked(from + increment);
            if (overflowed && op.Overflow == Overflow.Fail)
            {
                ctx.Reply.NullBulk();
                continue;
            }
            ctx.Reply.Integer(op.Opcode == Opcode.Set ? oldValue : result);
            Write(target!, op.Offset, op.Bits, (ulong)result);
            changes++;
        }
        // Only written fields count: growing the string alone (every write FAILed) is not propagated.
        if (changes > 0)
        {
            ctx.KeyModified(ctx.Db, ctx.Arg(1), changes);
            ctx.Notify(NotifyClass.String, "setbit"u8, ctx.Arg(1));
        }
    }

    /// <summary>Redis's getBitfieldTypeFromArgument: "i1".."i64" or "u1".."u63".</summary>
    static bool TryGetType(CommandContext ctx, int index, out bool signed, out int bits)
    {
        var arg = ctx.Arg(index);
        signed = arg.Length > 0 && arg[0] == 'i';
        bits = 0;
        // Redis reads the width as a C string: it stops at a NUL.
        int nul = arg.IndexOf((byte)0);
        var width = arg[..(nul < 0 ? arg.Length : nul)];
        if (arg.Length > 0 && (signed || arg[0] == 'u') && RedisNumbers.TryParseInt64(width[1..], out long n)
            && n >= 1 && n <= (signed ? 64 : 63))
        {
            bits = (int)n;
            return true;
        }
        ctx.Error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
        return false;
    }

    /// <summary>The <paramref name="bits"/>-bit unsigned field at <paramref name="offset"/>; bits past the string read as 0.</summary>
    static ulong Read(byte[] value, long offset, int bits)
    {
        ulong result = 0;
        for (int i = 0; i < bits; i++, offset++)
        {
            long index = offset >> 3;
            int bit = index < value.Length ? (value[index] >> (7 - (int)(offset & 7))) & 1 : 0;
            result = (result << 1) | (uint)bit;
        }
        return result;
    }

    static void Write(byte[] value, long offset, int bits, ulong field)
    {
        for (int i = 0; i < bits; i++, offset++)
        {
            int bit = (int)((field >> (bits - 1 - i)) & 1);
            long index = offset >> 3;
            int shift = 7 - (int)(offset & 7);
            value[index] = (byte)((value[index] & ~(1 << shift)) | (bit << shift));
        }
    }

    static long SignExtend(ulong field, int bits)
        => bits < 64 && (field & (1UL << (bits - 1))) != 0 ? (long)(field | (ulong.MaxValue << bits)) : (long)field;

    /// <summary>Redis's checkSignedBitfieldOverflow: whether value + incr leaves the field's range, and the wrapped or saturated result.</summary>
    static bool SignedOverflow(long value, long incr, int bits, Overflow mode, out long limited)
    {
        long max = bits == 64 ? long.MaxValue : (1L << (bits - 1)) - 1;
        long min = -max - 1;
        long maxIncr = unchecked((long)((ulong)max - (ulong)value));
        long minIncr = unchecked(min - value);
        limited = 0;
        bool up = value > max || (bits != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr);
        bool down = !up && (value < min || (bits != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr));
        if (!up && !down) return false;
        if (mode == Overflow.Sat) limited = up ? max : min;
        else if (mode == Overflow.Wrap)
        {
            ulong sum = unchecked((ulong)value + (ulong)incr);
            if (bits < 64)
            {
                ulong mask = ulong.MaxValue << bits;
                sum = (sum & (1UL << (bits - 1))) != 0 ? sum | mask : sum & ~mask;
            }
            limited = (long)sum;
        }
        return true;
    }

    /// <summary>Redis's checkUnsignedBitfieldOverflow (fields of at most 63 bits).</summary>
    static bool UnsignedOverflow(ulong value, long incr, int bits, Overflow mode, out long limited)
    {
        ulong max = (1UL << bits) - 1;
        long maxIncr = unchecked((long)(max - value));
        long minIncr = unchecked(-(long)value);
        limited = 0;
        bool up = value > max || (incr > 0 && incr > maxIncr);
        bool down = !up && incr < 0 && incr < minIncr;
        if (!up && !down) return false;
        if (mode == Overflow.Sat) limited = up ? (long)max : 0;
        else if (mode == Overflow.Wrap) limited = (long)(unchecked(value + (ulong)incr) & max);
        return true;
    }
}
