using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using MiniRedis.Persistence.Dataset;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// Loads a dump into the keyspace (Redis's rdbLoad) with the one <see cref="RdbKeyLoader"/>. At
/// start and for a replica's full sync it runs on the executor as a <see cref="SlicedJob"/>, so
/// connections are served meanwhile (they get -LOADING) and INFO shows the loading fields; DEBUG
/// RELOAD loads in one go (<see cref="LoadNow"/>, <see cref="Load"/>). A dump that is corrupt or
/// truncated anywhere is refused as a whole: at start the server does not start, and what was
/// loaded so far is never served.
/// </summary>
public sealed class RdbLoading : SlicedJob, IDisposable
{
    static readonly TimeSpan SliceBudget = TimeSpan.FromMilliseconds(10);
    static readonly TimeSpan ProgressLogInterval = TimeSpan.FromSeconds(2);

    /// <summary>Bytes a dump's byte makes the load allocate, about (5.2 kept and the reader's garbage, on 1M mixed keys): the start-up load's window without collections.</summary>
    const int HeapBytesPerDumpByte = 8;

    readonly PersistenceHost _server;
    readonly RdbState _state;
    readonly string _path;
    readonly FileStream _stream;
    readonly RdbKeyLoader _loader;
    readonly Action<bool, RdbReplicationInfo?> _done;
    readonly Stopwatch _elapsed = Stopwatch.StartNew();
    TimeSpan _nextProgressLog = ProgressLogInterval;

    RdbLoading(PersistenceHost server, RdbState state, string path, FileStream stream, RdbLoadOptions options, Action<bool, RdbReplicationInfo?> done)
        : base(server.Executor, SliceBudget)
    {
        _server = server;
        _state = state;
        _path = path;
        _stream = stream;
        _done = done;
        _loader = new RdbKeyLoader(server, state, state.Loading, stream, options);
    }

    /// <summary>The dump opened for reading; null (and why) when it cannot be.</summary>
    static FileStream? TryOpen(string path, out Exception? error)
    {
        error = null;
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e;
            return null;
        }
    }

#pragma warning disable CA2000 // the stream opened goes to the job made in Run, which owns itself and it: it disposes of them when it ends (Slice)
    /// <summary>
    /// At start: loads <paramref name="path"/> in slices on the executor; <paramref name="done"/> (on
    /// the executor) gets whether the server may start. No dump is an empty dataset.
    /// </summary>
    public static void Start(PersistenceHost server, RdbState state, string path, Action<bool> done)
    {
        var stream = TryOpen(path, out var error);
        if (stream is null)
        {
            if (error is FileNotFoundException)
            {
                server.Executor.Post(() =>
                {
                    // No dump: the empty keyspace is the whole dataset.
                    server.Keyspace.Complete = true;
                    done(true);
                });
                return;
            }
            server.Logger.LogWarning("Fatal error loading the DB: {Error}. Exiting.", error!.Message);
            server.Executor.Post(() => done(false));
            return;
        }
        var elapsed = Stopwatch.StartNew();
        state.Loading.Begin(stream.Length, heapBytes: stream.Length * HeapBytesPerDumpByte);
        Run(server, state, path, stream, RdbLoadOptions.StartUp(path, asMaster: server.Config.MasterHost is null), (loaded, replication) =>
        {
            if (!loaded)
            {
                // Keys loaded so far are dropped and the server stays in loading until it exits.
                for (int i = 0; i < server.Keyspace.Count; i++) server.Keyspace[i].Clear();
                server.Logger.LogWarning("Terminating server after rdb file reading failure.");
                done(false);
                return;
            }
            state.ReplicationInfoLoaded?.Invoke(replication);
            server.Logger.LogInformation("DB loaded from disk: {Seconds} seconds",
                elapsed.Elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture));
            done(true);
        });
    }

    /// <summary>
    /// A replica's full sync (<see cref="RdbLoadOptions.ReplicaSync"/>): the received dump, loaded
    /// into the emptied keyspace in slices as at start, so clients get -LOADING meanwhile (Redis's
    /// rdbLoad serving events while it loads). <paramref name="done"/> (on the executor) gets the
    /// dump's replication history, or false (logged) when it could not be loaded: the dataset is then
    /// incomplete (the keys loaded so far stay, and writers of the dataset refuse) until the next sync.
    /// </summary>
    public static void StartReplicaSync(PersistenceHost server, RdbState state, string path, Action<bool, RdbReplicationInfo?> done)
    {
        var stream = TryOpen(path, out var error);
        if (stream is null)
        {
            server.Logger.LogWarning("Error opening the RDB {Path}: {Error}", path, error!.Message);
            done(false, null);
            return;
        }
        state.Loading.Begin(stream.Length);
        Run(server, state, path, stream, RdbLoadOptions.ReplicaSync(path), (loaded, replication) =>
        {
            if (!loaded) state.Loading.End(false);
            done(loaded, replication);
        });
    }

    static void Run(PersistenceHost server, RdbState state, string path, FileStream stream, RdbLoadOptions options, Action<bool, RdbReplicationInfo?> done) =>
        new RdbLoading(server, state, path, stream, options, done).Continue();
#pragma warning restore CA2000

    /// <summary>DEBUG RELOAD (<see cref="RdbLoadOptions.DebugReload"/>): loads <paramref name="path"/> now, on the executor. False (logged) when it could not be loaded.</summary>
    public static bool LoadNow(PersistenceHost server, RdbState state, string path, RdbLoadOptions options)
    {
        using var stream = TryOpen(path, out var error);
        if (stream is null)
        {
            server.Logger.LogWarning("Error opening the RDB {Path}: {Error}", path, error!.Message);
            return false;
        }
        return Load(server, state, stream, stream.Length, options);
    }

    /// <summary>
    /// Loads the RDB image read from <paramref name="source"/> now, on the calling (executor) thread,
    /// blocking on the stream's reads: a file, or a replica's full sync reading the master's transfer as
    /// it arrives (a socket's stream, <c>PipeReader.AsStream()</c>) with
    /// <see cref="RdbLoadOptions.ReplicaSync"/>. <paramref name="totalBytes"/> is the size announced for
    /// the loading progress (0 when unknown). A stream that cannot seek is read ahead in 64 KB blocks,
    /// so it should end where the image ends (a length-limited view for a <c>$&lt;length&gt;</c> transfer).
    /// The caller owns the stream. False (logged) when the image is invalid: the dataset is then
    /// incomplete (the keys loaded so far stay, and writers of the dataset refuse) until the caller
    /// empties it or loads again.
    /// </summary>
    public static bool Load(PersistenceHost server, RdbState state, Stream source, long totalBytes, RdbLoadOptions options)
    {
        var loader = new RdbKeyLoader(server, state, state.Loading, source, options);
        state.Loading.Begin(totalBytes);
        bool loaded = loader.Load(long.MaxValue, out _);
        if (!loaded) LogError(server, options.Source, loader);
        state.Loading.End(loaded);
        return loaded;
    }

    static void LogError(PersistenceHost server, string source, RdbKeyLoader loader) =>
        server.Logger.LogWarning("Error loading the RDB {Path} at offset {Offset}: {Error}", source, loader.Position, loader.Error);

    protected override bool Slice(long deadline)
    {
        if (!_loader.Load(deadline, out bool finished))
        {
            Dispose();
            LogError(_server, _path, _loader);
            _done(false, null);
            return false;
        }
        if (!finished)
        {
            LogProgress();
            return true;
        }
        Dispose();
        _state.Loading.End(true);
        _done(true, _loader.ReplicationInfo);
        return false;
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
