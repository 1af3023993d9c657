using System.Text;
using MiniRedis.Data;
using Xunit;

namespace MiniRedis.Tests.Data;

/// <summary>
/// A key's layout (issues 13 and 18): the key's bytes and a short string live in the string arena, a
/// long or edited string in an array of its own, other types in their value object, and the expiry in
/// an object only keys with a TTL have. Every way between these keeps the key and the value intact.
/// </summary>
[Trait("Category", "Unit")]
public class KeyEntryTests
{
    static readonly byte[] Key = Encoding.ASCII.GetBytes("key:000000000001");

    static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

    static void AssertHolds(KeyEntry entry, string value)
    {
        Assert.Equal(Key, entry.Key.ToArray());
        Assert.Equal(RedisType.String, entry.Type);
        Assert.Equal(value, Encoding.ASCII.GetString(entry.StringValue));
    }

    [Fact]
    public void A_key_with_a_short_string_costs_its_entry_alone_and_a_set_of_the_same_size_class_allocates_nothing()
    {
        var keyspace = new Keyspace(1);
        var db = keyspace[0];
        keyspace.ReserveKeys(0, 16);
        // Grows the settle list once, so the measurement below sees only the key.
        db.SetString(Bytes("warm"), Bytes("x"));
        keyspace.Settle();

        var value = Bytes("v000000000000016");
        KeyEntry entry;
        long added;
        int growths;
        do
        {
            // The arena is shared by every keyspace in the process: a test running beside this one may
            // make this SET the one that opens a chunk or lengthens a free list; then it is measured again.
            db.Delete(db.Lookup(Key) ?? db.SetString(Key, value));
            growths = StringArena.Growths;
            long before = GC.GetAllocatedBytesForCurrentThread();
            entry = db.SetString(Key, value);
            added = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        while (growths != StringArena.Growths);
        keyspace.Settle();
        AssertHolds(entry, "v000000000000016");
        Assert.Equal(ObjectEncoding.Embstr, entry.Encoding);
        // The entry object (56 bytes); the key and the value are in one slot of the arena.
        Assert.InRange(added, 1, 56);

        foreach (var next in new[] { "w000000000000016", "shorter by 7", "longer, next size class", "back to 16 bytes" })
        {
            var bytes = Bytes(next);
            do
            {
                growths = StringArena.Growths;
                long before = GC.GetAllocatedBytesForCurrentThread();
                db.SetString(Key, bytes);
                keyspace.Settle();
                added = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            while (growths != StringArena.Growths);
            Assert.Equal(0, added);
            AssertHolds(entry, next);
        }
    }

    [Fact]
    public void Deleted_moved_renamed_and_flushed_keys_keep_their_values_and_their_slots_are_reused()
    {
        var keyspace = new Keyspace(2);
        var db = keyspace[0];
        var entry = db.SetString(Key, Bytes("first value"));
        db.Delete(entry);
        // Detached: the value left the arena for an array of its own, which later SETs cannot touch.
        Assert.Equal("first value", Encoding.ASCII.GetString(entry.StringValue));
        for (int i = 0; i < 100; i++) db.SetString(Bytes($"k{i}"), Bytes($"overwriting {i:D3}"));
        Assert.Equal("first value", Encoding.ASCII.GetString(entry.StringValue));

        // MOVE keeps the node: out of one table and into another.
        var moved = db.SetString(Key, Bytes("moved value"));
        db.Delete(moved);
        keyspace[1].Adopt(moved);
        db.SetString(Bytes("k0"), Bytes("k0's new value"));
        Assert.Same(moved, keyspace[1].Lookup(Key));
        Assert.Equal("moved value", Encoding.ASCII.GetString(moved.StringValue));

        var renamed = keyspace[1].AddMoved(Bytes("renamed"), moved);
        keyspace[1].Delete(moved);
        keyspace[1].SetString(Bytes("other"), Bytes("moved value"));
        Assert.Equal("moved value", Encoding.ASCII.GetString(keyspace[1].Lookup(Bytes("renamed"))!.StringValue));
        Assert.Same(renamed, keyspace[1].Lookup(Bytes("renamed")));

        // A snapshot still walking the flushed table reads these entries: they keep their values.
        var kept = new List<KeyEntry>();
        foreach (var e in db) kept.Add(e);
        var snapshot = new IdleSnapshot();
        snapshot.Epoch = keyspace.BeginSnapshot(snapshot);
        db.Clear();
        keyspace.EndSnapshot(snapshot);
        for (int i = 0; i < 100; i++) db.SetString(Bytes($"k{i}"), Bytes($"after the flush {i:D3}"));
        foreach (var e in kept)
        {
            string name = Encoding.ASCII.GetString(e.Key);
            Assert.Equal(name == "k0" ? "k0's new value" : $"overwriting {int.Parse(name[1..]):D3}", Encoding.ASCII.GetString(e.StringValue));
        }
        Assert.Equal("after the flush 042", Encoding.ASCII.GetString(db.Lookup(Bytes("k42"))!.StringValue));
    }

    /// <summary>A snapshot that takes nothing: only its presence matters here.</summary>
    sealed class IdleSnapshot : ISnapshotCapture
    {
        public ushort Epoch { get; set; }

        public void Capture(Dict table, KeyEntry entry) => entry.SnapshotEpoch = Epoch;
    }

    [Fact]
    public void Keys_deleted_for_good_or_flushed_with_no_snapshot_free_their_slots_without_copying_the_values()
    {
        var keyspace = new Keyspace(1);
        var db = keyspace[0];
        var entries = new List<KeyEntry>();
        for (int i = 0; i < 1000; i++) entries.Add(db.SetString(Bytes($"d{i}"), Bytes($"value {i:D3}")));
        keyspace.Settle();

        long added;
        int growths;
        do
        {
            // Freed slots go on the arena's free lists, which may lengthen (once, or when a test beside this one
            // used them): then the keys are made again and measured again.
            for (int i = 0; i < 500; i++) entries[i] = db.Lookup(Bytes($"d{i}")) ?? db.SetString(Bytes($"d{i}"), Bytes($"value {i:D3}"));
            keyspace.Settle();
            growths = StringArena.Growths;
            long start = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 500; i++) db.Discard(entries[i]);
            added = GC.GetAllocatedBytesForCurrentThread() - start;
        }
        while (growths != StringArena.Growths);
        Assert.Equal(0, added);
        Assert.Null(db.Lookup(Bytes("d0")));
        Assert.Equal(500, db.Count);

        do
        {
            for (int i = 0; i < 500; i++) db.SetString(Bytes($"d{i}"), Bytes($"value {i:D3}"));
            keyspace.Settle();
            growths = StringArena.Growths;
            long start = GC.GetAllocatedBytesForCurrentThread();
            db.Clear();
            added = GC.GetAllocatedBytesForCurrentThread() - start;
        }
        while (growths != StringArena.Growths);
        // A fresh table, but no array per flushed key (500 of them would be 20 KB).
        Assert.InRange(added, 0, 4096);
        Assert.Equal(0, db.Count);
        var again = db.SetString(Bytes("d1"), Bytes("value again"));
        Assert.Equal("value again", Encoding.ASCII.GetString(again.StringValue));
    }

    [Fact]
    public void A_string_moves_between_the_key_array_and_its_own_and_other_types_keep_the_key()
    {
        var keyspace = new Keyspace(1);
        var db = keyspace[0];
        var entry = db.SetString(Key, Bytes("12345"));
        Assert.Equal(ObjectEncoding.Int, entry.Encoding);
        AssertHolds(entry, "12345");

        // Edited in place (SETBIT, SETRANGE): the value gets an array of its own, the same bytes.
        var array = entry.StringArray();
        Assert.Same(array, entry.StringArray());
        array[0] = (byte)'9';
        AssertHolds(entry, "92345");

        var longValue = new string('x', KeyEntry.InlineLimit + 1);
        db.SetString(Key, Bytes(longValue));
        Assert.Equal(ObjectEncoding.Raw, entry.Encoding);
        AssertHolds(entry, longValue);

        db.SetString(Key, Bytes("short again"));
        Assert.Equal(ObjectEncoding.Embstr, entry.Encoding);
        AssertHolds(entry, "short again");

        var listpack = Listpack.AppendPair(Listpack.Create(), Bytes("field"), Bytes("value"));
        db.SetKey(Key, listpack, RedisType.Hash, ObjectEncoding.Listpack);
        Assert.Same(listpack, entry.Value);
        Assert.Equal(RedisType.Hash, entry.Type);
        Assert.Equal(Key, entry.Key.ToArray());

        db.SetString(Key, Bytes("a string"));
        AssertHolds(entry, "a string");
        Assert.Same(entry, db.Lookup(Key));
    }

    [Fact]
    public void Long_values_live_in_the_arena_and_an_evicted_keys_slot_serves_the_next_set_without_allocating_a_value()
    {
        var keyspace = new Keyspace(1);
        var db = keyspace[0];
        const int Live = 1000, Churn = 4000;
        var value = new byte[500];
        var keys = Enumerable.Range(0, Live + Churn).Select(i => Bytes($"key:{i:D6}")).ToArray();
        keyspace.ReserveKeys(0, Live + 1);
        for (int i = 0; i < Live; i++) db.SetString(keys[i], value);
        keyspace.Settle();
        // The longest value that shares the largest slot with its key (and its 2-byte length).
        var longest = new string('z', StringArena.LargestSlot - Key.Length - 2);
        var entry = db.SetString(Key, Bytes(longest));
        AssertHolds(entry, longest);
        Assert.ThrowsAny<InvalidOperationException>(() => entry.Value);
        // Past it, a value has an array of its own again.
        db.SetString(Key, Bytes(longest + "z"));
        AssertHolds(entry, longest + "z");
        Assert.IsType<byte[]>(entry.Value);
        db.Delete(entry);

        // The cache workload: a new key replaces an evicted one, its 500-byte value in the freed slot. Only the
        // entry (56 bytes) is new; the value was a 524-byte array per SET before, the key a 40-byte one.
        long allocated;
        int growths;
        do
        {
            growths = StringArena.Growths;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = Live; i < Live + Churn; i++)
            {
                db.Discard(db.Lookup(keys[i - Live])!);
                value[0] = (byte)i;
                db.SetString(keys[i], value);
                keyspace.Settle();
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before - Churn * 56L;
            // Another test may have taken the freed slots meanwhile (the arena is the process's): then again.
            for (int i = Churn; i < Churn + Live; i++) db.Discard(db.Lookup(keys[i])!);
            for (int i = 0; i < Live; i++) db.SetString(keys[i], value);
            keyspace.Settle();
        }
        while (growths != StringArena.Growths);
        Assert.InRange(allocated, long.MinValue, 0);

        // Overwrites in one size class write the slot; a deleted key keeps its value while its slot is reused.
        var kept = db.Lookup(keys[0])!;
        db.SetString(keys[0], Bytes(new string('k', 450)));
        db.Delete(kept);
        for (int i = 1; i < 50; i++) db.SetString(keys[i], Bytes(new string('o', 300 + i * 4)));
        Assert.Equal(new string('k', 450), Encoding.ASCII.GetString(kept.StringValue));
        Assert.Equal(new string('o', 496), Encoding.ASCII.GetString(db.Lookup(keys[49])!.StringValue));
        // An evicted key's value is gone, not silently empty.
        var evicted = db.Lookup(keys[1])!;
        db.Discard(evicted);
        Assert.ThrowsAny<InvalidCastException>(() => evicted.StringValue.Length);
    }

    [Fact]
    public void Keys_live_in_the_arena_while_in_a_table_deleted_ones_keep_theirs_and_discarded_ones_read_empty()
    {
        var keyspace = new Keyspace(1);
        var db = keyspace[0];
        var deleted = db.SetString(Bytes("deleted:1"), Bytes("a"));
        var discarded = db.SetString(Bytes("discarded:1"), Bytes("b"));
        var timed = db.SetString(Bytes("timed:1"), Bytes("c"));
        long at = keyspace.NowMs + 60_000;
        db.SetExpire(timed, at);
        var empty = db.SetString([], Bytes("the empty key"));
        // Longer than the arena takes: an array of its own, found, timed and deleted like any other.
        var longName = new string('L', StringArena.LongestValue + 1);
        var longKey = db.SetString(Bytes(longName), Bytes("d"));
        db.SetExpire(longKey, at);
        db.Persist(longKey);
        Assert.Same(longKey, db.Lookup(Bytes(longName)));

        db.Delete(deleted);
        db.Discard(discarded);
        db.Delete(timed);
        db.Delete(longKey);
        // The freed slots serve new keys of the same size class: the deleted entries' keys are their own copies.
        for (int i = 0; i < 200; i++) db.SetString(Bytes($"newkey:{i % 10}{i / 10:D2}"), Bytes("x"));
        Assert.Equal("deleted:1", Encoding.ASCII.GetString(deleted.Key));
        Assert.Equal("timed:1", Encoding.ASCII.GetString(timed.Key));
        Assert.Equal(at, timed.ExpireAt);
        Assert.Equal(longName, Encoding.ASCII.GetString(longKey.Key));
        Assert.Equal(0, discarded.Key.Length);
        Assert.Same(empty, db.Lookup([]));
        Assert.Equal(0, empty.Key.Length);
        Assert.Null(db.Lookup(Bytes("deleted:1")));

        // A deleted entry re-inserted (MOVE) goes back into the arena and is found by its key.
        db.Adopt(deleted);
        Assert.Same(deleted, db.Lookup(Bytes("deleted:1")));
        for (int i = 0; i < 10; i++) Assert.Equal($"newkey:{i}19", Encoding.ASCII.GetString(db.Lookup(Bytes($"newkey:{i}19"))!.Key));
    }

    [Fact]
    public void A_raw_string_stays_in_its_own_array_until_set_again()
    {
        var keyspace = new Keyspace(1);
        var db = keyspace[0];
        var raw = Bytes("abc");
        var entry = db.Add(Key, raw, RedisType.String, ObjectEncoding.Raw);
        Assert.Same(raw, entry.StringArray());
        entry.StringArray()[1] = (byte)'X';
        AssertHolds(entry, "aXc");
        // Redis's SET makes a new embstr of a short value; ours goes back into the key's array.
        db.SetString(Key, Bytes("abcdef"));
        Assert.Equal(ObjectEncoding.Embstr, entry.Encoding);
        AssertHolds(entry, "abcdef");
        Assert.Equal("aXc", Encoding.ASCII.GetString(raw));
    }

    [Fact]
    public void Expiry_follows_the_key_through_ttl_changes_rename_and_copy()
    {
        var keyspace = new Keyspace(1);
        var db = keyspace[0];
        var entry = db.SetString(Key, Bytes("value"));
        Assert.Equal(0, entry.ExpireAt);
        long at = keyspace.NowMs + 60_000;
        db.SetExpire(entry, at);
        Assert.Equal(at, entry.ExpireAt);
        Assert.Equal(1, db.ExpiresCount);
        Assert.Same(entry, db.RandomVolatile());

        var renamed = db.AddMoved(Bytes("other"), entry);
        Assert.Equal(0, renamed.ExpireAt);
        db.SetExpire(renamed, entry.ExpireAt);
        db.Delete(entry);
        Assert.Null(db.Lookup(Key));
        Assert.Equal("value", Encoding.ASCII.GetString(db.Lookup(Bytes("other"))!.StringValue));
        Assert.Equal(at, renamed.ExpireAt);
        Assert.Equal(1, db.ExpiresCount);
        Assert.Same(renamed, db.RandomVolatile());

        var copy = renamed.CopyAs(Bytes("copy"), deep: true);
        Assert.Equal(at, copy.ExpireAt);
        Assert.Equal("copy", Encoding.ASCII.GetString(copy.Key));
        Assert.Equal("value", Encoding.ASCII.GetString(copy.StringValue));

        db.Persist(renamed);
        Assert.Equal(0, renamed.ExpireAt);
        Assert.Equal(0, db.ExpiresCount);
        db.SetExpire(renamed, at + 1);
        db.SetString(Bytes("other"), Bytes("new value"));
        Assert.Equal(0, renamed.ExpireAt);
        Assert.Equal(0, db.ExpiresCount);
    }

    /// <summary>
    /// The key and its string share one slot: every change of the value's size (across size classes, to
    /// and from a length prefix, out of the slot and back), of the type, and every way in and out of a
    /// table keeps both, for keys from empty to past the arena's key limit, checked against a model of
    /// every key after each step (a slot shared by two entries would show as another key's bytes).
    /// </summary>
    [Fact]
    public void A_key_and_its_string_share_one_slot_through_every_change_of_size_type_and_table()
    {
        var keyspace = new Keyspace(1);
        var db = keyspace[0];
        int[] keyLengths = [0, 1, 9, 200, KeyEntry.KeyInArray - 1, KeyEntry.KeyInArray, 300];
        int[] valueLengths = [0, 1, 9, 44, 45, 253, 254, 255, 256, 500, 503, 3800, StringArena.LargestSlot - 1 - 2 - 9, StringArena.LongestValue, StringArena.LongestValue + 1, 5000];
        var keys = keyLengths.Select((length, i) => Enumerable.Range(0, length).Select(j => (byte)('a' + (i + j) % 26)).ToArray()).ToArray();
        var model = new Dictionary<int, byte[]>();
        var random = new Random(13);

        void Check()
        {
            Assert.Equal(model.Count, db.Count);
            foreach (var (k, value) in model)
            {
                var entry = db.Lookup(keys[k]);
                Assert.NotNull(entry);
                Assert.Equal(keys[k], entry.Key.ToArray());
                Assert.Equal(value, entry.StringValue.ToArray());
            }
        }

        byte[] NewValue(int step) => Enumerable.Repeat((byte)step, valueLengths[random.Next(valueLengths.Length)]).ToArray();

        for (int step = 0; step < 3000; step++)
        {
            int k = random.Next(keys.Length);
            var key = keys[k];
            var entry = db.Lookup(key);
            switch (random.Next(8))
            {
                case 0 or 1 or 2:
                    model[k] = NewValue(step);
                    db.SetString(key, model[k]);
                    break;
                case 3 when entry is not null:
                    // SETRANGE's way: the value leaves the slot for an array edited in place; the key stays.
                    var array = entry.StringArray();
                    if (array.Length > 0) array[0] = (byte)~array[0];
                    model[k] = [.. array];
                    break;
                case 4 when entry is not null:
                    // Another type and back (the slot keeps only the key meanwhile).
                    db.SetKey(key, Listpack.AppendPair(Listpack.Create(), Bytes("f"), Bytes("v")), RedisType.Hash, ObjectEncoding.Listpack);
                    Assert.Equal(key, entry.Key.ToArray());
                    model[k] = NewValue(step);
                    db.SetString(key, model[k]);
                    break;
                case 5 when entry is not null:
                    // MOVE's way: out of the table (key and value to arrays) and in again.
                    db.Delete(entry);
                    for (int i = 0; i < 20; i++) db.SetString(Bytes($"filler:{i}"), NewValue(step));
                    Assert.Equal(key, entry.Key.ToArray());
                    Assert.Equal(model[k], entry.StringValue.ToArray());
                    db.Adopt(entry);
                    for (int i = 0; i < 20; i++) db.Discard(db.Lookup(Bytes($"filler:{i}"))!);
                    break;
                case 6 when entry is not null:
                    db.Discard(entry);
                    model.Remove(k);
                    break;
                case 7:
                    // The RDB loader's way: a key's array and a short value put into the arena before the entry enters the table.
                    if (entry is not null) db.Discard(entry);
                    var value = Enumerable.Repeat((byte)step, valueLengths[random.Next(4)]).ToArray();
                    var loaded = KeyEntry.LoadedString([.. key], value, ObjectEncoding.Embstr);
                    Assert.Equal(value, loaded.StringValue.ToArray());
                    db.Adopt(loaded);
                    model[k] = value;
                    break;
            }
            Check();
        }
    }
}
