using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace MiniRedis.Data;

/// <summary>
/// Redis's HyperLogLog (hyperloglog.c), kept in a plain string value with Redis's own bytes so a key
/// written here counts the same in real Redis and the other way round:
/// a 16-byte header ("HYLL", encoding, 3 unused bytes, the cached cardinality as 8 little-endian
/// bytes whose top bit marks it stale) and then 16384 six-bit registers, either dense (12288 bytes,
/// register i at bit 6i, least significant bits first) or sparse (run-length opcodes: ZERO 00xxxxxx,
/// XZERO 01xxxxxx yyyyyyyy, VAL 1vvvvvxx). A sparse value is edited exactly as Redis edits it (the same
/// splits and merges), so both servers hold the same bytes after the same PFADDs; it is promoted to
/// dense once a register exceeds 32 or it would grow past hll-sparse-max-bytes.
/// An instance (a struct: wrapping a value per PFADD allocates nothing) wraps one value while a command
/// edits it: dense registers change in place, a sparse value is copied into a roomier buffer on its first
/// growth and trimmed by <see cref="ToArray"/>.
/// </summary>
public struct HyperLogLog
{
    public const int Registers = 1 << P;
    public const int HeaderSize = 16;
    public const int DenseSize = HeaderSize + (Registers * Bits + 7) / 8;
    public const string InvalidObjectError = "INVALIDOBJ Corrupted HLL object detected";
    public const string NotHllError = "WRONGTYPE Key is not a valid HyperLogLog string value.";

    const int P = 14;
    const int Q = 64 - P;
    const int Bits = 6;
    const int RegisterMax = (1 << Bits) - 1;
    const byte Dense = 0;
    const byte Sparse = 1;
    const int SparseValMaxValue = 32;
    const int SparseValMaxLen = 4;
    const int SparseZeroMaxLen = 64;
    const double AlphaInf = 0.721347520444481703680; // 0.5 / ln(2)

    byte[] _buffer;
    int _length;

    /// <summary>Wraps <paramref name="value"/> (a value <see cref="IsValid"/> accepted) for editing.</summary>
    public HyperLogLog(byte[] value)
    {
        _buffer = value;
        _length = value.Length;
    }

    public readonly bool IsDense => _buffer[4] == Dense;

    /// <summary>The edited value: the same array when its length did not change.</summary>
    public readonly byte[] ToArray() => _buffer.Length == _length ? _buffer : _buffer.AsSpan(0, _length).ToArray();

    /// <summary>Redis's createHLLObject: a sparse HLL of one XZERO covering every register, cardinality 0 cached.</summary>
    public static byte[] CreateEmpty()
    {
        var value = new byte[HeaderSize + 2];
        "HYLL"u8.CopyTo(value);
        value[4] = Sparse;
        WriteXZero(value.AsSpan(HeaderSize), Registers);
        return value;
    }

    /// <summary>Redis's isHLLObjectOrReply checks: the magic, a known encoding, and a dense value's exact size.</summary>
    public static bool IsValid(ReadOnlySpan<byte> value)
        => value.Length >= HeaderSize && value.StartsWith("HYLL"u8) && value[4] <= Sparse
            && (value[4] != Dense || value.Length == DenseSize);

    public static bool IsSparse(ReadOnlySpan<byte> value) => value[4] == Sparse;

    /// <summary>The cached cardinality, or -1 when it is stale.</summary>
    public static long CachedCount(ReadOnlySpan<byte> value)
        => (value[15] & 0x80) != 0 ? -1 : (long)BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);

    public static void SetCachedCount(Span<byte> value, long count) => BinaryPrimitives.WriteUInt64LittleEndian(value[8..], (ulong)count);

    public static void InvalidateCache(Span<byte> value) => value[15] |= 0x80;

    /// <summary>Adds one element: 1 when a register grew, 0 when none did, -1 for a corrupted sparse value.</summary>
    public int Add(ReadOnlySpan<byte> element, long sparseMaxBytes)
    {
        int count = PatternLength(element, out int index);
        return Set(index, count, sparseMaxBytes);
    }

    /// <summary>Adds one element to a dense value in place, without wrapping it: 1 when a register grew, else 0.</summary>
    public static int AddDense(Span<byte> value, ReadOnlySpan<byte> element)
    {
        int count = PatternLength(element, out int index);
        return DenseSet(value[HeaderSize..], index, count) ? 1 : 0;
    }

    /// <summary>Raises register <paramref name="index"/> to <paramref name="count"/>: 1 when it grew, 0 when not, -1 when corrupted.</summary>
    public int Set(int index, int count, long sparseMaxBytes)
    {
        if (IsDense) return DenseSet(_buffer.AsSpan(HeaderSize), index, count) ? 1 : 0;
        return SparseSet(index, count, sparseMaxBytes);
    }

    /// <summary>
    /// Redis's hllPatLen: MurmurHash64A of the element with seed 0xadc83b19; the low 14 bits pick the
    /// register, the rest give 1 + the number of trailing zeros (at most 51).
    /// </summary>
    public static int PatternLength(ReadOnlySpan<byte> element, out int index)
    {
        ulong hash = MurmurHash64A(element, 0xadc83b19);
        index = (int)(hash & (Registers - 1));
        hash >>= P;
        hash |= 1UL << Q;
        return BitOperations.TrailingZeroCount(hash) + 1;
    }

    /// <summary>Austin Appleby's MurmurHash64A, reading 8-byte blocks little-endian as Redis does on x86.</summary>
    public static ulong MurmurHash64A(ReadOnlySpan<byte> data, uint seed)
    {
        const ulong m = 0xc6a4a7935bd1e995;
        const int r = 47;
        ulong h = seed ^ ((ulong)data.Length * m);
        // Whole words read in place (no slice and bounds check per block).
        var blocks = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong block in blocks)
        {
            ulong k = BitConverter.IsLittleEndian ? block : BinaryPrimitives.ReverseEndianness(block);
            k *= m;
            k ^= k >> r;
            k *= m;
            h ^= k;
            h *= m;
        }
        var tail = data[(blocks.Length * 8)..];
        if (tail.Length > 0)
        {
            for (int i = tail.Length - 1; i >= 0; i--) h ^= (ulong)tail[i] << (8 * i);
            h *= m;
        }
        h ^= h >> r;
        h *= m;
        h ^= h >> r;
        return h;
    }

    public static int DenseGet(ReadOnlySpan<byte> registers, int index)
    {
        int bit = index * Bits;
        int b = bit >> 3, shift = bit & 7;
        // The last register's second byte is past the array (Redis reads the string's terminating NUL).
        int b1 = b + 1 < registers.Length ? registers[b + 1] : 0;
        return ((registers[b] >> shift) | (b1 << (8 - shift))) & RegisterMax;
    }

    static void DenseWrite(Span<byte> registers, int index, int value)
    {
        int bit = index * Bits;
        int b = bit >> 3, shift = bit & 7;
        registers[b] = (byte)((registers[b] & ~(RegisterMax << shift)) | (value << shift));
        if (b + 1 < registers.Length)
            registers[b + 1] = (byte)((registers[b + 1] & ~(RegisterMax >> (8 - shift))) | (value >> (8 - shift)));
    }

    /// <summary>Raises a dense register (Redis's hllDenseSet): read and written where it lies, in one byte or across two.</summary>
    static bool DenseSet(Span<byte> registers, int index, int count)
    {
        int bit = index * Bits;
        int b = bit >> 3, shift = bit & 7;
        if (shift <= 8 - Bits)
        {
            // The six bits lie in one byte (the last register's do: nothing is read past the array).
            ref byte register = ref registers[b];
            if (count <= ((register >> shift) & RegisterMax)) return false;
            register = (byte)((register & ~(RegisterMax << shift)) | (count << shift));
            return true;
        }
        var pair = registers.Slice(b, 2);
        int word = BinaryPrimitives.ReadUInt16LittleEndian(pair);
        if (count <= ((word >> shift) & RegisterMax)) return false;
        BinaryPrimitives.WriteUInt16LittleEndian(pair, (ushort)((word & ~(RegisterMax << shift)) | (count << shift)));
        return true;
    }

    static bool IsZero(byte op) => (op & 0xc0) == 0;
    static bool IsXZero(byte op) => (op & 0xc0) == 0x40;
    static bool IsVal(byte op) => (op & 0x80) != 0;
    static int ZeroLen(byte op) => (op & 0x3f) + 1;
    static int ValValue(byte op) => ((op >> 2) & 0x1f) + 1;
    static int ValLen(byte op) => (op & 0x3) + 1;
    static byte Val(int value, int length) => (byte)(0x80 | ((value - 1) << 2) | (length - 1));

    /// <summary>An XZERO's run; its second byte past the end reads as 0, as Redis reads the NUL after the string.</summary>
    static int XZeroLen(ReadOnlySpan<byte> ops, int p) => (((ops[p] & 0x3f) << 8) | (p + 1 < ops.Length ? ops[p + 1] : 0)) + 1;

    static void WriteXZero(Span<byte> at, int length)
    {
        at[0] = (byte)(((length - 1) >> 8) | 0x40);
        at[1] = (byte)((length - 1) & 0xff);
    }

    /// <summary>A ZERO or XZERO run of <paramref name="length"/> at <paramref name="at"/>: the bytes written.</summary>
    static int WriteZeros(Span<byte> at, int length)
    {
        if (length > SparseZeroMaxLen)
        {
            WriteXZero(at, length);
            return 2;
        }
        at[0] = (byte)(length - 1);
        return 1;
    }

    /// <summary>
    /// Redis's hllSparseSet: finds the opcode covering the register, replaces it with up to three
    /// (the run before, the new value, the run after), merges equal neighbouring VALs, and promotes to
    /// dense when the value does not fit a VAL or the string would grow past <paramref name="sparseMaxBytes"/>.
    /// </summary>
    int SparseSet(int index, int count, long sparseMaxBytes)
    {
        if (count > SparseValMaxValue) return Promote(index, count);
        int end = _length, p = HeaderSize, first = 0, prev = -1, span = 0;
        var ops = _buffer.AsSpan(0, end);
        while (p < end)
        {
            int opLength = 1;
            if (IsZero(ops[p])) span = ZeroLen(ops[p]);
            else if (IsVal(ops[p])) span = ValLen(ops[p]);
            else
            {
                span = XZeroLen(ops, p);
                opLength = 2;
            }
            if (index <= first + span - 1) break;
            prev = p;
            p += opLength;
            first += span;
        }
        if (span == 0 || p >= end) return -1;

        byte op = ops[p];
        int next = IsXZero(op) ? p + 2 : p + 1;
        if (next >= end) next = -1;
        if (IsVal(op))
        {
            if (ValValue(op) >= count) return 0;
            if (ValLen(op) == 1)
            {
                _buffer[p] = Val(count, 1);
                return MergeAfterUpdate(prev);
            }
        }
        else if (IsZero(op) && ZeroLen(op) == 1)
        {
            _buffer[p] = Val(count, 1);
            return MergeAfterUpdate(prev);
        }

        Span<byte> seq = stackalloc byte[5];
        int n = 0, last = first + span - 1;
        if (IsVal(op))
        {
            int current = ValValue(op);
            if (index != first) seq[n++] = Val(current, index - first);
            seq[n++] = Val(count, 1);
            if (index != last) seq[n++] = Val(current, last - index);
        }
        else
        {
            if (index != first) n += WriteZeros(seq[n..], index - first);
            seq[n++] = Val(count, 1);
            if (index != last) n += WriteZeros(seq[n..], last - index);
        }

        int delta = n - (IsXZero(op) ? 2 : 1);
        if (delta > 0 && _length + delta > sparseMaxBytes) return Promote(index, count);
        if (delta != 0)
        {
            if (_length + delta > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_length + delta, _length + 64));
            if (next >= 0) Buffer.BlockCopy(_buffer, next, _buffer, next + delta, end - next);
            _length += delta;
        }
        seq[..n].CopyTo(_buffer.AsSpan(p));
        return MergeAfterUpdate(prev);
    }

    /// <summary>Redis's step 4: merges adjacent VALs of equal value, scanning up to 5 opcodes from the one before the change.</summary>
    int MergeAfterUpdate(int prev)
    {
        int p = prev >= 0 ? prev : HeaderSize;
        int scan = 5;
        while (p < _length && scan-- > 0)
        {
            byte op = _buffer[p];
            if (IsXZero(op))
            {
                p += 2;
                continue;
            }
            if (IsZero(op))
            {
                p++;
                continue;
            }
            if (p + 1 < _length && IsVal(_buffer[p + 1]) && ValValue(op) == ValValue(_buffer[p + 1]))
            {
                int length = ValLen(op) + ValLen(_buffer[p + 1]);
                if (length <= SparseValMaxLen)
                {
                    _buffer[p + 1] = Val(ValValue(op), length);
                    Buffer.BlockCopy(_buffer, p + 1, _buffer, p, _length - p - 1);
                    _length--;
                    continue;
                }
            }
            p++;
        }
        InvalidateCache(_buffer);
        return 1;
    }

    int Promote(int index, int count)
    {
        if (!ToDense()) return -1;
        DenseSet(_buffer.AsSpan(HeaderSize), index, count);
        return 1;
    }

    /// <summary>Redis's hllSparseToDense: false (nothing changed) when the opcodes do not cover exactly 16384 registers.</summary>
    public bool ToDense()
    {
        if (IsDense) return true;
        var dense = new byte[DenseSize];
        _buffer.AsSpan(0, HeaderSize).CopyTo(dense);
        dense[4] = Dense;
        var registers = dense.AsSpan(HeaderSize);
        var runs = new SparseRuns(_buffer.AsSpan(0, _length));
        while (runs.Next(out int value, out int run, out int index))
        {
            for (int i = 0; i < run && value != 0; i++) DenseWrite(registers, index + i, value);
        }
        if (!runs.Complete) return false;
        _buffer = dense;
        _length = DenseSize;
        return true;
    }

    /// <summary>
    /// A sparse value's runs in order, read as Redis's loops read them. It is <see cref="Complete"/> when the
    /// runs covered exactly 16384 registers; a VAL that would run past the last register ends the walk and
    /// makes the value corrupted (Redis 7.0.15 refuses it in every command, even when the registers before it add up).
    /// </summary>
    ref struct SparseRuns(ReadOnlySpan<byte> value)
    {
        readonly ReadOnlySpan<byte> _value = value;
        int _p = HeaderSize;
        int _index;
        bool _overran;

        public readonly bool Complete => !_overran && _index == Registers;

        /// <summary>The next run: its value (0 for ZERO/XZERO), length and first register.</summary>
        public bool Next(out int value, out int run, out int first)
        {
            first = _index;
            value = run = 0;
            if (_p >= _value.Length) return false;
            byte op = _value[_p];
            if (IsZero(op))
            {
                run = ZeroLen(op);
                _p++;
            }
            else if (IsXZero(op))
            {
                run = XZeroLen(_value, _p);
                _p += 2;
            }
            else
            {
                run = ValLen(op);
                if (run + _index > Registers)
                {
                    _overran = true;
                    return false;
                }
                value = ValValue(op);
                _p++;
            }
            _index += run;
            return true;
        }
    }

    /// <summary>Redis's hllMerge: raises each of <paramref name="max"/>'s 16384 byte registers to this HLL's; false when corrupted.</summary>
    public static bool MergeInto(Span<byte> max, ReadOnlySpan<byte> value)
    {
        if (value[4] == Dense)
        {
            Span<byte> registers = stackalloc byte[Registers];
            Unpack(value[HeaderSize..], registers);
            var maxVectors = MemoryMarshal.Cast<byte, Vector<byte>>(max);
            var vectors = MemoryMarshal.Cast<byte, Vector<byte>>(registers);
            for (int i = 0; i < vectors.Length; i++) maxVectors[i] = Vector.Max(maxVectors[i], vectors[i]);
            for (int i = vectors.Length * Vector<byte>.Count; i < Registers; i++) max[i] = Math.Max(max[i], registers[i]);
            return true;
        }
        var runs = new SparseRuns(value);
        while (runs.Next(out int v, out int run, out int first))
        {
            for (int i = first; i < first + run && v != 0; i++)
                if (v > max[i]) max[i] = (byte)v;
        }
        return runs.Complete;
    }

    /// <summary>Redis's hllCount: the estimate of a dense or sparse value; <paramref name="invalid"/> when sparse opcodes are corrupted.</summary>
    public static long Count(ReadOnlySpan<byte> value, out bool invalid)
    {
        var histogram = new int[64];
        invalid = false;
        if (value[4] == Dense)
        {
            Span<byte> registers = stackalloc byte[Registers];
            Unpack(value[HeaderSize..], registers);
            foreach (byte v in registers) histogram[v]++;
        }
        else
        {
            var runs = new SparseRuns(value);
            while (runs.Next(out int v, out int run, out _)) histogram[v] += run;
            invalid = !runs.Complete;
        }
        return Estimate(histogram);
    }

    /// <summary>A dense value's registers, one per byte: four at a time from each three bytes.</summary>
    static void Unpack(ReadOnlySpan<byte> dense, Span<byte> registers)
    {
        for (int i = 0, b = 0; i < Registers; i += 4, b += 3)
        {
            int word = dense[b] | (dense[b + 1] << 8) | (dense[b + 2] << 16);
            registers[i] = (byte)(word & RegisterMax);
            registers[i + 1] = (byte)((word >> 6) & RegisterMax);
            registers[i + 2] = (byte)((word >> 12) & RegisterMax);
            registers[i + 3] = (byte)(word >> 18);
        }
    }

    /// <summary>The estimate of 16384 registers held one per byte (PFCOUNT of several keys).</summary>
    public static long CountRegisters(ReadOnlySpan<byte> registers)
    {
        var histogram = new int[64];
        foreach (byte v in registers) histogram[v]++;
        return Estimate(histogram);
    }

    /// <summary>Otmar Ertl's estimator from the register histogram ("New cardinality estimation algorithms for HyperLogLog sketches"), as Redis computes it.</summary>
    static long Estimate(int[] histogram)
    {
        const double m = Registers;
        double z = m * Tau((m - histogram[Q + 1]) / m);
        for (int j = Q; j >= 1; --j)
        {
            z += histogram[j];
            z *= 0.5;
        }
        z += m * Sigma(histogram[0] / m);
        return (long)Math.Round(AlphaInf * m * m / z, MidpointRounding.AwayFromZero);
    }

    static double Sigma(double x)
    {
        if (x == 1.0) return double.PositiveInfinity;
        double zPrime, y = 1, z = x;
        do
        {
            x *= x;
            zPrime = z;
            z += x * y;
            y += y;
        } while (zPrime != z);
        return z;
    }

    static double Tau(double x)
    {
        if (x == 0.0 || x == 1.0) return 0.0;
        double zPrime, y = 1.0, z = 1 - x;
        do
        {
            x = Math.Sqrt(x);
            zPrime = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
        } while (zPrime != z);
        return z / 3;
    }

    /// <summary>PFDEBUG DECODE's text of a sparse value: "z:N", "Z:N" and "v:VALUE,N" separated by spaces.</summary>
    public static string Decode(ReadOnlySpan<byte> value)
    {
        var text = new System.Text.StringBuilder();
        int p = HeaderSize;
        while (p < value.Length)
        {
            byte op = value[p];
            if (text.Length > 0) text.Append(' ');
            if (IsZero(op))
            {
                text.Append("z:").Append(ZeroLen(op));
                p++;
            }
            else if (IsXZero(op))
            {
                text.Append("Z:").Append(XZeroLen(value, p));
                p += 2;
            }
            else
            {
                text.Append("v:").Append(ValValue(op)).Append(',').Append(ValLen(op));
                p++;
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// Redis's PFSELFTEST: dense registers keep the values written (and leave their neighbours alone),
    /// and a sparse and a dense HLL fed the same elements agree, within 6 standard errors of the truth.
    /// Null on success, else the TESTFAILED message.
    /// </summary>
    public static string? SelfTest(long sparseMaxBytes)
    {
        var random = new Random();
        var dense = new byte[DenseSize];
        var registers = dense.AsSpan(HeaderSize);
        var expected = new byte[Registers];
        for (int cycle = 0; cycle < 1000; cycle++)
        {
            for (int i = 0; i < Registers; i++)
            {
                expected[i] = (byte)(random.Next() & RegisterMax);
                DenseWrite(registers, i, expected[i]);
            }
            for (int i = 0; i < Registers; i++)
            {
                int v = DenseGet(registers, i);
                if (v != expected[i]) return $"TESTFAILED Register {i} should be {expected[i]} but is {v}";
            }
        }

        registers.Clear();
        "HYLL"u8.CopyTo(dense);
        var sparse = new HyperLogLog(CreateEmpty());
        double relativeError = 1.04 / Math.Sqrt(Registers);
        long checkpoint = 1;
        ulong seed = (ulong)random.NextInt64();
        Span<byte> element = stackalloc byte[8];
        for (long j = 1; j <= 10_000_000; j++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(element, (ulong)j ^ seed);
            int count = PatternLength(element, out int index);
            DenseSet(registers, index, count);
            sparse.Set(index, count, sparseMaxBytes);
            if (j != checkpoint) continue;
            if (j < sparseMaxBytes / 2 && sparse.IsDense) return "TESTFAILED sparse encoding not used";
            long estimate = Count(dense, out _);
            if (estimate != Count(sparse._buffer.AsSpan(0, sparse._length), out _)) return "TESTFAILED dense/sparse disagree";
            long maxError = j == 10 ? 1 : (long)Math.Ceiling(relativeError * 6 * checkpoint);
            long error = Math.Abs(checkpoint - estimate);
            if (error > maxError) return $"TESTFAILED Too big error. card:{checkpoint} abserr:{error}";
            checkpoint *= 10;
        }
        return null;
    }
}
