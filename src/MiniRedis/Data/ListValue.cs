namespace MiniRedis.Data;

/// <summary>
/// A list value: a ring-buffer deque of elements, O(1) at both ends and by index, with bulk moves
/// (memmove of references) for the rare middle edits. Redis 7.0 always encodes lists as a quicklist
/// (the listpack list encoding only arrived in 7.2), so the layout here is free to favour speed:
/// LRANGE reads contiguous array slices.
/// </summary>
public sealed class ListValue : ICopyableValue
{
    /// <summary>What OBJECT ENCODING reports for every list in Redis 7.0.</summary>
    public const ObjectEncoding Encoding = ObjectEncoding.Quicklist;

    const int MinCapacity = 4;

    byte[][] _items;
    int _head;
    int _count;

    /// <summary>What the elements would take as listpack entries in Redis's quicklist nodes, for memory accounting.</summary>
    long _entryBytes;

    public ListValue() => _items = new byte[MinCapacity][];

    ListValue(byte[][] items, int count, long entryBytes)
    {
        _items = items;
        _count = count;
        _entryBytes = entryBytes;
    }

    public int Count => _count;

    /// <summary>Sum of the elements' listpack entry sizes (encoding, data, back-length), kept as elements come and go.</summary>
    public long EntryBytes => _entryBytes;

    static int EntryCost(ReadOnlySpan<byte> value) => new ListpackValue(value).EntrySize;

    /// <summary>Physical slot of logical position <paramref name="index"/> (0 = head).</summary>
    int Slot(int index)
    {
        int slot = _head + index;
        return slot >= _items.Length ? slot - _items.Length : slot;
    }

    public byte[] this[int index]
    {
        get => _items[Slot(index)];
        set
        {
            ref var slot = ref _items[Slot(index)];
            _entryBytes += EntryCost(value) - EntryCost(slot);
            slot = value;
        }
    }

    public void Push(byte[] value, bool head)
    {
        if (_count == _items.Length) Grow();
        _entryBytes += EntryCost(value);
        if (head)
        {
            _head = _head == 0 ? _items.Length - 1 : _head - 1;
            _items[_head] = value;
        }
        else
        {
            _items[Slot(_count)] = value;
        }
        _count++;
    }

    public byte[] Pop(bool head)
    {
        byte[] value;
        if (head)
        {
            value = _items[_head];
            _items[_head] = null!;
            _head = _head + 1 == _items.Length ? 0 : _head + 1;
        }
        else
        {
            int slot = Slot(_count - 1);
            value = _items[slot];
            _items[slot] = null!;
        }
        _count--;
        _entryBytes -= EntryCost(value);
        ShrinkIfSparse();
        return value;
    }

    /// <summary>Removes <paramref name="fromHead"/> elements at the head and <paramref name="fromTail"/> at the tail (LTRIM).</summary>
    public void Trim(int fromHead, int fromTail)
    {
        for (int i = 0; i < fromHead; i++) _entryBytes -= EntryCost(this[i]);
        for (int i = _count - fromTail; i < _count; i++) _entryBytes -= EntryCost(this[i]);
        ClearRange(0, fromHead);
        _head = Slot(fromHead);
        _count -= fromHead;
        ClearRange(_count - fromTail, fromTail);
        _count -= fromTail;
        if (_count == 0) _head = 0;
        ShrinkIfSparse();
    }

    /// <summary>Inserts at logical position <paramref name="index"/> (0..Count), shifting the shorter side.</summary>
    public void Insert(int index, byte[] value)
    {
        if (index == 0 || index == _count)
        {
            Push(value, index == 0);
            return;
        }
        if (_count == _items.Length) Grow();
        _entryBytes += EntryCost(value);
        if (index < _count / 2)
        {
            _head = _head == 0 ? _items.Length - 1 : _head - 1;
            for (int i = 0; i < index; i++) _items[Slot(i)] = _items[Slot(i + 1)];
        }
        else
        {
            for (int i = _count; i > index; i--) _items[Slot(i)] = _items[Slot(i - 1)];
        }
        _items[Slot(index)] = value;
        _count++;
    }

    /// <summary>
    /// LREM: removes up to <paramref name="limit"/> elements equal to <paramref name="value"/> (0 = all, and so is a
    /// limit never reached, like Redis's negated long.MinValue), scanning from the tail when <paramref name="fromTail"/>;
    /// returns how many went.
    /// </summary>
    public int Remove(ReadOnlySpan<byte> value, long limit, bool fromTail)
    {
        int removed = 0;
        if (!fromTail)
        {
            int write = 0;
            for (int read = 0; read < _count; read++)
            {
                var item = _items[Slot(read)];
                if ((limit == 0 || removed != limit) && item.AsSpan().SequenceEqual(value)) removed++;
                else _items[Slot(write++)] = item;
            }
            ClearRange(write, removed);
        }
        else
        {
            int write = _count - 1;
            for (int read = _count - 1; read >= 0; read--)
            {
                var item = _items[Slot(read)];
                if ((limit == 0 || removed != limit) && item.AsSpan().SequenceEqual(value)) removed++;
                else _items[Slot(write--)] = item;
            }
            ClearRange(0, removed);
            _head = Slot(removed);
        }
        _count -= removed;
        _entryBytes -= (long)EntryCost(value) * removed;
        if (_count == 0) _head = 0;
        ShrinkIfSparse();
        return removed;
    }

    /// <summary>Logical position of the first element equal to <paramref name="value"/> from the head, or -1.</summary>
    public int IndexOf(ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < _count; i++)
        {
            if (_items[Slot(i)].AsSpan().SequenceEqual(value)) return i;
        }
        return -1;
    }

    /// <summary>
    /// The elements at logical positions start..start+length-1 as at most two contiguous runs
    /// (the ring may wrap), so range replies walk plain arrays.
    /// </summary>
    public (ReadOnlyMemory<byte[]> First, ReadOnlyMemory<byte[]> Second) Range(int start, int length)
    {
        int first = Slot(start);
        int firstLength = Math.Min(length, _items.Length - first);
        return (_items.AsMemory(first, firstLength), _items.AsMemory(0, length - firstLength));
    }

    public object DeepCopy()
    {
        var items = new byte[Math.Max(MinCapacity, _count)][];
        for (int i = 0; i < _count; i++) items[i] = (byte[])_items[Slot(i)].Clone();
        return new ListValue(items, _count, _entryBytes);
    }

    void ClearRange(int start, int length)
    {
        for (int i = 0; i < length; i++) _items[Slot(start + i)] = null!;
    }

    void Grow() => Resize(_items.Length * 2);

    /// <summary>Gives memory back once a big list has drained to a quarter of its capacity.</summary>
    void ShrinkIfSparse()
    {
        if (_items.Length > 64 && _count < _items.Length / 4) Resize(_items.Length / 2);
    }

    void Resize(int capacity)
    {
        var items = new byte[capacity][];
        var (first, second) = Range(0, _count);
        first.Span.CopyTo(items);
        second.Span.CopyTo(items.AsSpan(first.Length));
        _items = items;
        _head = 0;
    }
}
