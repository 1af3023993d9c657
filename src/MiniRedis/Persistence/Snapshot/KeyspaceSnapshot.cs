using System.Collections.Concurrent;
using System.Runtime;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Persistence.Dataset;

namespace MiniRedis.Persistence.Snapshot;

/// <summary>Where a snapshot's keys go; called on the executor thread, so it only hands them over.</summary>
public interface ISnapshotConsumer
{
    /// <summary>Keys taken; the consumer gives the chunk back with <see cref="KeyspaceSnapshot.Return"/> once it wrote them.</summary>
    void Add(SnapshotChunk chunk);

    /// <summary>More keys are waiting than the consumer wants; the walk pauses until <see cref="KeyspaceSnapshot.Resume"/>.</summary>
    bool Backlogged { get; }

    /// <summary>Every key of the instant has been added.</summary>
    void Completed();
}

/// <summary>
/// A fork-less point-in-time snapshot of the keyspace (the Dragonfly approach), shared by AOF
/// rewrite and BGSAVE. Starting it is O(1): it records each database's hash table and a fresh
/// epoch. The executor then walks the tables' bucket arrays in memory order in ~1 ms slices that give way to waiting clients (a <see cref="SlicedJob"/>), and any key a
/// command reaches first (lookup, delete, expiry; see <see cref="Keyspace.BeforeAccess"/>) is taken
/// right then, before it can change. Each key is taken exactly once (its epoch is set); keys created
/// after the instant carry the epoch already and are never taken; deleted keys were taken on their
/// way out; keys already expired at the instant are skipped.
///
/// Taking a key copies it on the executor into a <see cref="SnapshotChunk"/> (a string's bytes into
/// the chunk's buffer, other values as a deep copy), and the consumer serializes the chunk on its own
/// thread and gives it back: the executor's cost per key is a memory copy, the formatting (numbers,
/// RESP framing) and the I/O happen elsewhere, and a walked value can be mutated right after without
/// a second capture. A chunk is handed over when full, at the end of a slice once a quarter full, and at the end.
/// </summary>
public sealed class KeyspaceSnapshot : SlicedJob, ISnapshotCapture
{
    static readonly TimeSpan SliceBudget = TimeSpan.FromMilliseconds(1);
    /// <summary>
    /// How long a slice goes on while clients' batches wait (they wait at most this, plus one step): under
    /// load the walk takes a small share of each round, and the snapshot lasts longer (issue 18 allows it
    /// 1.5× Redis's time; clients' throughput is what it spends that on). 100 µs read 0.80× Redis's SET
    /// ops/s during BGSAVE, 30 µs with the writer's lower priority 0.92–1.04× (RESULTS.md, session 11).
    /// </summary>
    static readonly TimeSpan GivesWayAfter = TimeSpan.FromMicroseconds(30);
    /// <summary>
    /// The niceness of a consumer's writer thread (encoding, compression, I/O): on a busy machine it gives
    /// way to the threads serving clients instead of taking a core from them, as Redis's fork child does
    /// not; an idle server's snapshot is as fast as before.
    /// </summary>
    public const int WriterNiceness = 10;
    /// <summary>Buckets visited between two looks at the clock and the consumer's backlog; their heads are prefetched together.</summary>
    const int BucketsPerStep = 32;

    readonly Keyspace _keyspace;
    readonly ISnapshotConsumer _consumer;
    readonly Dict[] _tables;
    readonly int _chunkCapacity;
    /// <summary>Chunks the consumer gave back, to fill again.</summary>
    readonly ConcurrentQueue<SnapshotChunk> _free = new();
    /// <summary>The chunk being filled; handed over when full, or at the end of a slice once a quarter full.</summary>
    SnapshotChunk? _chunk;
    int _walkDb;
    /// <summary>The bucket array of <see cref="_walkDb"/>'s table being walked (see <see cref="Dict.ArrayAfter"/>), and the next bucket.</summary>
    KeyEntry?[]? _array;
    int _index;
    /// <summary>The walk finishes the table with the SCAN cursor (an array it walked was retired by a resize).</summary>
    bool _scanning;
    ulong _cursor;
    int _paused;
    bool _finished;
    /// <summary>The GC's latency mode before the walk (see <see cref="AvoidBlockingFullCollections"/>), until it is restored.</summary>
    GCLatencyMode? _latencyBefore;

    KeyspaceSnapshot(Keyspace keyspace, Executor executor, ISnapshotConsumer consumer, int chunkCapacity) : base(executor, SliceBudget, GivesWayAfter)
    {
        _keyspace = keyspace;
        _consumer = consumer;
        _chunkCapacity = chunkCapacity;
        _tables = new Dict[keyspace.Count];
        for (int i = 0; i < _tables.Length; i++)
        {
            _tables[i] = keyspace[i].Table;
            KeysTotal += _tables[i].Count;
        }
        InstantMs = keyspace.NowMs;
        Epoch = keyspace.BeginSnapshot(this);
        AvoidBlockingFullCollections();
    }

    /// <summary>
    /// While the walk runs the GC makes only ephemeral and background full collections: the walk's garbage
    /// under a client load (a deep copy per collection key) brought blocking full collections of the whole
    /// dataset, each a 95-105 ms pause of every client (INFO dotnet_gc_pause_max_kind gen2-blocking).
    /// </summary>
    void AvoidBlockingFullCollections()
    {
        if (GCSettings.LatencyMode != GCLatencyMode.Interactive) return;
        _latencyBefore = GCSettings.LatencyMode;
        GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency;
    }

    /// <summary>No more keys are taken: the keyspace forgets the snapshot, and the GC's mode is restored.</summary>
    void EndWalk()
    {
        _keyspace.EndSnapshot(this);
        if (_latencyBefore is not { } mode) return;
        GCSettings.LatencyMode = mode;
        _latencyBefore = null;
    }

    /// <summary>Takes the instant now (on the executor) and starts walking in the following executor rounds.</summary>
    /// <param name="chunkCapacity">Keys per <see cref="SnapshotChunk"/> handed over (fewer: more, smaller hand-offs).</param>
    public static KeyspaceSnapshot Start(Keyspace keyspace, Executor executor, ISnapshotConsumer consumer,
        int chunkCapacity = SnapshotChunk.DefaultCapacity)
    {
        var snapshot = new KeyspaceSnapshot(keyspace, executor, consumer, chunkCapacity);
        snapshot.Continue();
        return snapshot;
    }

    public ushort Epoch { get; }

    /// <summary>The instant, unix ms: keys whose TTL had passed by then are not part of the snapshot.</summary>
    public long InstantMs { get; }

    /// <summary>current_save_keys_total: keys in the databases at the instant (expired ones included).</summary>
    public long KeysTotal { get; }

    /// <summary>current_save_keys_processed: keys taken so far, by the walk or by capture.</summary>
    public long KeysProcessed { get; private set; }

    public void Capture(Dict table, KeyEntry entry)
    {
        int db = Array.IndexOf(_tables, table);
        // A table made after the instant (after FLUSHDB) only holds keys that are not ours.
        if (db < 0) entry.SnapshotEpoch = Epoch;
        else Take(db, entry, captured: true);
    }

    void Take(int db, KeyEntry entry, bool captured)
    {
        if (entry.SnapshotEpoch == Epoch) return;
        entry.SnapshotEpoch = Epoch;
        KeysProcessed++;
        if (entry.ExpireAt != 0 && entry.ExpireAt <= InstantMs) return;
        var chunk = _chunk ??= _free.TryDequeue(out var free) ? free : new SnapshotChunk(_chunkCapacity);
        chunk.Add(db, entry, captured);
        if (chunk.Full) HandOver();
    }

    void HandOver()
    {
        if (_chunk is not { Count: > 0 } chunk) return;
        _chunk = null;
        _consumer.Add(chunk);
    }

    /// <summary>From the consumer's thread: <paramref name="chunk"/>'s keys are written, it can be filled again.</summary>
    public void Return(SnapshotChunk chunk)
    {
        chunk.Clear();
        _free.Enqueue(chunk);
    }

    /// <summary>From the consumer's thread once its backlog is small again: a paused walk continues.</summary>
    public void Resume()
    {
        if (Interlocked.Exchange(ref _paused, 0) == 1) Continue();
    }

    /// <summary>Stops taking keys (the consumer failed or was cancelled); no more records are added.</summary>
    public void Cancel()
    {
        _finished = true;
        EndWalk();
    }

    /// <summary>Walks the tables until the deadline; stops (false) when the walk ended or paused for the consumer.</summary>
    protected override bool Slice(long deadline)
    {
        if (_finished) return false;
        bool more = Walk(deadline);
        if (_finished)
        {
            HandOver();
            EndWalk();
            _consumer.Completed();
        }
        // A chunk a quarter full goes now, so the writer has work; a smaller one waits for more keys: under
        // a client load a slice takes only a few dozen, and a chunk (~40 KB) handed over per slice piled up
        // tens of MB while the writer was behind (the backlog counts keys, not chunks).
        else if (_chunk is { } chunk && chunk.Count >= _chunkCapacity / 4) HandOver();
        return more;
    }

    bool Walk(long deadline)
    {
        var visitor = new Walker(this);
        while (_walkDb < _tables.Length)
        {
            if (_consumer.Backlogged && Pause()) return false;
            var table = _tables[_walkDb];
            visitor.Db = _walkDb;
            if (_scanning)
            {
                for (int i = 0; i < BucketsPerStep && _scanning; i++)
                {
                    _cursor = table.Scan(_cursor, ref visitor);
                    _scanning = _cursor != 0;
                }
                if (!_scanning) NextDb();
            }
            else if (_array is null || _index == _array.Length)
            {
                _array = table.ArrayAfter(_array, out _scanning);
                _index = 0;
                if (_array is null && !_scanning) NextDb();
                continue;
            }
            else
            {
                int end = Math.Min(_index + BucketsPerStep, _array.Length);
                Dict.VisitBuckets(_array, _index, end, ref visitor);
                _index = end;
            }
            if (SliceOver(deadline)) return true;
        }
        _finished = true;
        return false;
    }

    void NextDb()
    {
        _walkDb++;
        _array = null;
    }

    /// <summary>Pauses unless the backlog drained meanwhile (then the consumer's Resume may have missed us).</summary>
    bool Pause()
    {
        Volatile.Write(ref _paused, 1);
        return _consumer.Backlogged || Interlocked.Exchange(ref _paused, 0) == 0;
    }

    struct Walker(KeyspaceSnapshot snapshot) : IEntryVisitor
    {
        public int Db;

        public readonly void Visit(KeyEntry entry) => snapshot.Take(Db, entry, captured: false);
    }
}
