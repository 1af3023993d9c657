using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// Loads a dump into the keyspace (Redis's rdbLoad). At start it runs on the executor in slices of
/// a few milliseconds, so connections are served meanwhile (they get -LOADING) and INFO shows the
/// loading fields; DEBUG RELOAD loads in one go. Keys whose TTL already passed are skipped and
/// counted, as a master does. A dump that is corrupt or truncated anywhere is refused as a whole:
/// at start the server does not start, and what was loaded so far is never served.
/// </summary>
public sealed class RdbLoading : IDisposable
{
    static readonly TimeSpan SliceBudget = TimeSpan.FromMilliseconds(10);
    static readonly TimeSpan ProgressLogInterval = TimeSpan.FromSeconds(2);

    readonly RedisServer _server;
    readonly RdbState _state;
    readonly string _path;
    readonly bool _merge;
    readonly FileStream _stream;
    readonly RdbReader _reader;
    readonly Stopwatch _elapsed = Stopwatch.StartNew();
    TimeSpan _nextProgressLog = ProgressLogInterval;
    bool _headerRead;
    int _auxLogged;

    RdbLoading(RedisServer server, RdbState state, string path, bool merge)
    {
        _server = server;
        _state = state;
        _path = path;
        _merge = merge;
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
        _reader = new RdbReader(_stream, server.Config, verifyChecksum: server.Config.RdbChecksum);
        _reader.ResizeDb = server.Keyspace.ReserveKeys;
        _reader.FunctionLibrary = server.Functions.RdbLoader(replace: merge);
        state.LastLoadKeysLoaded = 0;
        state.LastLoadKeysExpired = 0;
        state.LoadingRdbUsedMem = 0;
    }

    /// <summary>
    /// At start: loads <paramref name="path"/> in slices on the executor; <paramref name="done"/> (on
    /// the executor) gets whether the server may start. No dump is an empty dataset.
    /// </summary>
    public static void Start(RedisServer server, RdbState state, string path, Action<bool> done)
    {
        RdbLoading loading;
        try
        {
            loading = new RdbLoading(server, state, path, merge: false);
        }
        catch (FileNotFoundException)
        {
            server.Executor.Post(() =>
            {
                // No dump: the empty keyspace is the whole dataset.
                server.Keyspace.Complete = true;
                done(true);
            });
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            server.Logger.LogWarning("Fatal error loading the DB: {Error}. Exiting.", e.Message);
            server.Executor.Post(() => done(false));
            return;
        }
        state.Loading.Begin(loading._stream.Length);
        server.Executor.Post(() => loading.RunSlice(done));
    }

    /// <summary>
    /// DEBUG RELOAD: loads <paramref name="path"/> now, on the executor. With <paramref name="merge"/>
    /// a key of the dump replaces one already there. False (logged) when it could not be loaded.
    /// </summary>
    public static bool LoadNow(RedisServer server, RdbState state, string path, bool merge)
    {
        RdbLoading loading;
        try
        {
            loading = new RdbLoading(server, state, path, merge);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            server.Logger.LogWarning("Error opening the RDB {Path}: {Error}", path, e.Message);
            return false;
        }
        using (loading)
        {
            state.Loading.Begin(loading._stream.Length);
            bool loaded = loading.TryLoad(long.MaxValue, out bool finished) && finished;
            state.Loading.End(loaded);
            return loaded;
        }
    }

    void RunSlice(Action<bool> done)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(SliceBudget.TotalSeconds * Stopwatch.Frequency);
        if (!TryLoad(deadline, out bool finished))
        {
            Dispose();
            // Keys loaded so far are dropped and the server stays in loading until it exits.
            for (int i = 0; i < _server.Keyspace.Count; i++) _server.Keyspace[i].Clear();
            _server.Logger.LogWarning("Terminating server after rdb file reading failure.");
            done(false);
            return;
        }
        if (!finished)
        {
            LogProgress();
            // After this round's replies: a re-posted slice would run in the same round, slice
            // after slice, holding back the -LOADING replies until the round's bound.
            _server.Executor.RunAfterReplies(() => RunSlice(done));
            return;
        }
        Dispose();
        _state.Loading.End(true);
        _server.Logger.LogInformation("DB loaded from disk: {Seconds} seconds",
            _elapsed.Elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture));
        done(true);
    }

    /// <summary>Loads keys until <paramref name="deadline"/> (Stopwatch ticks) or the end; false (logged) when the dump is invalid.</summary>
    bool TryLoad(long deadline, out bool finished)
    {
        finished = false;
        var keyspace = _server.Keyspace;
        keyspace.NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        try
        {
            if (!_headerRead)
            {
                _reader.ReadHeader();
                _headerRead = true;
            }
            for (int n = 1; ; n++)
            {
                if (!_reader.TryReadEntry(out var entry))
                {
                    LogAuxFields();
                    _server.Logger.LogInformation("Done loading RDB, keys loaded: {Loaded}, keys expired: {Expired}.",
                        _state.LastLoadKeysLoaded, _state.LastLoadKeysExpired);
                    finished = true;
                    return true;
                }
                LogAuxFields();
                if (!Add(entry)) return false;
                // key-load-delay slows the load down so tests can act while it runs.
                int delay = _server.Config.KeyLoadDelay;
                if (delay > 0) Thread.Sleep(TimeSpan.FromMicroseconds(delay));
                if ((n & 255) == 0 || delay > 0)
                {
                    _state.Loading.LoadedBytes = _reader.Position;
                    if (Stopwatch.GetTimestamp() > deadline) return true;
                }
            }
        }
        catch (Exception e) when (e is RdbFormatException or IOException)
        {
            _server.Logger.LogWarning("Error loading the RDB {Path} at offset {Offset}: {Error}", _path, _reader.Position, e.Message);
            return false;
        }
    }

    bool Add(in RdbEntry entry)
    {
        var keyspace = _server.Keyspace;
        if (entry.Db >= keyspace.Count)
        {
            _server.Logger.LogWarning("FATAL: Data file was created with a Redis server configured to handle more than {Databases} databases. Exiting", keyspace.Count);
            return false;
        }
        if (entry.ExpireAt != 0 && entry.ExpireAt < keyspace.NowMs)
        {
            _state.LastLoadKeysExpired++;
            return true;
        }
        _state.LastLoadKeysLoaded++;
        if (entry.AddTo(keyspace)) return true;
        var db = keyspace[entry.Db];
        if (_merge && db.Peek(entry.Key) is { } existing)
        {
            db.Delete(existing);
            if (entry.AddTo(keyspace)) return true;
        }
        _server.Logger.LogWarning("RDB has duplicated key '{Key}' in DB {Db}", Encoding.Latin1.GetString(entry.Key), entry.Db);
        return false;
    }

    /// <summary>Redis logs what the AUX fields tell about the dump as it reads them.</summary>
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
                    _state.LoadingRdbUsedMem = usedMemory;
                    logger.LogInformation("RDB memory usage when created {Mb} Mb", (usedMemory / (1024.0 * 1024)).ToString("0.00", CultureInfo.InvariantCulture));
                    break;
                case "aof-base" when text != "0":
                    logger.LogInformation("RDB is base AOF");
                    break;
            }
        }
    }

    void LogProgress()
    {
        if (_elapsed.Elapsed < _nextProgressLog) return;
        _nextProgressLog = _elapsed.Elapsed + ProgressLogInterval;
        var progress = _state.Loading;
        _server.Logger.LogInformation("Loading RDB {Path}: {Percent}% ({Loaded} of {Total} bytes, {Keys} keys)",
            _path, progress.LoadedPercent.ToString("0.00", CultureInfo.InvariantCulture), progress.LoadedBytes, progress.TotalBytes, _state.LastLoadKeysLoaded);
    }

    public void Dispose() => _stream.Dispose();
}
