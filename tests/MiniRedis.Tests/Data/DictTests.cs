using System.Text;
using MiniRedis.Data;
using Xunit;

namespace MiniRedis.Tests.Data;

/// <summary>The keyspace table against a reference set, with resizes (growing and shrinking) in progress.</summary>
[Trait("Category", "Unit")]
public class DictTests
{
    static KeyEntry Entry(string key)
    {
        var bytes = Encoding.ASCII.GetBytes(key);
        return new KeyEntry(bytes, bytes, RedisType.String, ObjectEncoding.Embstr);
    }

    static HashSet<string> Enumerate(Dict dict)
    {
        var seen = new HashSet<string>();
        foreach (var entry in dict) Assert.True(seen.Add(Encoding.ASCII.GetString(entry.Key)), "enumerated twice");
        return seen;
    }

    struct Collector(List<string> keys) : IEntryVisitor
    {
        public readonly void Visit(KeyEntry entry) => keys.Add(Encoding.ASCII.GetString(entry.Key));
    }

    [Fact]
    public void RandomOperationsMatchAReferenceSetThroughResizes()
    {
        var random = new Random(7);
        var dict = new Dict();
        var entries = new Dictionary<string, KeyEntry>();
        bool sawRehash = false;
        for (int i = 0; i < 60_000; i++)
        {
            // Phases of mostly inserts then mostly deletes, so the table grows and shrinks repeatedly.
            bool growing = i / 10_000 % 2 == 0;
            string key = "k" + random.Next(20_000);
            if (random.Next(100) < (growing ? 80 : 20))
            {
                if (entries.ContainsKey(key)) continue;
                var entry = Entry(key);
                dict.Insert(entry);
                entries[key] = entry;
            }
            else if (entries.Remove(key, out var entry))
            {
                dict.Remove(entry);
            }
            sawRehash |= dict.IsRehashing;
            Assert.Same(entries.GetValueOrDefault(key), dict.Find(Encoding.ASCII.GetBytes(key)));
            Assert.Equal(entries.Count, dict.Count);
        }
        Assert.True(sawRehash);
        Assert.Equal(entries.Keys.ToHashSet(), Enumerate(dict));
        foreach (var (key, entry) in entries) Assert.Same(entry, dict.Find(Encoding.ASCII.GetBytes(key)));
    }

    /// <summary>
    /// 3,000 stable keys, and for a shrinking test 40,000 churn keys it removes as it goes (a growing
    /// test adds keys instead): a table whose next changes start resizing it.
    /// </summary>
    static (Dict Dict, List<string> Stable, Queue<KeyEntry> Churn) TableAboutToResize(bool growing)
    {
        var dict = new Dict();
        var stable = new List<string>();
        var churn = new Queue<KeyEntry>();
        for (int i = 0; i < 3_000; i++)
        {
            dict.Insert(Entry("stable" + i));
            stable.Add("stable" + i);
        }
        for (int i = 0; i < (growing ? 0 : 40_000); i++)
        {
            var entry = Entry("churn" + i);
            dict.Insert(entry);
            churn.Enqueue(entry);
        }
        return (dict, stable, churn);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ScanReturnsEveryKeyPresentForTheWholeScanWhileTheTableResizes(bool growing)
    {
        var (dict, stable, churn) = TableAboutToResize(growing);
        var seen = new List<string>();
        var collector = new Collector(seen);
        ulong cursor = 0;
        int extra = 0;
        bool sawRehash = false;
        do
        {
            cursor = dict.Scan(cursor, ref collector);
            // Between calls the table changes: growth adds a key (adding faster than a call
            // advances the cursor would outrun the scan forever), shrinking removes churn keys.
            if (growing) dict.Insert(Entry("extra" + extra++));
            for (int i = 0; i < 20 && !growing && churn.Count > 0; i++) dict.Remove(churn.Dequeue());
            sawRehash |= dict.IsRehashing;
        }
        while (cursor != 0);
        Assert.True(sawRehash);
        Assert.Empty(stable.Except(seen));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WalkInMemoryOrderSeesEveryKeyPresentThroughoutWhileTheTableResizes(bool growing)
    {
        var (dict, stable, churn) = TableAboutToResize(growing);
        var seen = new List<string>();
        var collector = new Collector(seen);
        int extra = 0, arraysWalked = 0, scanned = 0;
        bool sawRehash = false, retired;
        void Change()
        {
            // Between steps the table changes, resizing (and finishing resizes) over the walk: growth
            // adds keys as fast as buckets are walked, shrinking removes churn keys.
            for (int i = 0; i < 4 && growing; i++) dict.Insert(Entry("extra" + extra++));
            for (int i = 0; i < 20 && !growing && churn.Count > 0; i++) dict.Remove(churn.Dequeue());
            sawRehash |= dict.IsRehashing;
        }
        for (var array = dict.ArrayAfter(null, out retired); array is not null; array = dict.ArrayAfter(array, out retired))
        {
            arraysWalked++;
            for (int index = 0; index < array.Length; index += 4)
            {
                Dict.VisitBuckets(array, index, Math.Min(index + 4, array.Length), ref collector);
                Change();
            }
        }
        // An array retired under the walk: the SCAN cursor finishes it, whatever resizes follow.
        for (ulong cursor = 0; retired;)
        {
            cursor = dict.Scan(cursor, ref collector);
            retired = cursor != 0;
            scanned++;
            Change();
        }
        Assert.True(sawRehash);
        // A resize met the walk: it went on into the resize's target, or finished with the cursor.
        Assert.True(arraysWalked > 1 || scanned > 0, "no resize met the walk");
        Assert.Empty(stable.Except(seen));
    }

    [Fact]
    public void RandomEntryDuringAResizeReturnsKeysOfBothArrays()
    {
        var dict = new Dict();
        for (int i = 0; i < 1024; i++) dict.Insert(Entry("k" + i));
        dict.Insert(Entry("k1024"));
        Assert.True(dict.IsRehashing);
        var picked = new HashSet<string>();
        for (int i = 0; i < 20_000; i++) picked.Add(Encoding.ASCII.GetString(dict.RandomEntry()!.Key));
        Assert.True(picked.Count > 1000, $"only {picked.Count} distinct keys picked");
        Assert.Equal(Enumerate(dict), Enumerate(dict));
    }

    [Fact]
    public void RehashForFinishesAResizeWithoutCommands()
    {
        var dict = new Dict();
        for (int i = 0; i <= 4096; i++) dict.Insert(Entry("k" + i));
        Assert.True(dict.IsRehashing);
        while (dict.IsRehashing) dict.RehashFor(System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency);
        Assert.Equal(8192, dict.BucketCount);
        Assert.Equal(4097, Enumerate(dict).Count);
    }

    [Fact]
    public void EnsureCapacitySizesTheTableOnceForAKnownCount()
    {
        var dict = new Dict();
        dict.EnsureCapacity(100_000);
        for (int i = 0; i < 100_000; i++)
        {
            dict.Insert(Entry("k" + i));
            Assert.False(dict.IsRehashing);
        }
        Assert.Equal(131072, dict.BucketCount);
    }
}
