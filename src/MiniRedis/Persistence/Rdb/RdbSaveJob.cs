using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MiniRedis.Io;
using MiniRedis.Persistence.Dataset;
using MiniRedis.Persistence.Snapshot;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// One BGSAVE without fork. At its instant (between two execution units) a
/// <see cref="KeyspaceSnapshot"/> starts; a writer thread turns its records into an RDB image with
/// <see cref="DatasetImageWriter"/> into its <see cref="IRdbSaveTarget"/>: <c>temp-bgsave-&lt;pid&gt;.rdb</c>, then fsynced,
/// renamed over the dump and the directory fsynced (<see cref="RdbDumpTarget"/>), or the sockets of
/// replicas in a diskless full sync. Records may come out of database order (a command
/// reaching a key first takes it early): the image then selects a database again, which every RDB
/// loader accepts. Memory stays bounded: the walk pauses while too many copied keys wait for the
/// writer thread. <c>rdb-key-save-delay</c> (µs per key, Redis's testing aid) slows the writer.
/// </summary>
public sealed class RdbSaveJob : ISnapshotConsumer, IDisposable
{
    /// <summary>The walk pauses above this many copied keys waiting to be written, and resumes below the low mark.</summary>
    const int HighWaterRecords = 1024;
    const int LowWaterRecords = 256;

    readonly PersistenceHost _server;
    readonly IRdbSaveTarget _target;
    readonly BlockingCollection<SnapshotChunk> _queue = new();
    readonly Thread _thread;
    readonly ManualResetEventSlim _cancelled = new();
    readonly long _startTicks = Stopwatch.GetTimestamp();
    DatasetImageWriter? _image;
    KeyspaceSnapshot? _snapshot;
    int _pendingRecords;
    long _cowBytes;

    /// <summary>The replication history at the instant, for the dump's AUX fields (<see cref="RdbState.ReplicationInfo"/>).</summary>
    internal Func<RdbReplicationInfo?>? ReplicationInfo { get; init; }

    public RdbSaveJob(PersistenceHost server, IRdbSaveTarget target)
    {
        _server = server;
        _target = target;
        _thread = new Thread(RunWriter) { Name = "miniredis-rdb-bgsave", IsBackground = true };
    }

    /// <summary>The image goes to replicas' sockets (Redis's RDB_CHILD_TYPE_SOCKET), not to the dump.</summary>
    public bool ToSockets => _target.IsSocket;

    /// <summary>Called on the executor when the job ended by itself: whether the dump is now in place.</summary>
    public Action<RdbSaveJob, bool>? Finished { get; set; }

    /// <summary>The change counter at the instant: what the saved image holds (Redis's dirty_before_bgsave).</summary>
    public long DirtyAtInstant { get; private set; }

    /// <summary>Bytes written for keys a command reached before the walk did (current_cow_size).</summary>
    public long CowBytes => Interlocked.Read(ref _cowBytes);

    public long KeysProcessed => _snapshot?.KeysProcessed ?? 0;
    public long KeysTotal => _snapshot?.KeysTotal ?? 0;
    public double ElapsedSeconds => Stopwatch.GetElapsedTime(_startTicks).TotalSeconds;

    /// <summary>The instant: on the executor, outside any transaction (nothing half-done is saved).</summary>
    public void Begin()
    {
        DirtyAtInstant = _server.Dirty;
        _image = new RdbImageWriter(_target.Sink, _server.Config, _server.Keyspace, _server.Functions.Codes(), aofBase: false,
            ReplicationInfo?.Invoke());
        _snapshot = KeyspaceSnapshot.Start(_server.Keyspace, _server.Executor, this);
        _thread.Start();
    }

    // ---- executor side -------------------------------------------------------------------

    public void Add(SnapshotChunk chunk)
    {
        Interlocked.Add(ref _pendingRecords, chunk.Count);
        _queue.Add(chunk);
    }

    public bool Backlogged => Volatile.Read(ref _pendingRecords) > HighWaterRecords;

    public void Completed() => _queue.CompleteAdding();

    /// <summary>Stops the job (FLUSHALL, SHUTDOWN, a failure): the dump stays as it was and the temporary file is removed.</summary>
    public void Cancel()
    {
        _cancelled.Set();
        _snapshot?.Cancel();
        if (!_queue.IsAddingCompleted) _queue.CompleteAdding();
        _target.Interrupt();
        if (_thread.IsAlive && Thread.CurrentThread != _thread) _thread.Join();
        _target.Abandon();
        Dispose();
    }

    /// <summary>After <see cref="Finished"/> or <see cref="Cancel"/>: the writer thread is gone.</summary>
    public void Dispose()
    {
        _target.Dispose();
        _queue.Dispose();
        _cancelled.Dispose();
    }

    // ---- writer thread -------------------------------------------------------------------

    void RunWriter()
    {
        Platform.LowerCurrentThreadPriority(KeyspaceSnapshot.WriterNiceness);
        var config = _server.Config;
        try
        {
            foreach (var chunk in _queue.GetConsumingEnumerable())
            {
                int count = chunk.Count;
                for (int i = 0; i < count; i++)
                {
                    if (_cancelled.IsSet) return;
                    long copied = _image!.Write(chunk, i);
                    if (copied != 0) Interlocked.Add(ref _cowBytes, copied);
                    if (KeySaveDelay.After(config.RdbKeySaveDelay) is { Ticks: > 0 } delay) _cancelled.Wait(delay);
                }
                _snapshot!.Return(chunk);
                if (Interlocked.Add(ref _pendingRecords, -count) <= LowWaterRecords) _snapshot.Resume();
            }
            if (_cancelled.IsSet) return;
            _image!.End();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (_cancelled.IsSet) return;
            _target.WriteFailed(e);
            _server.Executor.Post(() => Finished?.Invoke(this, false));
            return;
        }
        bool saved = _target.Complete();
        if (saved) _server.Logger.LogInformation("Snapshot CoW for RDB: current {Mb} MB", CowBytes / (1024 * 1024));
        _server.Executor.Post(() => Finished?.Invoke(this, saved));
    }
}
