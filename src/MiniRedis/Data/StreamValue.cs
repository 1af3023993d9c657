using System.Buffers.Binary;

namespace MiniRedis.Data;

/// <summary>
/// A stream as Redis's t_stream.c keeps it: listpack nodes ordered by their master ID (Redis's rax
/// keyed by the 16-byte big-endian master ID), each node holding up to stream-node-max-entries
/// entries / stream-node-max-bytes bytes in Redis's exact layout, so the RDB writer stores the
/// blobs as they are:
///
///   master entry: count | deleted | num-fields | field_1 .. field_N | 0
///   each entry:   flags | ms-diff | seq-diff | [num-fields | field_1 | value_1 ..] or [value_1 ..] | lp-count
///
/// flags: 1 = deleted, 2 = same fields as the master entry (then only the values are stored). IDs
/// are deltas from the node's master ID. Deleting an entry only flags it; a node goes when all its
/// entries are gone. Besides the entries: the counters of 7.0 (entries-added, max-deleted-entry-id,
/// first ID) and the consumer groups.
/// </summary>
public sealed class StreamValue : ICopyableValue
{
    /// <summary>An entry's fields and values (field, value, field, value...) read where they are: XADD passes its arguments without copying them.</summary>
    public interface IFieldList
    {
        int Count { get; }
        ReadOnlySpan<byte> this[int index] { get; }
    }

    /// <summary>Fields and values held in arrays.</summary>
    public readonly ref struct ArrayFields(ReadOnlySpan<byte[]> items) : IFieldList
    {
        readonly ReadOnlySpan<byte[]> _items = items;
        public int Count => _items.Length;
        public ReadOnlySpan<byte> this[int index] => _items[index];
    }

    public const int FlagDeleted = 1;
    public const int FlagSameFields = 2;

    public readonly List<StreamNode> Nodes = [];
    public long Length;
    public StreamId LastId;
    public StreamId FirstId;
    public StreamId MaxDeletedId;
    public long EntriesAdded;

    /// <summary>The nodes' listpack bytes in total (for used_memory), kept as nodes grow, shrink and go.</summary>
    public long NodeBytes { get; private set; }

    /// <summary>
    /// Consumer groups in byte order of their names, as Redis's rax lists them; null until the first. A
    /// sorted list: a stream has a few groups, and used_memory's re-measure after every command on the
    /// key walks them (a sorted dictionary's enumerator allocated its stack of nodes each time).
    /// </summary>
    public IReadOnlyList<StreamGroup>? Groups => _groups;

    List<StreamGroup>? _groups;

    public int GroupCount => _groups?.Count ?? 0;

    /// <summary>
    /// Redis's streamEstimateDistanceFromFirstEverEntry: the entries-read counter of <paramref name="id"/>,
    /// or <see cref="StreamGroup.InvalidEntriesRead"/> when unknowable (a group's lag, XREADGROUP, an RDB without the counter).
    /// </summary>
    public long EstimateEntriesRead(StreamId id)
    {
        if (EntriesAdded == 0) return 0;
        if (Length == 0 && id <= LastId) return EntriesAdded;
        int cmpLast = id.CompareTo(LastId);
        if (cmpLast == 0) return EntriesAdded;
        if (cmpLast > 0) return StreamGroup.InvalidEntriesRead;
        int cmpFirst = id.CompareTo(FirstId);
        if (MaxDeletedId.IsZero || MaxDeletedId < FirstId)
        {
            if (cmpFirst < 0) return EntriesAdded - Length;
            if (cmpFirst == 0) return EntriesAdded - Length + 1;
        }
        return StreamGroup.InvalidEntriesRead;
    }

    /// <summary>The group found last: a reader or acknowledger addresses the same one command after command, found without a key array.</summary>
    StreamGroup? _lastFound;

    public StreamGroup? FindGroup(ReadOnlySpan<byte> name)
    {
        if (_lastFound is { } last && name.SequenceEqual(last.Name)) return last;
        int at = IndexOfGroup(name);
        return at < 0 ? null : _lastFound = _groups![at];
    }

    /// <summary>The group's index in <see cref="Groups"/>, or the complement of where it would go.</summary>
    int IndexOfGroup(ReadOnlySpan<byte> name)
    {
        if (_groups is null) return ~0;
        int low = 0, high = _groups.Count - 1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            int order = _groups[middle].Name.AsSpan().SequenceCompareTo(name);
            if (order == 0) return middle;
            if (order < 0) low = middle + 1;
            else high = middle - 1;
        }
        return ~low;
    }

    public StreamGroup? CreateGroup(ReadOnlySpan<byte> name, StreamId lastId, long entriesRead)
    {
        int at = IndexOfGroup(name);
        if (at >= 0) return null;
        var group = new StreamGroup(name.ToArray(), lastId, entriesRead);
        (_groups ??= []).Insert(~at, group);
        return group;
    }

    public bool RemoveGroup(ReadOnlySpan<byte> name)
    {
        _lastFound = null;
        int at = IndexOfGroup(name);
        if (at < 0) return false;
        _groups!.RemoveAt(at);
        return true;
    }

    /// <summary>
    /// Redis's streamAppendItem after the ID checks: appends to the tail node or starts a new one when
    /// the tail is full by bytes (the fields' and values' raw sizes added) or by entries (live and deleted).
    /// </summary>
    public void Append<TFields>(StreamId id, in TFields fieldsAndValues, long nodeMaxBytes, long nodeMaxEntries)
        where TFields : IFieldList, allows ref struct
    {
        int fieldCount = fieldsAndValues.Count / 2;
        long rawBytes = 0;
        for (int i = 0; i < fieldsAndValues.Count; i++) rawBytes += fieldsAndValues[i].Length;
        var tail = Nodes.Count > 0 ? Nodes[^1] : null;
        int capacity = 0;
        if (tail is not null)
        {
            long maxBytes = nodeMaxBytes == 0 || nodeMaxBytes > MaxListpackSize ? MaxListpackSize : nodeMaxBytes;
            if (tail.Size + rawBytes >= maxBytes || (nodeMaxEntries != 0 && tail.LiveCount + tail.DeletedCount >= nodeMaxEntries))
            {
                // The next node will most likely fill up as this one did: its buffer starts at this one's
                // size (not above the byte limit: one huge entry says nothing of the next ones).
                capacity = (int)Math.Min(tail.Size, maxBytes);
                tail.Close();
                tail = null;
            }
        }
        int flags = 0;
        int before = 0;
        if (tail is null)
        {
            tail = StreamNode.Create(id, fieldsAndValues, capacity);
            Nodes.Add(tail);
            flags = FlagSameFields;
        }
        else
        {
            before = tail.Size;
            tail.SetLiveCount(tail.LiveCount + 1);
            if (tail.HasMasterFields(fieldsAndValues)) flags = FlagSameFields;
        }
        tail.AppendEntry(id, flags, fieldsAndValues, fieldCount);
        NodeBytes += tail.Size - before;
        Length++;
        EntriesAdded++;
        LastId = id;
        if (Length == 1) FirstId = id;
    }

    /// <summary>Adds a node after the others (loading, copying): its master ID is above theirs.</summary>
    public void AddNode(StreamNode node)
    {
        Nodes.Add(node);
        NodeBytes += node.Size;
    }

    /// <summary>Listpacks cannot exceed 32-bit sizes; Redis caps a node at 1 GB (STREAM_LISTPACK_MAX_SIZE).</summary>
    public const long MaxListpackSize = 1L << 30;

    /// <summary>The node whose master ID is the greatest at or below <paramref name="id"/> (-1 when all are above).</summary>
    public int FindNode(StreamId id)
    {
        int lo = 0, hi = Nodes.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (Nodes[mid].Master <= id)
            {
                found = mid;
                lo = mid + 1;
            }
            else hi = mid - 1;
        }
        return found;
    }

    /// <summary>Redis's streamDeleteItem: flags the entry deleted; a node left with no live entry goes. False if not there.</summary>
    public bool Delete(StreamId id)
    {
        int index = FindNode(id);
        if (index < 0) return false;
        var node = Nodes[index];
        int entry = node.Find(id);
        if (entry < 0) return false;
        MarkDeleted(index, entry);
        return true;
    }

    void MarkDeleted(int nodeIndex, int entryOffset)
    {
        var node = Nodes[nodeIndex];
        node.SetFlags(entryOffset, node.FlagsAt(entryOffset) | FlagDeleted);
        Length--;
        if (node.LiveCount == 1)
        {
            Nodes.RemoveAt(nodeIndex);
            NodeBytes -= node.Size;
            return;
        }
        int before = node.Size;
        node.SetLiveCount(node.LiveCount - 1);
        node.SetDeletedCount(node.DeletedCount + 1);
        NodeBytes += node.Size - before;
    }

    /// <summary>Whether a live entry with this ID exists (Redis's streamEntryExists).</summary>
    public bool Contains(StreamId id)
    {
        int index = FindNode(id);
        return index >= 0 && Nodes[index].Find(id) >= 0;
    }

    /// <summary>The first (or last) live entry's ID; false when the stream is empty (Redis's streamGetEdgeID).</summary>
    public bool TryGetEdge(bool first, out StreamId id)
    {
        var it = new StreamIterator(this, StreamId.Zero, StreamId.Max, reverse: !first);
        if (it.MoveNext())
        {
            id = it.Id;
            return true;
        }
        id = first ? StreamId.Max : StreamId.Zero;
        return false;
    }

    /// <summary>Redis's streamLastValidID: the last live entry's ID, or the zero ID for an empty stream.</summary>
    public StreamId LastValidId() => TryGetEdge(first: false, out var id) ? id : StreamId.Zero;

    /// <summary>Trims by MAXLEN (<paramref name="minId"/> null) or MINID, as Redis's streamTrim; returns the entries removed.</summary>
    public long Trim(long maxLength, StreamId? minId, bool approx, long limit)
    {
        long deleted = 0;
        while (Nodes.Count > 0)
        {
            if (minId is null && Length <= maxLength) break;
            var node = Nodes[0];
            long entries = node.LiveCount;
            if (limit != 0 && deleted + entries > limit) break;
            bool removeNode = minId is { } min ? node.LastId() < min : Length - entries >= maxLength;
            if (removeNode)
            {
                Nodes.RemoveAt(0);
                NodeBytes -= node.Size;
                Length -= entries;
                deleted += entries;
                continue;
            }
            if (approx) break;
            long deletedHere = 0;
            foreach (int entry in node.EntryOffsets())
            {
                bool stop = minId is { } bound ? node.IdAt(entry) >= bound : Length <= maxLength;
                if (stop) break;
                int flags = node.FlagsAt(entry);
                if ((flags & FlagDeleted) != 0) continue;
                node.SetFlags(entry, flags | FlagDeleted);
                deletedHere++;
                Length--;
            }
            deleted += deletedHere;
            int before = node.Size;
            node.SetLiveCount(entries - deletedHere);
            node.SetDeletedCount(node.DeletedCount + deletedHere);
            NodeBytes += node.Size - before;
            break;
        }
        if (deleted > 0) TryGetEdge(first: true, out FirstId);
        if (Length == 0) FirstId = StreamId.Zero;
        return deleted;
    }

    /// <summary>
    /// The number of nodes of the rax Redis would hold for these master IDs (XINFO's radix-tree-nodes):
    /// a compressed radix tree has a node at the root, at every key, at every branching prefix and
    /// right after every branch.
    /// </summary>
    public long RadixTreeNodes()
    {
        const int KeyLength = 16;
        var keys = new byte[Nodes.Count][];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = new byte[KeyLength];
            Nodes[i].Master.WriteBigEndian(keys[i]);
        }
        return keys.Length == 0 ? 1 : CountRaxNodes(keys, 0, keys.Length, 0);
    }

    /// <summary>Nodes of the subtree at the node reached after <paramref name="depth"/> bytes, holding keys[from..to) (sorted, all 16 bytes).</summary>
    static long CountRaxNodes(byte[][] keys, int from, int to, int depth)
    {
        if (depth == 16) return 1;
        // Bytes every key continues with form one compressed node's run; the next node is where they part.
        int run = depth;
        while (run < 16 && keys[from][run] == keys[to - 1][run]) run++;
        if (run > depth) return 1 + CountRaxNodes(keys, from, to, run);
        long nodes = 1;
        for (int i = from; i < to;)
        {
            int j = i + 1;
            while (j < to && keys[j][depth] == keys[i][depth]) j++;
            nodes += CountRaxNodes(keys, i, j, depth + 1);
            i = j;
        }
        return nodes;
    }

    public object DeepCopy()
    {
        var copy = new StreamValue
        {
            Length = Length,
            LastId = LastId,
            FirstId = FirstId,
            MaxDeletedId = MaxDeletedId,
            EntriesAdded = EntriesAdded,
        };
        foreach (var node in Nodes) copy.AddNode(node.Copy());
        if (_groups is not null) copy._groups = _groups.ConvertAll(group => group.Copy());
        return copy;
    }

    /// <summary>Bytes compared as memcmp does (rax order).</summary>
    public sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

/// <summary>
/// One node: a listpack in Redis's stream layout, keyed by its master ID. The tail node keeps spare
/// room after its end marker so appends do not copy it every time; <see cref="Bytes"/> is the exact listpack.
/// </summary>
public sealed class StreamNode
{
    StreamNode(StreamId master, byte[] buffer, int size)
    {
        Master = master;
        _buffer = buffer;
        Size = size;
    }

    public StreamId Master { get; }
    byte[] _buffer;

    /// <summary>The listpack's total bytes.</summary>
    public int Size { get; private set; }

    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, Size);

    /// <summary>The listpack array itself once exact-sized (RDB writing, copies).</summary>
    public byte[] ExactArray()
    {
        ShrinkToFit();
        return _buffer;
    }

    /// <summary>Adopts a listpack read from an RDB (already validated).</summary>
    public static StreamNode FromListpack(StreamId master, byte[] listpack) => new(master, listpack, listpack.Length);

    public StreamNode Copy() => new(Master, Bytes.ToArray(), Size);

    /// <summary>
    /// Redis's streamValidateListpackIntegrity with deep checks: a valid listpack whose master entry and
    /// entries have the stream layout (integers where integers belong, each lp-count right, the live and
    /// deleted counters matching the flags), entries in increasing ID order from the master ID.
    /// </summary>
    public static bool IsValidListpack(byte[] lp, StreamId master)
    {
        if (!Listpack.IsValid(lp)) return false;
        int p = Listpack.First(lp);
        if (!TryInteger(lp, ref p, out long live) || !TryInteger(lp, ref p, out long deleted) || !TryInteger(lp, ref p, out long masterFields)) return false;
        if (live < 0 || deleted < 0 || masterFields <= 0) return false;
        for (long i = 0; i < masterFields; i++)
        {
            if (p < 0) return false;
            p = Listpack.Next(lp, p);
        }
        if (!TryInteger(lp, ref p, out long terminator) || terminator != 0) return false;
        long seenLive = 0, seenDeleted = 0;
        var previous = StreamId.Zero;
        bool first = true;
        while (p >= 0)
        {
            if (!TryInteger(lp, ref p, out long flags) || flags is < 0 or > 3) return false;
            if (!TryInteger(lp, ref p, out long msDelta) || !TryInteger(lp, ref p, out long seqDelta)) return false;
            var id = new StreamId(unchecked(master.Ms + (ulong)msDelta), unchecked(master.Seq + (ulong)seqDelta));
            if ((!first && id <= previous) || (first && id < master)) return false;
            first = false;
            previous = id;
            long fields = masterFields, elements;
            if ((flags & StreamValue.FlagSameFields) == 0)
            {
                if (!TryInteger(lp, ref p, out fields) || fields <= 0) return false;
                elements = fields * 2;
            }
            else elements = fields;
            for (long i = 0; i < elements; i++)
            {
                if (p < 0) return false;
                p = Listpack.Next(lp, p);
            }
            long expected = (flags & StreamValue.FlagSameFields) != 0 ? fields + 3 : fields * 2 + 4;
            if (!TryInteger(lp, ref p, out long lpCount) || lpCount != expected) return false;
            if ((flags & StreamValue.FlagDeleted) != 0) seenDeleted++;
            else seenLive++;
        }
        return seenLive == live && seenDeleted == deleted && live + deleted > 0;
    }

    /// <summary>Reads an integer entry at <paramref name="p"/> and moves past it; false at the end or for a string.</summary>
    static bool TryInteger(byte[] lp, ref int p, out long value)
    {
        value = 0;
        if (p < 0) return false;
        var entry = Listpack.Get(lp, p);
        if (!entry.IsInteger) return false;
        value = entry.Integer;
        p = Listpack.Next(lp, p);
        return true;
    }

    public void ShrinkToFit()
    {
        if (_buffer.Length != Size) _buffer = Bytes.ToArray();
    }

    /// <summary>
    /// The node is full and stays as it is: spare room of up to an eighth is kept rather than copied
    /// away (a copy per node was as much garbage as the stream's data); more is given back.
    /// </summary>
    public void Close()
    {
        if (_buffer.Length - Size > Size / 8) ShrinkToFit();
    }

    /// <summary>
    /// A node holding the master entry of <paramref name="fieldsAndValues"/>'s fields, its buffer sized
    /// for <paramref name="capacity"/> bytes (the previous node's size, 0 for a stream's first node, which
    /// grows by doubling) and a sixteenth more, so like entries fill it in place.
    /// </summary>
    public static StreamNode Create<TFields>(StreamId master, in TFields fieldsAndValues, int capacity) where TFields : StreamValue.IFieldList, allows ref struct
    {
        var buffer = GC.AllocateUninitializedArray<byte>(Math.Max(EmptySize, capacity + capacity / 16));
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, EmptySize);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(4), 0);
        buffer[EmptySize - 1] = 0xFF;
        var node = new StreamNode(master, buffer, EmptySize);
        node.AppendValue(new ListpackValue(1));
        node.AppendValue(new ListpackValue(0));
        node.AppendValue(new ListpackValue(fieldsAndValues.Count / 2));
        for (int i = 0; i < fieldsAndValues.Count; i += 2) node.AppendValue(new ListpackValue(fieldsAndValues[i]));
        node.AppendValue(new ListpackValue(0));
        node.EndAppend(fieldsAndValues.Count / 2 + 4);
        return node;
    }

    public void AppendEntry<TFields>(StreamId id, int flags, in TFields fieldsAndValues, int fieldCount) where TFields : StreamValue.IFieldList, allows ref struct
    {
        AppendValue(new ListpackValue(flags));
        AppendValue(new ListpackValue(unchecked((long)(id.Ms - Master.Ms))));
        AppendValue(new ListpackValue(unchecked((long)(id.Seq - Master.Seq))));
        bool sameFields = (flags & StreamValue.FlagSameFields) != 0;
        if (!sameFields) AppendValue(new ListpackValue(fieldCount));
        for (int i = 0; i < fieldsAndValues.Count; i++)
        {
            if (sameFields && i % 2 == 0) continue;
            AppendValue(new ListpackValue(fieldsAndValues[i]));
        }
        AppendValue(new ListpackValue(sameFields ? fieldCount + 3 : fieldCount * 2 + 4));
        EndAppend(sameFields ? fieldCount + 4 : fieldCount * 2 + 5);
    }

    /// <summary>An empty listpack: header and end marker.</summary>
    const int EmptySize = Listpack.HeaderSize + 1;

    /// <summary>Writes a value where the end marker is (the caller ends the entry with <see cref="EndAppend"/>).</summary>
    void AppendValue(in ListpackValue value)
    {
        int entrySize = value.EntrySize;
        int needed = Size + entrySize;
        if (needed > _buffer.Length)
        {
            // Doubling while small; past 4 KB (a node over stream-node-max-bytes' default) by halves, not to the byte.
            int grown = _buffer.Length < 4096 ? _buffer.Length * 2 : _buffer.Length + _buffer.Length / 2;
            var bigger = GC.AllocateUninitializedArray<byte>((int)Math.Min(Math.Max(needed, (long)grown), Array.MaxLength));
            _buffer.AsSpan(0, Size).CopyTo(bigger);
            _buffer = bigger;
        }
        value.Write(_buffer.AsSpan(Size - 1));
        Size = needed;
    }

    /// <summary>After the <paramref name="elements"/> values of an entry went over the end marker: the marker and the header, once per entry.</summary>
    void EndAppend(int elements)
    {
        _buffer[Size - 1] = 0xFF;
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)Size);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(4));
        if (count < Listpack.UnknownCount) BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(4), (ushort)Math.Min(count + elements, Listpack.UnknownCount));
    }

    long IntegerAt(int offset) => Listpack.GetInteger(_buffer, offset);

    int NextOffset(int offset) => Listpack.Next(_buffer, offset);

    public long LiveCount => IntegerAt(Listpack.HeaderSize);
    public long DeletedCount => IntegerAt(NextOffset(Listpack.HeaderSize));

    int MasterFieldCountOffset => NextOffset(NextOffset(Listpack.HeaderSize));
    public int MasterFieldCount => (int)IntegerAt(MasterFieldCountOffset);

    /// <summary>Offset of the first master field (a node always has at least one).</summary>
    public int MasterFieldsOffset => NextOffset(MasterFieldCountOffset);

    /// <summary>Offset of the first entry's flags (after the master entry's zero terminator), or -1.</summary>
    public int FirstEntryOffset
    {
        get
        {
            int p = MasterFieldsOffset;
            for (int i = 0; i < MasterFieldCount; i++) p = NextOffset(p);
            return NextOffset(p);
        }
    }

    /// <summary>
    /// Replaces an integer of the master entry; a change of its encoded size resizes the listpack (Redis's
    /// lpReplaceInteger). Every XADD counts its entry here: the same size (nearly always) is written in
    /// place, keeping the buffer's room for the next entries, so an append copies no node.
    /// </summary>
    void ReplaceInteger(int offset, long value)
    {
        var replacement = new ListpackValue(value);
        if (replacement.EntrySize == Listpack.EntrySizeAt(_buffer, offset))
        {
            replacement.Write(_buffer.AsSpan(offset));
            return;
        }
        ShrinkToFit();
        _buffer = Listpack.Replace(_buffer, offset, replacement);
        Size = _buffer.Length;
    }

    public void SetLiveCount(long count) => ReplaceInteger(Listpack.HeaderSize, count);
    public void SetDeletedCount(long count) => ReplaceInteger(NextOffset(Listpack.HeaderSize), count);

    public int FlagsAt(int entry) => (int)IntegerAt(entry);

    /// <summary>Flags are 0..3, one byte in place.</summary>
    public void SetFlags(int entry, int flags) => _buffer[entry] = (byte)flags;

    public StreamId IdAt(int entry)
    {
        int p = NextOffset(entry);
        ulong ms = unchecked(Master.Ms + (ulong)IntegerAt(p));
        ulong seq = unchecked(Master.Seq + (ulong)IntegerAt(NextOffset(p)));
        return new(ms, seq);
    }

    /// <summary>Where the entry's fields (or values, for same-fields entries) start, and how many fields it has.</summary>
    public int FieldsOffset(int entry, out int fieldCount)
    {
        int p = NextOffset(NextOffset(NextOffset(entry)));
        if ((FlagsAt(entry) & StreamValue.FlagSameFields) != 0)
        {
            fieldCount = MasterFieldCount;
            return p;
        }
        fieldCount = (int)IntegerAt(p);
        return NextOffset(p);
    }

    /// <summary>The entry after <paramref name="entry"/>, or -1.</summary>
    public int NextEntry(int entry)
    {
        int p = FieldsOffset(entry, out int fieldCount);
        return SkipEntry(p, (FlagsAt(entry) & StreamValue.FlagSameFields) != 0 ? fieldCount : fieldCount * 2);
    }

    /// <summary>The entry after the one whose <paramref name="elements"/> fields and values start at <paramref name="fieldsOffset"/>, or -1.</summary>
    public int SkipEntry(int fieldsOffset, int elements)
    {
        int p = fieldsOffset;
        for (int i = 0; i < elements; i++) p = NextOffset(p);
        return NextOffset(p); // past lp-count
    }

    /// <summary>
    /// An entry's header in one pass: its flags and ID, and how many fields it has (the node's
    /// <paramref name="masterFieldCount"/> for a same-fields entry); returns where its fields (or values) start.
    /// </summary>
    public int ReadHeader(int entry, int masterFieldCount, out int flags, out StreamId id, out int fieldCount)
    {
        flags = (int)IntegerAt(entry);
        int p = NextOffset(entry);
        ulong ms = unchecked(Master.Ms + (ulong)IntegerAt(p));
        p = NextOffset(p);
        ulong seq = unchecked(Master.Seq + (ulong)IntegerAt(p));
        p = NextOffset(p);
        id = new(ms, seq);
        if ((flags & StreamValue.FlagSameFields) != 0)
        {
            fieldCount = masterFieldCount;
            return p;
        }
        fieldCount = (int)IntegerAt(p);
        return NextOffset(p);
    }

    /// <summary>The last entry, found from the end through its lp-count; -1 when the node has none.</summary>
    public int LastEntry() => PreviousEntry(Size - 1);

    /// <summary>The entry before the one at <paramref name="entry"/> (or before the end marker); -1 at the master entry.</summary>
    public int PreviousEntry(int entry)
    {
        int lpCount = Listpack.Prev(_buffer, entry);
        if (lpCount < 0) return -1;
        int first = FirstEntryOffset;
        if (first < 0 || entry <= first) return -1;
        long elements = IntegerAt(lpCount);
        int p = lpCount;
        for (long i = 0; i < elements; i++) p = Listpack.Prev(_buffer, p);
        return p;
    }

    /// <summary>Every entry's offset, deleted ones included, first to last.</summary>
    public IEnumerable<int> EntryOffsets()
    {
        for (int p = FirstEntryOffset; p >= 0; p = NextEntry(p)) yield return p;
    }

    /// <summary>The live entry with this ID, or -1.</summary>
    public int Find(StreamId id)
    {
        for (int p = FirstEntryOffset; p >= 0; p = NextEntry(p))
        {
            if ((FlagsAt(p) & StreamValue.FlagDeleted) != 0) continue;
            int cmp = IdAt(p).CompareTo(id);
            if (cmp == 0) return p;
            if (cmp > 0) return -1;
        }
        return -1;
    }

    /// <summary>The ID of the node's last entry, deleted or not (Redis's lpGetEdgeStreamID).</summary>
    public StreamId LastId() => IdAt(LastEntry());

    public bool HasMasterFields<TFields>(in TFields fieldsAndValues) where TFields : StreamValue.IFieldList, allows ref struct
    {
        if (MasterFieldCount != fieldsAndValues.Count / 2) return false;
        int p = MasterFieldsOffset;
        for (int i = 0; i < fieldsAndValues.Count; i += 2)
        {
            if (!Listpack.EntryEquals(_buffer, p, new ListpackValue(fieldsAndValues[i]))) return false;
            p = NextOffset(p);
        }
        return true;
    }

    public ListpackEntry Get(int offset) => Listpack.Get(_buffer, offset);

    /// <summary>The element at <paramref name="offset"/> and the offset of the one after it (<see cref="Listpack.Read"/>).</summary>
    public ListpackEntry Read(int offset, out int next) => Listpack.Read(_buffer, offset, out next);

    public int Next(int offset) => NextOffset(offset);
}

/// <summary>
/// Walks the live entries of a stream between two IDs (inclusive), forwards or backwards, as Redis's
/// streamIterator. Each entry's header (flags, ID, where its fields start) is read once, and a forward
/// walk steps to the next entry from there; fields and values are read through <see cref="ReadFields"/>.
/// </summary>
public struct StreamIterator
{
    readonly StreamValue _stream;
    readonly StreamId _start, _end;
    readonly bool _reverse;
    int _nodeIndex;
    int _entry;
    bool _started;
    // The current node's master fields, and the current entry's header.
    int _masterFieldCount, _masterFieldsOffset;
    int _fieldsOffset, _fieldCount;
    bool _sameFields;

    public StreamIterator(StreamValue stream, StreamId start, StreamId end, bool reverse)
    {
        _stream = stream;
        _start = start;
        _end = end;
        _reverse = reverse;
        _nodeIndex = -1;
        _entry = -1;
        _started = false;
        Id = default;
    }

    public StreamId Id { get; private set; }
    public readonly StreamNode Node => _stream.Nodes[_nodeIndex];
    public readonly int Entry => _entry;

    public bool MoveNext()
    {
        var nodes = _stream.Nodes;
        if (!_started)
        {
            _started = true;
            if (_start > _end || nodes.Count == 0) return false;
            if (_reverse)
            {
                _nodeIndex = _stream.FindNode(_end);
                if (_nodeIndex < 0) return false;
            }
            else _nodeIndex = Math.Max(0, _stream.FindNode(_start));
            _entry = -1;
        }
        while (_nodeIndex >= 0 && _nodeIndex < nodes.Count)
        {
            var node = nodes[_nodeIndex];
            if (_entry < 0)
            {
                _masterFieldCount = node.MasterFieldCount;
                _masterFieldsOffset = node.MasterFieldsOffset;
                _entry = _reverse ? node.LastEntry() : node.FirstEntryOffset;
            }
            else if (_reverse) _entry = node.PreviousEntry(_entry);
            else _entry = node.SkipEntry(_fieldsOffset, _sameFields ? _fieldCount : _fieldCount * 2);
            if (_entry < 0)
            {
                _nodeIndex += _reverse ? -1 : 1;
                continue;
            }
            _fieldsOffset = node.ReadHeader(_entry, _masterFieldCount, out int flags, out var id, out _fieldCount);
            _sameFields = (flags & StreamValue.FlagSameFields) != 0;
            if ((flags & StreamValue.FlagDeleted) != 0) continue;
            if (_reverse)
            {
                if (id > _end) continue;
                if (id < _start) return false;
            }
            else
            {
                if (id < _start) continue;
                if (id > _end) return false;
            }
            Id = id;
            return true;
        }
        return false;
    }

    /// <summary>The current entry's field count.</summary>
    public readonly int FieldCount => _fieldCount;

    /// <summary>Calls <paramref name="visit"/> with each field and value of the current entry.</summary>
    public readonly void ReadFields<TVisitor>(ref TVisitor visit) where TVisitor : struct, IStreamFieldVisitor
    {
        var node = Node;
        int p = _fieldsOffset;
        int master = _masterFieldsOffset;
        Span<byte> fieldScratch = stackalloc byte[RedisNumbers.MaxInt64Length];
        Span<byte> valueScratch = stackalloc byte[RedisNumbers.MaxInt64Length];
        for (int i = 0; i < _fieldCount; i++)
        {
            var field = _sameFields
                ? node.Read(master, out master).AsBytes(fieldScratch)
                : node.Read(p, out p).AsBytes(fieldScratch);
            var value = node.Read(p, out p).AsBytes(valueScratch);
            visit.Visit(field, value);
        }
    }
}

/// <summary>Receives an entry's fields and values from <see cref="StreamIterator.ReadFields"/>.</summary>
public interface IStreamFieldVisitor
{
    void Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value);
}
