using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Data;
using MiniRedis.Persistence.Dataset;

namespace MiniRedis.Persistence.Rdb;

/// <summary>What differs between the users of <see cref="RdbKeyLoader"/>; the presets name them.</summary>
/// <param name="Source">The file (or link) the image comes from, for the log lines.</param>
public sealed record RdbLoadOptions(string Source)
{
    /// <summary>
    /// Keys whose TTL already passed are skipped and counted, as a master does (Redis's iAmMaster check);
    /// an AOF preamble and a replica keep them, and they expire normally afterwards.
    /// </summary>
    public bool SkipExpired { get; init; } = true;

    /// <summary>Each key skipped as expired is told to <see cref="RdbState.ExpiredAtLoad"/>, for the replication stream (a master's load at start).</summary>
    public bool FeedExpired { get; init; }

    /// <summary>A key or function library of the image replaces one already there (DEBUG RELOAD MERGE, Redis's RDBFLAGS_ALLOW_DUP); otherwise a duplicate makes the image invalid.</summary>
    public bool ReplaceExisting { get; init; }

    /// <summary>Bytes of the files read before this image, counted in the loading progress (the AOF files before an AOF's preamble).</summary>
    public long ProgressBase { get; init; }

    /// <summary>The dump at start (sliced, <see cref="RdbLoading.Start"/>): a master skips expired keys and feeds their DELs to the replication stream, a replica keeps them.</summary>
    public static RdbLoadOptions StartUp(string path, bool asMaster) => new(path) { SkipExpired = asMaster, FeedExpired = asMaster };

    /// <summary>DEBUG RELOAD: the dump in one go; with <paramref name="merge"/> its keys replace existing ones; a master skips expired keys.</summary>
    public static RdbLoadOptions DebugReload(string path, bool merge, bool asMaster) => new(path) { ReplaceExisting = merge, SkipExpired = asMaster };

    /// <summary>The RDB image an AOF file starts with (aof-use-rdb-preamble), inside the AOF's own load.</summary>
    public static RdbLoadOptions AofPreamble(string path, long bytesBefore) => new(path) { SkipExpired = false, ProgressBase = bytesBefore };

    /// <summary>A replica's full sync: the master's image (as received, from a file or as it arrives), expired keys kept for the master's DELs; the caller emptied the dataset first.</summary>
    public static RdbLoadOptions ReplicaSync(string source) => new(source) { SkipExpired = false };
}

/// <summary>
/// The one loop that puts an RDB image's keys into the keyspace (Redis's rdbLoadRioWithLoadingCtx):
/// the reader's set-up (config thresholds, checksum, RESIZEDB sizing the tables, FUNCTION2 records
/// into the function libraries), the entries with the expired and duplicate rules of
/// <see cref="RdbLoadOptions"/>, the AUX lines Redis logs, the loading progress, key-load-delay, and
/// every error as one message. Its users drive it: the sliced start-up load, an AOF's preamble slice
/// by slice, DEBUG RELOAD and a replica's full sync in one call (<see cref="RdbLoading"/>). RESTORE
/// reads a single value with <see cref="RdbReader.ReadDumpPayload"/>, which needs none of this.
/// Executor thread only.
/// </summary>
public sealed class RdbKeyLoader
{
    /// <summary>Progress and the slice's deadline are looked at once per this many keys.</summary>
    const int CheckEvery = 256;

    /// <summary>
    /// Keys read between two prefetch steps of one key (<see cref="Dict.Prefetch"/>): a key's bucket is
    /// fetched when it is read, its chain's first entry <see cref="PrefetchLag"/> keys later, that entry's
    /// key as many again, and the key is added after that. Decoding two keys outlasts a cache miss.
    /// </summary>
    const int PrefetchLag = 2;
    const int PrefetchSteps = 3;

    /// <summary>Keys read and not yet added, in the order of the image (a ring; <see cref="_pendingCount"/> from <see cref="_pendingFirst"/>).</summary>
    readonly RdbEntry[] _pending = new RdbEntry[PrefetchSteps * PrefetchLag + 1];
    readonly uint[] _pendingHashes = new uint[PrefetchSteps * PrefetchLag + 1];
    int _pendingFirst;
    int _pendingCount;

    readonly PersistenceHost _server;
    readonly RdbState _stats;
    readonly LoadingProgress _progress;
    readonly RdbLoadOptions _options;
    readonly RdbReader _reader;
    bool _headerRead;
    int _auxLogged;

    /// <summary>Reads from <paramref name="source"/>'s position; the caller owns the stream. Resets the last-load counters of <paramref name="stats"/>.</summary>
    public RdbKeyLoader(PersistenceHost server, RdbState stats, LoadingProgress progress, Stream source, RdbLoadOptions options)
    {
        _server = server;
        _stats = stats;
        _progress = progress;
        _options = options;
        _reader = new RdbReader(source, server.Config, verifyChecksum: server.Config.RdbChecksum)
        {
            EntriesInArena = true,
            ResizeDb = server.Keyspace.ReserveKeys,
            FunctionLibrary = server.Functions.RdbLoader(replace: options.ReplaceExisting),
        };
        stats.LastLoadKeysLoaded = 0;
        stats.LastLoadKeysExpired = 0;
        stats.LoadingRdbUsedMem = 0;
    }

    /// <summary>Bytes of the image consumed so far.</summary>
    public long Position => _reader.Position;

    /// <summary>Why the image was refused, after <see cref="Load"/> returned false (the reader stopped at <see cref="Position"/>).</summary>
    public string? Error { get; private set; }

    /// <summary>
    /// Loads keys until <paramref name="deadline"/> (Stopwatch ticks; <see cref="long.MaxValue"/> for
    /// all of them) or the image's end (then <paramref name="finished"/>). False when the image is
    /// invalid (<see cref="Error"/>); the keys loaded so far stay, for the caller to drop.
    /// </summary>
    public bool Load(long deadline, out bool finished)
    {
        if (LoadKeys(deadline, out finished)) return true;
        while (_pendingCount > 0) TakeOldestPending().Discard();
        return false;
    }

    bool LoadKeys(long deadline, out bool finished)
    {
        finished = false;
        _server.Keyspace.NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        try
        {
            if (!_headerRead)
            {
                _reader.ReadHeader();
                _headerRead = true;
            }
            for (int n = 1; ; n++)
            {
                bool more = _reader.TryReadEntry(out var entry);
                if (_auxLogged < _reader.AuxFields.Count) LogAuxFields();
                if (!more)
                {
                    while (_pendingCount > 0)
                    {
                        if (!AddOldestPending()) return false;
                    }
                    _server.Logger.LogInformation("Done loading RDB, keys loaded: {Loaded}, keys expired: {Expired}.",
                        _stats.LastLoadKeysLoaded, _stats.LastLoadKeysExpired);
                    _progress.LoadedBytes = _options.ProgressBase + _reader.Position;
                    finished = true;
                    return true;
                }
                if (!Queue(entry)) return false;
                // key-load-delay slows the load down so tests can act while it runs.
                int delay = _server.Config.KeyLoadDelay;
                if (delay > 0) Thread.Sleep(TimeSpan.FromMicroseconds(delay));
                if (n % CheckEvery == 0 || delay > 0)
                {
                    _progress.LoadedBytes = _options.ProgressBase + _reader.Position;
                    if (SlicedJob.Expired(deadline)) return true;
                }
            }
        }
        catch (Exception e) when (e is RdbFormatException or IOException)
        {
            Error = e.Message;
            return false;
        }
    }

    /// <summary>
    /// Queues a key just read and advances the prefetch steps of the keys before it; adds the oldest
    /// once its steps are done. Keys are added in the image's order, so duplicates, expired keys and
    /// errors are found as without the queue; a load that fails never adds the keys still queued.
    /// </summary>
    bool Queue(in RdbEntry entry)
    {
        var keyspace = _server.Keyspace;
        int capacity = _pending.Length;
        int newest = (_pendingFirst + _pendingCount) % capacity;
        _pending[newest] = entry;
        _pendingHashes[newest] = Dict.HashKey(entry.Key);
        _pendingCount++;
        for (int step = 0; step < PrefetchSteps; step++)
        {
            int age = step * PrefetchLag;
            if (age >= _pendingCount) break;
            int index = (newest - age + capacity) % capacity;
            int db = _pending[index].Db;
            if (db < keyspace.Count) keyspace[db].Table.Prefetch(_pendingHashes[index], step);
        }
        return _pendingCount < capacity || AddOldestPending();
    }

    bool AddOldestPending() => Add(TakeOldestPending());

    RdbEntry TakeOldestPending()
    {
        ref var oldest = ref _pending[_pendingFirst];
        var entry = oldest;
        oldest = default;
        _pendingFirst = (_pendingFirst + 1) % _pending.Length;
        _pendingCount--;
        return entry;
    }

    bool Add(in RdbEntry entry)
    {
        var keyspace = _server.Keyspace;
        if (entry.Db >= keyspace.Count)
        {
            Error = $"FATAL: Data file was created with a Redis server configured to handle more than {keyspace.Count} databases. Exiting";
            entry.Discard();
            return false;
        }
        if (_options.SkipExpired && entry.ExpireAt != 0 && entry.ExpireAt < keyspace.NowMs)
        {
            _stats.LastLoadKeysExpired++;
            if (_options.FeedExpired) _stats.ExpiredAtLoad?.Invoke(entry.Db, entry.Key.ToArray());
            entry.Discard();
            return true;
        }
        _stats.LastLoadKeysLoaded++;
        if (entry.AddTo(keyspace)) return true;
        var db = keyspace[entry.Db];
        if (_options.ReplaceExisting && db.Peek(entry.Key) is { } existing)
        {
            db.Delete(existing);
            if (entry.AddTo(keyspace)) return true;
        }
        Error = $"RDB has duplicated key '{Encoding.Latin1.GetString(entry.Key)}' in DB {entry.Db}";
        entry.Discard();
        return false;
    }

    /// <summary>The replication history the AUX fields read so far tell (repl-stream-db, repl-id, repl-offset), if any.</summary>
    public RdbReplicationInfo? ReplicationInfo => RdbReplicationInfo.FromAux(_reader.AuxFields);

    /// <summary>Redis logs what the AUX fields tell about the image as it reads them.</summary>
    void LogAuxFields()
    {
        var fields = _reader.AuxFields;
        var logger = _server.Logger;
        for (; _auxLogged < fields.Count; _auxLogged++)
        {
            var (name, value) = fields[_auxLogged];
            string text = Encoding.Latin1.GetString(value);
            switch (name)
            {
                case "redis-ver":
                    logger.LogInformation("Loading RDB produced by version {Version}", text);
                    break;
                case "ctime" when long.TryParse(text, CultureInfo.InvariantCulture, out long created):
                    logger.LogInformation("RDB age {Seconds} seconds", Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - created));
                    break;
                case "used-mem" when long.TryParse(text, CultureInfo.InvariantCulture, out long usedMemory):
                    _stats.LoadingRdbUsedMem = usedMemory;
                    logger.LogInformation("RDB memory usage when created {Mb} Mb", (usedMemory / (1024.0 * 1024)).ToString("0.00", CultureInfo.InvariantCulture));
                    break;
                case "aof-base" when text != "0":
                    logger.LogInformation("RDB is base AOF");
                    break;
            }
        }
    }
}
