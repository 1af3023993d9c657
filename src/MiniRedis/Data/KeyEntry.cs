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
/// in a table keeps its bytes in one slot of the <see cref="StringArena"/> with its string value after
/// them (no array of its own, and one slot rounded to a size class instead of two: a cache key of 9
/// bytes with a 500-byte value takes one 512-byte slot); a detached entry, or a key of
/// <see cref="KeyInArray"/> bytes or more, keeps them in an array. A string value SET to what fits the
/// slot beside the key (<see cref="StringArena.LargestSlot"/> bytes together) lives there, which the GC
/// neither traces nor moves piece by piece: a SET that replaces it writes the slot (or takes another of
/// the right size class) and stores no reference, so no young object is born and no card of the old
/// generation is marked, and a deleted or evicted key's slot serves the next SET. Only a key in a
/// database's table holds a slot (<see cref="Attach"/> / <see cref="Detach"/>); a detached entry (a
/// snapshot's copy, one deleted or flushed) keeps its value in an array, so whoever still holds it
/// reads it safely, unless its deleter said nobody does (eviction, expiry). Longer strings, strings
/// edited in place (<see cref="StringArray"/>) and every other type keep their value in
/// <see cref="Value"/>. The fields fit 40 bytes (a 56-byte object): the table does not cache the key's
/// hash (chains are short; a resize hashes the key again), type, encoding and a flag share a word with
/// the 24-bit access stamp, and the expiry lives in a small object that only keys with a TTL have, in
/// the field that otherwise holds the key's array when it has one.
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
        _keyLength = KeyInArray;
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
        return Inlines(value.Length, encoding) ? new KeyEntry(key, value, encoding) : new KeyEntry(key, value.ToArray(), RedisType.String, encoding);
    }

    /// <summary>A key holding a string value, about to enter a table; the hot path of SET (the entry alone: key and value go to the arena).</summary>
    internal KeyEntry(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ObjectEncoding encoding) => InitString(key, value, encoding);

    /// <summary>A key about to enter a table holding <paramref name="value"/>: its bytes go straight to the arena, with no array on the way.</summary>
    internal KeyEntry(ReadOnlySpan<byte> key, object value, RedisType type, ObjectEncoding encoding)
    {
        if (key.Length < KeyInArray) Lay(key, (byte)key.Length, false, []);
        else SetLongKey(key);
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
        Next = null;
        _access = 0;
        SnapshotEpoch = 0;
        _accountedUnits = Detached;
        InitString(key, value, encoding);
    }

    /// <summary>A new key's string: key and value into one slot, as long as they fit it together. The entry has no slot yet.</summary>
    void InitString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ObjectEncoding encoding)
    {
        Type = RedisType.String;
        Encoding = encoding;
        bool arenaKey = key.Length < KeyInArray;
        if (!arenaKey) SetLongKey(key);
        bool inline = StringArena.Fits((arenaKey ? key.Length : 0) + StringArena.Stored(value.Length));
        Lay(arenaKey ? key : [], arenaKey ? (byte)key.Length : KeyInArray, inline, value);
        if (!inline) _value = value.ToArray();
    }

    void SetLongKey(ReadOnlySpan<byte> key)
    {
        _keyLength = KeyInArray;
        SetKeyArray(key.ToArray());
    }

    /// <summary>Redis's embstr rule: a raw string (long, or made raw to be edited in place) keeps the array it came with.</summary>
    static bool Inlines(int length, ObjectEncoding encoding) => encoding != ObjectEncoding.Raw && length <= InlineLimit;

    /// <summary>In place of an evicted or expired key's value, which nobody reads again: reading it fails loudly.</summary>
    static readonly object s_discarded = new();

    /// <summary>
    /// The key's array when its bytes are not in the arena (<see cref="_keyLength"/> is <see cref="KeyInArray"/>),
    /// or the key's <see cref="Expiry"/> (which then holds that array, if any), or null: a key in the arena without a TTL.
    /// </summary>
    object? _extra;

    /// <summary>The collection object, or a string's own array; null for a string in the arena.</summary>
    object? _value;

    /// <summary>
    /// The arena slot (<see cref="StringArena"/>) of the key's bytes, then an arena string's; none when
    /// both are empty or elsewhere.
    /// </summary>
    uint _slot;

    /// <summary>The key's length at the start of <see cref="_slot"/>, or <see cref="KeyInArray"/>.</summary>
    byte _keyLength;

    /// <summary>An arena string's length code (<see cref="StringArena.CodeOf"/>), after the key in <see cref="_slot"/>.</summary>
    byte _inlineLength;

    /// <summary>A key this long or longer keeps an array of its own (its length would not fit <see cref="_keyLength"/>).</summary>
    public const byte KeyInArray = byte.MaxValue;

    internal KeyEntry? Next;

    KeyEntry? IChainedNode<KeyEntry>.Next { get => Next; set => Next = value; }

    public ReadOnlySpan<byte> Key => (uint)_keyLength - 1 < KeyInArray - 1 ? StringArena.Bytes(_slot, _keyLength)
        : _keyLength == 0 ? [] : KeyArray!;

    /// <summary>The bytes the key takes at the start of the slot.</summary>
    int KeyBytes => _keyLength == KeyInArray ? 0 : _keyLength;

    Span<byte> ArenaKey => KeyBytes == 0 ? [] : StringArena.Bytes(_slot, _keyLength);

    byte[]? KeyArray => _extra as byte[] ?? (_extra as Expiry)?.Key;

    /// <summary>Sets the key's array (or none) beside the expiry, if there is one.</summary>
    void SetKeyArray(byte[]? key)
    {
        if (_extra is Expiry expiry) expiry.Key = key;
        else _extra = key;
    }

    /// <summary>What the slot holds: the key's bytes and an arena string's (0: no slot).</summary>
    int SlotBytes => KeyBytes + (IsInline ? StringArena.Stored(InlineSpan.Length) : 0);

    /// <summary>
    /// Lays <paramref name="arenaKey"/> (the key's length code <paramref name="keyLength"/>) and, when
    /// <paramref name="inline"/>, a string <paramref name="value"/> out in the slot: in place when the
    /// key stays and the new size is of the old slot's class, else in a new slot, the old one freed
    /// after (either may be read from it). Not inline: the caller sets <see cref="_value"/>.
    /// </summary>
    void Lay(ReadOnlySpan<byte> arenaKey, byte keyLength, bool inline, ReadOnlySpan<byte> value)
    {
        int old = SlotBytes;
        int bytes = arenaKey.Length + (inline ? StringArena.Stored(value.Length) : 0);
        uint slot = _slot;
        bool inPlace = arenaKey.Length == KeyBytes && StringArena.SameClass(old, bytes);
        if (!inPlace)
        {
            slot = bytes > 0 ? StringArena.Allocate(bytes) : 0;
            if (arenaKey.Length > 0) arenaKey.CopyTo(StringArena.Bytes(slot, arenaKey.Length));
        }
        byte code = inline && value.Length > 0 ? StringArena.Write(slot, arenaKey.Length, value) : (byte)0;
        if (!inPlace && old > 0) StringArena.Free(_slot, old);
        _slot = slot;
        _keyLength = keyLength;
        _inlineLength = code;
        if (inline) _value = null;
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
            if (IsInline) Lay(ArenaKey, _keyLength, false, []);
            _value = value;
        }
    }

    bool IsInline => _value is null;

    Span<byte> InlineSpan => _inlineLength == 0 ? [] : StringArena.Value(_slot, KeyBytes, _inlineLength);

    /// <summary>A string's bytes, wherever they are kept.</summary>
    public ReadOnlySpan<byte> StringValue => _value is null ? InlineSpan : (byte[])_value;

    /// <summary>Hints the CPU to bring the slot (the key's bytes, an arena string's first ones) and a value object in.</summary>
    internal void PrefetchValue()
    {
        if (KeyBytes > 0 || _inlineLength > 0) StringArena.Prefetch(_slot);
        if (_value is not null) Prefetch.Object(_value);
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
    /// Gives the key a string value (SET over any type): one that fits the slot beside the key is written
    /// over the old arena value when the slot keeps its size class (no allocation, nothing for the GC),
    /// otherwise into a new slot with the key; a longer one over an own array of the same length, or into a new array.
    /// </summary>
    internal void SetString(ReadOnlySpan<byte> value, ObjectEncoding encoding)
    {
        if (StringArena.Fits(KeyBytes + StringArena.Stored(value.Length))) Lay(ArenaKey, _keyLength, true, value);
        else if (_value is byte[] old && Type == RedisType.String && old.Length == value.Length) value.CopyTo(old);
        else Value = value.ToArray();
        Type = RedisType.String;
        Encoding = encoding;
    }

    /// <summary>The key enters a table (insert, MOVE, RENAME, load): its bytes and a short string move into the arena.</summary>
    internal void Attach()
    {
        var key = _keyLength == KeyInArray && KeyArray!.Length < KeyInArray ? KeyArray : null;
        var moving = Type == RedisType.String && _value is byte[] bytes && Inlines(bytes.Length, Encoding) ? bytes : null;
        if (key is null && moving is null) return;
        // Short enough to fit any slot together (a key below KeyInArray, a value up to InlineLimit).
        ReadOnlySpan<byte> arenaKey = key is null ? ArenaKey : key, value = moving is null ? InlineSpan : moving;
        Lay(arenaKey, key is null ? _keyLength : (byte)key.Length, moving is not null || IsInline, value);
        if (key is not null) SetKeyArray(null);
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
        int bytes = SlotBytes;
        if (IsInline) _value = keepValue ? InlineSpan.ToArray() : s_discarded;
        if (_keyLength != KeyInArray) SetKeyArray(keepKey ? ArenaKey.ToArray() : []);
        if (bytes > 0) StringArena.Free(_slot, bytes);
        _keyLength = KeyInArray;
        _inlineLength = 0;
    }

    /// <summary>
    /// <see cref="LastAccess"/> (bits 0-23), then type (bits 24-26), encoding (bits 27-30) and
    /// <see cref="OwnsInteger"/> (bit 31): one word, as Redis's robj packs type, encoding and lru.
    /// </summary>
    uint _access;

    const int KindShift = 24;
    const uint AccessMask = (1 << KindShift) - 1;

    public RedisType Type
    {
        get => (RedisType)((_access >> KindShift) & 7);
        set => _access = (_access & ~(7u << KindShift)) | ((uint)value << KindShift);
    }

    public ObjectEncoding Encoding
    {
        get => (ObjectEncoding)((_access >> (KindShift + 3)) & 15);
        set => _access = (_access & ~(15u << (KindShift + 3))) | ((uint)value << (KindShift + 3));
    }

    /// <summary>An int-encoded value held as an object of its own, as COPY's dupStringObject makes it, not the shared integer.</summary>
    public bool OwnsInteger
    {
        get => (_access & (1u << 31)) != 0;
        set => _access = value ? _access | (1u << 31) : _access & ~(1u << 31);
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
    public uint LastAccess
    {
        get => _access & AccessMask;
        set => _access = (_access & ~AccessMask) | (value & AccessMask);
    }

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
