using System.Buffers.Binary;

namespace MiniRedis.Data;

/// <summary>
/// A list value: a deque of chunks, each a byte buffer of packed elements (Redis's quicklist of listpacks, in
/// spirit). An element is its length, its bytes and its length again, so a chunk reads from either end; pushes
/// fill a chunk outwards, so pushes and pops at both ends are O(1) and no element is an object of its own (a long
/// list's elements were once millions of arrays for the GC to trace and promote). A position in the middle costs
/// a walk over chunks, then over one chunk's entries, as in Redis. Redis 7.0 reports every list as a quicklist,
/// whatever the layout here.
/// </summary>
public sealed class ListValue : ICopyableValue
{
    /// <summary>What OBJECT ENCODING reports for every list in Redis 7.0.</summary>
    public const ObjectEncoding Encoding = ObjectEncoding.Quicklist;

    /// <summary>A chunk doubles up to this (Redis's default node limit, list-max-listpack-size -2), then the list adds another.</summary>
    const int MaxChunkBytes = 8192;
    const int MinChunkBytes = 32;

    /// <summary>A length byte of 255 says the length is the 4 bytes after it (before the data) or before it (after the data).</summary>
    const byte LongLength = 255;

    /// <summary>Elements packed in Data[Start..End).</summary>
    sealed class Chunk(byte[] data, int start, int end, int count)
    {
        public byte[] Data = data;
        public int Start = start;
        public int End = end;
        public int Count = count;

        public int Used => End - Start;
    }

    /// <summary>A ring of chunks: logical chunk i is at _chunks[(_first + i) % Length]; never an empty chunk but an only one.</summary>
    Chunk[] _chunks = [];
    int _first;
    int _chunkCount;
    int _count;

    /// <summary>What the elements would take as listpack entries in Redis's quicklist nodes, for memory accounting.</summary>
    long _entryBytes;

    public int Count => _count;

    /// <summary>Sum of the elements' listpack entry sizes (encoding, data, back-length), kept as elements come and go.</summary>
    public long EntryBytes => _entryBytes;

    static int EntryCost(ReadOnlySpan<byte> value) => new ListpackValue(value).EntrySize;

    /// <summary>Bytes an element of <paramref name="length"/> takes in a chunk.</summary>
    internal static int EncodedSize(int length) => length < LongLength ? length + 2 : length + 10;

    /// <summary>
    /// Gives an empty list its first chunk at the size of the <paramref name="bytes"/> (<see cref="EncodedSize"/>s) about to be
    /// pushed at its tail (a loader that knows them: an RDB image's list node), filled from its start, rather than one
    /// doubled as the pushes come, each outgrown buffer garbage (100k of them on a 1M-key load). Nothing for a list with elements.
    /// </summary>
    internal void ReserveTail(int bytes)
    {
        if (_chunkCount != 0 || bytes <= 0) return;
        int capacity = Math.Min(MaxChunkBytes, bytes);
        AddChunk(0, capacity, capacity, head: false);
    }

    /// <summary>Writes <paramref name="value"/>'s entry at <paramref name="at"/>.</summary>
    static void Write(byte[] data, int at, ReadOnlySpan<byte> value)
    {
        int length = value.Length;
        if (length < LongLength)
        {
            data[at] = (byte)length;
            value.CopyTo(data.AsSpan(at + 1));
            data[at + 1 + length] = (byte)length;
            return;
        }
        data[at] = LongLength;
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(at + 1), length);
        value.CopyTo(data.AsSpan(at + 5));
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(at + 5 + length), length);
        data[at + 9 + length] = LongLength;
    }

    /// <summary>The element whose entry starts at <paramref name="at"/>.</summary>
    static ReadOnlySpan<byte> Read(byte[] data, int at)
    {
        int length = data[at];
        if (length != LongLength) return new ReadOnlySpan<byte>(data, at + 1, length);
        return new ReadOnlySpan<byte>(data, at + 5, BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(at + 1)));
    }

    static int SizeAt(byte[] data, int at)
    {
        int length = data[at];
        return length != LongLength ? length + 2 : BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(at + 1)) + 10;
    }

    /// <summary>Where the entry ending just before <paramref name="end"/> starts.</summary>
    static int StartBefore(byte[] data, int end)
    {
        int length = data[end - 1];
        return length != LongLength ? end - length - 2 : end - 10 - BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(end - 5));
    }

    int RingSlot(int chunk)
    {
        int slot = _first + chunk;
        return slot >= _chunks.Length ? slot - _chunks.Length : slot;
    }

    Chunk ChunkAt(int chunk) => _chunks[RingSlot(chunk)];

    Chunk EndChunk(bool head) => ChunkAt(head ? 0 : _chunkCount - 1);

    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            var (chunk, at) = Locate(index);
            return Read(ChunkAt(chunk).Data, at);
        }
    }

    /// <summary>Replaces the element at <paramref name="index"/> (LSET).</summary>
    public void Set(int index, ReadOnlySpan<byte> value)
    {
        var (chunk, at) = Locate(index);
        var data = ChunkAt(chunk).Data;
        _entryBytes += EntryCost(value) - EntryCost(Read(data, at));
        Splice(chunk, at, SizeAt(data, at), value);
    }

    public void Push(ReadOnlySpan<byte> value, bool head)
    {
        int size = EncodedSize(value.Length);
        var chunk = _chunkCount == 0 ? AddChunk(0, 2 * size <= MaxChunkBytes ? Math.Max(MinChunkBytes, 2 * size) : size, size, head) : EndChunk(head);
        if (head ? chunk.Start < size : chunk.Data.Length - chunk.End < size) chunk = MakeRoom(chunk, size, head);
        if (head)
        {
            chunk.Start -= size;
            Write(chunk.Data, chunk.Start, value);
        }
        else
        {
            Write(chunk.Data, chunk.End, value);
            chunk.End += size;
        }
        chunk.Count++;
        _count++;
        _entryBytes += EntryCost(value);
    }

    /// <summary>
    /// Removes the element at an end and returns it: a view into the list's storage, valid until the list is
    /// next changed.
    /// </summary>
    public ReadOnlySpan<byte> Pop(bool head)
    {
        var chunk = EndChunk(head);
        int at = head ? chunk.Start : StartBefore(chunk.Data, chunk.End);
        var value = Read(chunk.Data, at);
        if (head) chunk.Start += EncodedSize(value.Length);
        else chunk.End = at;
        chunk.Count--;
        _count--;
        _entryBytes -= EntryCost(value);
        if (chunk.Count == 0)
        {
            // Popping leaves the bytes where they are, so the returned view stays good.
            if (_chunkCount > 1) RemoveChunk(head ? 0 : _chunkCount - 1);
            else chunk.Start = chunk.End = chunk.Data.Length / 2;
        }
        return value;
    }

    /// <summary>Removes <paramref name="fromHead"/> elements at the head and <paramref name="fromTail"/> at the tail (LTRIM).</summary>
    public void Trim(int fromHead, int fromTail)
    {
        for (int i = 0; i < fromHead; i++) Pop(head: true);
        for (int i = 0; i < fromTail; i++) Pop(head: false);
    }

    /// <summary>Inserts at logical position <paramref name="index"/> (0..Count).</summary>
    public void Insert(int index, ReadOnlySpan<byte> value)
    {
        if (index == 0 || index == _count)
        {
            Push(value, index == 0);
            return;
        }
        var (chunk, at) = Locate(index);
        ChunkAt(chunk).Count++;
        _count++;
        _entryBytes += EntryCost(value);
        Splice(chunk, at, 0, value);
    }

    /// <summary>
    /// LREM: removes up to <paramref name="limit"/> elements equal to <paramref name="value"/> (0 = all, and so is a
    /// limit never reached, like Redis's negated long.MinValue), scanning from the tail when <paramref name="fromTail"/>;
    /// returns how many went.
    /// </summary>
    public int Remove(ReadOnlySpan<byte> value, long limit, bool fromTail)
    {
        int removed = 0;
        for (int i = 0; i < _chunkCount && (limit == 0 || removed != limit); i++)
        {
            var chunk = ChunkAt(fromTail ? _chunkCount - 1 - i : i);
            if (fromTail) RemoveBackward(chunk, value, limit, ref removed);
            else RemoveForward(chunk, value, limit, ref removed);
        }
        for (int i = _chunkCount - 1; i >= 0; i--)
        {
            if (ChunkAt(i).Count == 0) RemoveChunk(i);
        }
        _count -= removed;
        _entryBytes -= (long)EntryCost(value) * removed;
        return removed;
    }

    static void RemoveForward(Chunk chunk, ReadOnlySpan<byte> value, long limit, ref int removed)
    {
        var data = chunk.Data;
        int write = chunk.Start;
        for (int read = chunk.Start; read < chunk.End;)
        {
            int size = SizeAt(data, read);
            if ((limit == 0 || removed != limit) && Read(data, read).SequenceEqual(value))
            {
                removed++;
                chunk.Count--;
            }
            else
            {
                if (write != read) data.AsSpan(read, size).CopyTo(data.AsSpan(write));
                write += size;
            }
            read += size;
        }
        chunk.End = write;
    }

    static void RemoveBackward(Chunk chunk, ReadOnlySpan<byte> value, long limit, ref int removed)
    {
        var data = chunk.Data;
        int write = chunk.End;
        for (int read = chunk.End; read > chunk.Start;)
        {
            int start = StartBefore(data, read);
            if ((limit == 0 || removed != limit) && Read(data, start).SequenceEqual(value))
            {
                removed++;
                chunk.Count--;
            }
            else
            {
                write -= read - start;
                if (write != start) data.AsSpan(start, read - start).CopyTo(data.AsSpan(write));
            }
            read = start;
        }
        chunk.Start = write;
    }

    /// <summary>Logical position of the first element equal to <paramref name="value"/> from the head, or -1.</summary>
    public int IndexOf(ReadOnlySpan<byte> value)
    {
        var cursor = At(0);
        for (int i = 0; i < _count; i++, cursor.Advance())
        {
            if (cursor.Current.SequenceEqual(value)) return i;
        }
        return -1;
    }

    /// <summary>A cursor on the element at <paramref name="index"/>, stepping towards the tail (or the head when <paramref name="reverse"/>).</summary>
    public Cursor At(int index, bool reverse = false)
    {
        if (_count == 0) return new Cursor(this, 0, 0, reverse);
        var (chunk, at) = Locate(index);
        return new Cursor(this, chunk, at, reverse);
    }

    /// <summary>Walks elements in order; valid while the list is unchanged. Advance past the last element only once.</summary>
    public struct Cursor
    {
        readonly ListValue _list;
        readonly bool _reverse;
        int _chunk;
        int _at;

        internal Cursor(ListValue list, int chunk, int at, bool reverse)
        {
            _list = list;
            _chunk = chunk;
            _at = at;
            _reverse = reverse;
        }

        public readonly ReadOnlySpan<byte> Current => Read(_list.ChunkAt(_chunk).Data, _at);

        public void Advance()
        {
            var chunk = _list.ChunkAt(_chunk);
            if (!_reverse)
            {
                _at += SizeAt(chunk.Data, _at);
                if (_at >= chunk.End && ++_chunk < _list._chunkCount) _at = _list.ChunkAt(_chunk).Start;
            }
            else if (_at > chunk.Start)
            {
                _at = StartBefore(chunk.Data, _at);
            }
            else if (--_chunk >= 0)
            {
                var previous = _list.ChunkAt(_chunk);
                _at = StartBefore(previous.Data, previous.End);
            }
        }
    }

    public object DeepCopy()
    {
        var copy = new ListValue { _chunks = new Chunk[_chunkCount], _chunkCount = _chunkCount, _count = _count, _entryBytes = _entryBytes };
        for (int i = 0; i < _chunkCount; i++)
        {
            var chunk = ChunkAt(i);
            copy._chunks[i] = new Chunk(chunk.Data.AsSpan(chunk.Start, chunk.Used).ToArray(), 0, chunk.Used, chunk.Count);
        }
        return copy;
    }

    /// <summary>The chunk holding element <paramref name="index"/> and where its entry starts, walking from the nearer ends.</summary>
    (int Chunk, int At) Locate(int index)
    {
        int chunk;
        if (index < _count / 2)
        {
            chunk = 0;
            while (index >= ChunkAt(chunk).Count) index -= ChunkAt(chunk++).Count;
        }
        else
        {
            int fromTail = _count - 1 - index;
            chunk = _chunkCount - 1;
            while (fromTail >= ChunkAt(chunk).Count) fromTail -= ChunkAt(chunk--).Count;
            index = ChunkAt(chunk).Count - 1 - fromTail;
        }
        var found = ChunkAt(chunk);
        int at;
        if (index < found.Count / 2)
        {
            at = found.Start;
            for (int i = 0; i < index; i++) at += SizeAt(found.Data, at);
        }
        else
        {
            at = found.End;
            for (int i = found.Count; i > index; i--) at = StartBefore(found.Data, at);
        }
        return (chunk, at);
    }

    /// <summary>
    /// Replaces <paramref name="removeBytes"/> at <paramref name="at"/> in a chunk with <paramref name="value"/>'s entry
    /// (the caller has counted it), splitting a chunk that outgrew the limit.
    /// </summary>
    void Splice(int chunkIndex, int at, int removeBytes, ReadOnlySpan<byte> value)
    {
        var chunk = ChunkAt(chunkIndex);
        int size = EncodedSize(value.Length);
        if (size == removeBytes)
        {
            Write(chunk.Data, at, value);
            return;
        }
        int before = at - chunk.Start;
        int used = chunk.Used - removeBytes + size;
        var data = new byte[used];
        chunk.Data.AsSpan(chunk.Start, before).CopyTo(data);
        Write(data, before, value);
        chunk.Data.AsSpan(at + removeBytes, chunk.End - at - removeBytes).CopyTo(data.AsSpan(before + size));
        chunk.Data = data;
        chunk.Start = 0;
        chunk.End = used;
        if (used > MaxChunkBytes && chunk.Count > 1) Split(chunkIndex);
    }

    /// <summary>Moves the second half of a chunk's elements into a new chunk after it.</summary>
    void Split(int chunkIndex)
    {
        var chunk = ChunkAt(chunkIndex);
        int keep = chunk.Count / 2;
        int at = chunk.Start;
        for (int i = 0; i < keep; i++) at += SizeAt(chunk.Data, at);
        var rest = new Chunk(chunk.Data.AsSpan(at, chunk.End - at).ToArray(), 0, chunk.End - at, chunk.Count - keep);
        chunk.End = at;
        chunk.Count = keep;
        InsertChunk(chunkIndex + 1, rest);
    }

    /// <summary>
    /// Room for <paramref name="size"/> bytes on the pushed side of an end chunk: the chunk regrown (doubling) or its
    /// elements moved within it while it stays under the limit, else a new chunk beside it.
    /// </summary>
    Chunk MakeRoom(Chunk chunk, int size, bool head)
    {
        int needed = chunk.Used + size;
        if (needed > MaxChunkBytes) return AddChunk(head ? 0 : _chunkCount, Math.Max(MaxChunkBytes, size), size, head);
        var data = chunk.Data.Length == MaxChunkBytes
            ? chunk.Data
            : new byte[Math.Min(MaxChunkBytes, Math.Max(2 * chunk.Data.Length, needed))];
        // The pushed side gets the room it needs and half of what is left over.
        int spare = data.Length - needed;
        int start = head ? size + spare / 2 : spare / 2;
        chunk.Data.AsSpan(chunk.Start, chunk.Used).CopyTo(data.AsSpan(start));
        chunk.End = start + chunk.Used;
        chunk.Start = start;
        chunk.Data = data;
        return chunk;
    }

    /// <summary>
    /// Adds an empty chunk of <paramref name="capacity"/> bytes at ring position <paramref name="position"/> with room
    /// for an entry of <paramref name="size"/> on the pushed side.
    /// </summary>
    Chunk AddChunk(int position, int capacity, int size, bool head)
    {
        // A list's first chunk fills both ways from its middle; a later one only away from its neighbour.
        int start = _chunkCount == 0 && capacity >= 2 * size ? capacity / 2 : head ? capacity : 0;
        var chunk = new Chunk(new byte[capacity], start, start, 0);
        InsertChunk(position, chunk);
        return chunk;
    }

    void InsertChunk(int position, Chunk chunk)
    {
        if (_chunkCount == _chunks.Length) ResizeRing(Math.Max(1, 2 * _chunks.Length));
        if (position == 0)
        {
            _first = _first == 0 ? _chunks.Length - 1 : _first - 1;
        }
        else
        {
            for (int i = _chunkCount; i > position; i--) _chunks[RingSlot(i)] = _chunks[RingSlot(i - 1)];
        }
        _chunks[RingSlot(position)] = chunk;
        _chunkCount++;
    }

    void RemoveChunk(int position)
    {
        if (position == 0)
        {
            _chunks[_first] = null!;
            _first = _first + 1 == _chunks.Length ? 0 : _first + 1;
        }
        else
        {
            for (int i = position; i < _chunkCount - 1; i++) _chunks[RingSlot(i)] = _chunks[RingSlot(i + 1)];
            _chunks[RingSlot(_chunkCount - 1)] = null!;
        }
        _chunkCount--;
        // Gives the ring back once a big list has drained to a quarter of it.
        if (_chunks.Length > 16 && _chunkCount < _chunks.Length / 4) ResizeRing(_chunks.Length / 2);
    }

    void ResizeRing(int capacity)
    {
        var chunks = new Chunk[capacity];
        for (int i = 0; i < _chunkCount; i++) chunks[i] = ChunkAt(i);
        _chunks = chunks;
        _first = 0;
    }
}
