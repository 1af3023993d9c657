namespace MiniRedis.Data;

/// <summary>Redis's value types, in the order TYPE and SCAN TYPE name them.</summary>
public enum RedisType : byte { String, List, Set, ZSet, Hash, Stream }

/// <summary>How a value is laid out in memory, as OBJECT ENCODING reports it.</summary>
public enum ObjectEncoding : byte { Raw, Int, Embstr, Listpack, Quicklist, Intset, Hashtable, Skiplist, Stream }

/// <summary>
/// One key of the keyspace: the hash table node, the value and its metadata in one object. Owned by
/// the executor thread.
///
/// Memory per key and the GC's work per write are the point of this layout (issues 13 and 18). A key
/// in a table keeps its bytes in a slot of the <see cref="StringArena"/> (no array of its own: 24 bytes
/// less per key, and one object less for the GC to trace); a detached entry, or a key longer than the
/// arena takes, keeps them in an array. A string value SET to up to <see cref="StringArena.LongestValue"/>
/// bytes lives in a slot of the <see cref="StringArena"/>, which the GC neither traces nor moves piece
/// by piece: a SET that replaces it writes the slot (or takes another of the right size class) and
/// stores no reference, so no young object is born and no card of the old generation is marked, and a
/// deleted or evicted key's slot serves the next SET. Only a key in a database's table holds a slot
/// (<see cref="Attach"/> / <see cref="Detach"/>); a detached entry (a snapshot's copy, one deleted or
/// flushed) keeps its value in an array, so whoever still holds it reads it safely, unless its deleter
/// said nobody does (eviction, expiry). Longer strings, strings edited in place
/// (<see cref="StringArray"/>) and every other type keep their value in <see cref="Value"/>. The fields fit 48 bytes: the table does not
/// cache the key's hash (chains are short; a resize hashes the key again), type, encoding and a flag
/// share a byte, and the expiry lives in a small object that only keys with a TTL have, in the field
/// that otherwise holds the key's array when it has one.
/// </summary>
public sealed class KeyEntry : IChainedNode<KeyEntry>
{
    /// <summary>
    /// Longest string value an entry entering a table with an array (<see cref="Attach"/>) moves into the
    /// arena: Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. A raw array stays: its creator (SETBIT, SETRANGE) may still write it.
    /// </summary>
    public const int InlineLimit = 44;

    /// <summary>A detached entry; takes <paramref name="key"/> and a byte[] value without a copy (the RDB reader hands its arrays over).</summary>
    public KeyEntry(byte[] key, object value, RedisType type, ObjectEncoding encoding)
    {
        _extra = key;
        _value = value;
        Type = type;
        Encoding = encoding;
    }

    /// <summary>
    /// A detached entry for a string read from a dump (the RDB loader, executor thread): the key, and a
    /// value that <see cref="Attach"/> would inline, go into the arena now, from the reader's buffers, rather
    /// than through arrays of their own that would at once be garbage (1M keys and 700k values in a 1M-key
    /// load). Its loader adds it or <see cref="Detach"/>es it.
    /// </summary>
    internal static KeyEntry LoadedString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ObjectEncoding encoding)
    {
        if (!Inlines(value.Length, encoding)) return new KeyEntry(key, value.ToArray(), RedisType.String, encoding);
        var entry = new KeyEntry(key, s_discarded, RedisType.String, encoding);
        entry.SetInlineString(value);
        return entry;
    }

    /// <summary>A detached entry for a collection read from a dump: as <see cref="LoadedString"/>, its key goes into the arena now.</summary>
    internal static KeyEntry Loaded(ReadOnlySpan<byte> key, object value, RedisType type, ObjectEncoding encoding) => new(key, value, type, encoding);

    /// <summary>A key holding a string value, about to enter a table; the hot path of SET (the entry alone: key and value go to the arena).</summary>
    internal KeyEntry(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ObjectEncoding encoding)
    {
        SetKey(key);
        InitString(value, encoding);
    }

    /// <summary>A key about to enter a table holding <paramref name="value"/>: its bytes go straight to the arena, with no array on the way.</summary>
    internal KeyEntry(ReadOnlySpan<byte> key, object value, RedisType type, ObjectEncoding encoding)
    {
        SetKey(key);
        _value = value;
        Type = type;
        Encoding = encoding;
    }

    /// <summary>
    /// Makes an evicted key's entry, which nobody holds any more (<see cref="Keyspace.Recycle"/>), the
    /// entry of a new key holding a string, as the constructor would, without a new object: a cache
    /// replaces evicted keys all the time, and each new entry would otherwise die in the old generation.
    /// </summary>
    internal void Reuse(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ObjectEncoding encoding)
    {
        _extra = null;
        SetKey(key);
        Next = null;
        _kind = 0;
        LastAccess = 0;
        SnapshotEpoch = 0;
        _accountedUnits = Detached;
        InitString(value, encoding);
    }

    void InitString(ReadOnlySpan<byte> value, ObjectEncoding encoding)
    {
        Type = RedisType.String;
        Encoding = encoding;
        if (value.Length <= StringArena.LongestValue) SetInlineString(value);
        else _value = value.ToArray();
    }

    /// <summary>Redis's embstr rule: a raw string (long, or made raw to be edited in place) keeps the array it came with.</summary>
    static bool Inlines(int length, ObjectEncoding encoding) => encoding != ObjectEncoding.Raw && length <= InlineLimit;

    /// <summary>In place of an evicted or expired key's value, which nobody reads again: reading it fails loudly.</summary>
    static readonly object s_discarded = new();

    /// <summary>
    /// The key's array when its bytes are not in the arena (<see cref="_keyInArena"/>), or the key's
    /// <see cref="Expiry"/> (which then holds that array, if any), or null: a key in the arena without a TTL.
    /// </summary>
    object? _extra;

    /// <summary>The key's bytes are in <see cref="_keySlot"/> (length code <see cref="_keyLength"/>; no slot for the empty key).</summary>
    bool _keyInArena;
    byte _keyLength;
    uint _keySlot;

    /// <summary>The collection object, or a string's own array; null for a string in the arena.</summary>
    object? _value;

    /// <summary>An arena string's slot (<see cref="StringArena"/>) and length code (<see cref="StringArena.CodeOf"/>); no slot for the empty string.</summary>
    uint _slot;
    byte _inlineLength;

    internal KeyEntry? Next;

    KeyEntry? IChainedNode<KeyEntry>.Next { get => Next; set => Next = value; }

    public ReadOnlySpan<byte> Key => _keyInArena ? ArenaKey : KeyArray!;

    Span<byte> ArenaKey => _keyLength == 0 ? [] : StringArena.Value(_keySlot, _keyLength);

    byte[]? KeyArray => _extra as byte[] ?? (_extra as Expiry)?.Key;

    /// <summary>Sets the key's array (or none) beside the expiry, if there is one.</summary>
    void SetKeyArray(byte[]? key)
    {
        if (_extra is Expiry expiry) expiry.Key = key;
        else _extra = key;
    }

    /// <summary>The key of an entry entering a table: into the arena when it fits, else an array.</summary>
    void SetKey(ReadOnlySpan<byte> key)
    {
        if (key.Length > StringArena.LongestValue)
        {
            _keyInArena = false;
            SetKeyArray(key.ToArray());
            return;
        }
        SetKeyArray(null);
        _keyInArena = true;
        _keyLength = 0;
        if (key.Length == 0) return;
        _keySlot = StringArena.Allocate(key.Length);
        _keyLength = StringArena.Write(_keySlot, key);
    }

    /// <summary>Gives the arena key's slot back; the key moves to an array unless nobody reads it again.</summary>
    void FreeKey(bool keepKey)
    {
        if (!_keyInArena) return;
        var key = keepKey ? ArenaKey.ToArray() : [];
        if (_keyLength > 0) StringArena.Free(_keySlot, ArenaKey.Length);
        _keyInArena = false;
        _keyLength = 0;
        SetKeyArray(key);
    }

    /// <summary>The key's hash as the keyspace table computes it (not cached: see the class comment).</summary>
    public uint Hash => Dict.HashKey(Key);

    /// <summary>
    /// The collection object for types other than strings (a compact encoding is a byte[]). For strings
    /// use <see cref="StringValue"/>; assigning a byte[] here gives a string its own array (raw).
    /// </summary>
    public object Value
    {
        get => _value ?? throw new InvalidOperationException("an arena string has no value object");
        set
        {
            if (IsInline) FreeInline();
            _value = value;
        }
    }

    bool IsInline => _value is null;

    Span<byte> InlineSpan => _inlineLength == 0 ? [] : StringArena.Value(_slot, _inlineLength);

    /// <summary>A string's bytes, wherever they are kept.</summary>
    public ReadOnlySpan<byte> StringValue => _value is null ? InlineSpan : (byte[])_value;

    /// <summary>Hints the CPU to bring the key's arena slot and the value's first bytes in: an arena string's slot, or the value object.</summary>
    internal void PrefetchValue()
    {
        if (_keyInArena && _keyLength > 0) StringArena.Prefetch(_keySlot);
        if (_value is not null) Prefetch.Object(_value);
        else if (_inlineLength > 0) StringArena.Prefetch(_slot);
    }

    /// <summary>
    /// A string's bytes in an array of their own that the caller may keep or edit in place (bitmaps,
    /// HLLs, SETRANGE): an arena value is moved out first, as Redis's dbUnshareStringValue copies an
    /// embstr. The encoding is the caller's to set.
    /// </summary>
    public byte[] StringArray()
    {
        if (IsInline) Value = InlineSpan.ToArray();
        return (byte[])_value!;
    }

    /// <summary>
    /// Gives the key a string value (SET over any type): one that fits the arena is written over the old
    /// arena value when both are of one size class (no allocation, nothing for the GC), otherwise into a
    /// new slot; a longer one over an own array of the same length, or into a new array.
    /// </summary>
    internal void SetString(ReadOnlySpan<byte> value, ObjectEncoding encoding)
    {
        if (value.Length <= StringArena.LongestValue)
        {
            if (IsInline && StringArena.SameClass(InlineSpan.Length, value.Length)) _inlineLength = StringArena.Write(_slot, value);
            else
            {
                if (IsInline) FreeInline();
                SetInlineString(value);
            }
        }
        else if (_value is byte[] old && Type == RedisType.String && old.Length == value.Length) value.CopyTo(old);
        else Value = value.ToArray();
        Type = RedisType.String;
        Encoding = encoding;
    }

    void SetInlineString(ReadOnlySpan<byte> value)
    {
        _value = null;
        _inlineLength = 0;
        if (value.Length == 0) return;
        _slot = StringArena.Allocate(value.Length);
        _inlineLength = StringArena.Write(_slot, value);
    }

    void FreeInline()
    {
        if (_inlineLength > 0) StringArena.Free(_slot, InlineSpan.Length);
        _inlineLength = 0;
    }

    /// <summary>The key enters a table (insert, MOVE, RENAME, load): its bytes and a short string move into the arena.</summary>
    internal void Attach()
    {
        if (!_keyInArena && KeyArray!.Length <= StringArena.LongestValue) SetKey(KeyArray);
        if (Type == RedisType.String && _value is byte[] bytes && Inlines(bytes.Length, Encoding)) SetInlineString(bytes);
    }

    /// <summary>
    /// The key leaves its table: its bytes and an arena string move into arrays of their own, and the
    /// slots are free again; unless nobody reads the value again (<paramref name="keepValue"/> false: DEL,
    /// expiry, eviction, FLUSHALL with no snapshot walking), when the value's slot is only freed and the
    /// value reads as discarded. The key stays readable (the deleter announces it) unless
    /// <paramref name="keepKey"/> is false (FLUSHALL with no snapshot walking: nobody sees those entries again).
    /// </summary>
    internal void Detach(bool keepValue = true, bool keepKey = true)
    {
        FreeKey(keepKey);
        if (!IsInline) return;
        var bytes = keepValue ? InlineSpan.ToArray() : s_discarded;
        FreeInline();
        _value = bytes;
    }

    /// <summary>Type (bits 0-2), encoding (bits 3-6) and <see cref="OwnsInteger"/> (bit 7).</summary>
    byte _kind;

    public RedisType Type
    {
        get => (RedisType)(_kind & 7);
        set => _kind = (byte)((_kind & ~7) | (int)value);
    }

    public ObjectEncoding Encoding
    {
        get => (ObjectEncoding)((_kind >> 3) & 15);
        set => _kind = (byte)((_kind & ~(15 << 3)) | ((int)value << 3));
    }

    /// <summary>An int-encoded value held as an object of its own, as COPY's dupStringObject makes it, not the shared integer.</summary>
    public bool OwnsInteger
    {
        get => (_kind & 128) != 0;
        set => _kind = (byte)(value ? _kind | 128 : _kind & 127);
    }

    /// <summary>
    /// Only keys with a TTL have one: the time and the key's place in its database's list of such keys;
    /// and the key's array, if it has one (<see cref="_extra"/>).
    /// </summary>
    sealed class Expiry
    {
        public long At;
        public int VolatileIndex = -1;
        public byte[]? Key;
    }

    Expiry? TtlState => _extra as Expiry;

    Expiry NewTtlState()
    {
        if (_extra is Expiry expiry) return expiry;
        expiry = new Expiry { Key = _extra as byte[] };
        _extra = expiry;
        return expiry;
    }

    /// <summary>The key no longer has a TTL: only its array, if any, stays.</summary>
    void DropTtlState()
    {
        if (_extra is Expiry expiry) _extra = expiry.Key;
    }

    /// <summary>Absolute expiry in unix milliseconds; 0 when the key is persistent.</summary>
    public long ExpireAt
    {
        get => TtlState?.At ?? 0;
        set
        {
            if (value != 0 || VolatileIndex >= 0) NewTtlState().At = value;
            else DropTtlState();
        }
    }

    /// <summary>Position in the database's list of keys with a TTL, or -1.</summary>
    internal int VolatileIndex
    {
        get => TtlState?.VolatileIndex ?? -1;
        set
        {
            if (value >= 0 || ExpireAt != 0) NewTtlState().VolatileIndex = value;
            else DropTtlState();
        }
    }

    /// <summary>
    /// Redis's 24-bit lru field: the LRU clock (seconds) of the last access under an LRU or no policy,
    /// or under an LFU policy the minutes of the last decrement (16 bits) and the log counter (8 bits).
    /// </summary>
    public uint LastAccess;

    /// <summary>
    /// What this key adds to used_memory (<see cref="AllocationModel.Entry"/>) in 8-byte units
    /// (jemalloc's sizes are multiples of 8); Detached when the key is in no database.
    /// </summary>
    uint _accountedUnits = Detached;
    const uint Detached = uint.MaxValue;

    internal bool IsAccounted => _accountedUnits != Detached;
    internal long AccountedBytes => IsAccounted ? _accountedUnits * 8L : 0;

    /// <summary>Records the key's size (saturating past 32 GB), or detaches it when <paramref name="bytes"/> is negative.</summary>
    internal void SetAccounted(long bytes) => _accountedUnits = bytes < 0 ? Detached : (uint)Math.Min(bytes / 8, Detached - 1);

    /// <summary>
    /// The snapshot epoch (<see cref="ISnapshotCapture.Epoch"/>) in which this key was taken or
    /// created: equal to the running snapshot's epoch means "not its business".
    /// </summary>
    internal ushort SnapshotEpoch;

    /// <summary>Redis's OBJ_SHARED_INTEGERS: values below this are one shared object when maxmemory is off.</summary>
    const long SharedIntegers = 10000;

    /// <summary>Whether Redis would hold this value as a shared small integer (OBJECT REFCOUNT reads INT_MAX).</summary>
    public bool IsSharedInteger => Type == RedisType.String && Encoding == ObjectEncoding.Int && !OwnsInteger
        && RedisNumbers.TryParseInt64(StringValue, out long value) && value is >= 0 and < SharedIntegers;

    /// <summary>A deep copy of the value (COPY): strings and compact encodings are arrays; other types copy themselves.</summary>
    public object CopyValue() => _value switch
    {
        null => InlineSpan.ToArray(),
        byte[] bytes => bytes.Clone(),
        ICopyableValue copyable => copyable.DeepCopy(),
        _ => throw new InvalidOperationException($"a {Type} value cannot be copied"),
    };

    /// <summary>
    /// A detached entry named <paramref name="key"/> with this one's value, type, encoding and TTL: a deep
    /// copy (snapshots), or sharing the value object (RENAME, which drops this entry; DUMP, which only reads it).
    /// </summary>
    public KeyEntry CopyAs(ReadOnlySpan<byte> key, bool deep)
    {
        var copy = new KeyEntry(key.ToArray(), deep || IsInline ? CopyValue() : _value!, Type, Encoding);
        copy.OwnsInteger = OwnsInteger;
        copy.ExpireAt = ExpireAt;
        return copy;
    }
}
