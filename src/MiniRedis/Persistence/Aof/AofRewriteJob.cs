using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MiniRedis.Execution;
using MiniRedis.Persistence.Dataset;
using MiniRedis.Io;
using MiniRedis.Persistence.Snapshot;
using MiniRedis.Protocol;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// One background AOF rewrite without fork. At its instant (between two execution units) a
/// <see cref="KeyspaceSnapshot"/> starts and this job joins the propagation sinks as the rewrite
/// buffer: every write logged after the instant is encoded here too. A writer thread turns the
/// snapshot's records into the AOF base in a <see cref="ReplacementFile"/> (<see cref="TempFiles.AofRewrite"/>) (an RDB image
/// with <c>aof-use-rdb-preamble yes</c>, as Redis 7.0 writes it, or the <see cref="AofRewriteEmitter"/>
/// program; the directive is read when the rewrite starts); the rewrite buffer goes to a spill file
/// meanwhile (the base must be complete before any later command replays), is appended when the snapshot is
/// written, and from then on is drained into the new file as it comes. The executor's final switch
/// only waits for the small remaining tail: write, then the replacement's commit.
/// Memory stays bounded: the walk pauses while too many copied keys wait for the writer thread.
/// </summary>
public sealed class AofRewriteJob : ISnapshotConsumer, IPropagationSink, IDisposable
{
    /// <summary>The walk pauses above this many copied keys waiting to be written, and resumes below the low mark.</summary>
    const int HighWaterRecords = 1024;
    const int LowWaterRecords = 256;
    /// <summary>The final switch waits until at most this many rewrite-buffer chunks are queued.</summary>
    const int SwitchBacklog = 8;

    enum Kind : byte { Keys, SnapshotWritten, Tail, Finish }

    readonly record struct Item(Kind Kind, SnapshotChunk? Keys = null, byte[]? Bytes = null);

    readonly PersistenceHost _server;
    readonly BlockingCollection<Item> _queue = new();
    readonly Thread _thread;
    readonly string _targetPath;
    readonly bool _keepsTail;
    readonly ReplacementFile _temp;
    DatasetImageWriter? _base;
    readonly ManualResetEventSlim _finished = new();
    readonly AofEncoder _tail = new();
    readonly long _startTicks = Stopwatch.GetTimestamp();
    FileStream? _spill;
    KeyspaceSnapshot? _snapshot;
    int _tailDb = -1;
    int _pendingRecords;
    long _cowBytes;
    long _keysWritten;
    long _incrementalSyncedAt;
    volatile bool _snapshotWritten;
    volatile bool _cancelled;
    volatile Exception? _error;

    /// <summary>Creates the temporary files; throws IOException when they cannot be.</summary>
    /// <param name="keepsTail">
    /// Writes after the instant follow the snapshot in the new file (the AOF is on). With the AOF off, as in
    /// Redis 7 (no INCR file then), the file is the snapshot alone, and the clients' writes during the rewrite
    /// are not propagated here (with no other sink, not at all).
    /// </param>
    public AofRewriteJob(PersistenceHost server, string targetPath, bool keepsTail)
    {
        _server = server;
        _targetPath = targetPath;
        _keepsTail = keepsTail;
        string dir = Path.GetDirectoryName(Path.GetFullPath(targetPath))!;
        SpillPath = Path.Combine(dir, TempFiles.AofRewriteBuffer);
        // Unbuffered: the emitter and the rewrite buffer already write in large chunks, and a failed
        // write surfaces where it happens instead of again when the stream is disposed.
        _temp = ReplacementFile.Create(server.Disk, Path.Combine(dir, TempFiles.AofRewrite));
        _spill = new FileStream(SpillPath, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        _thread = new Thread(RunWriter) { Name = "miniredis-aof-rewrite", IsBackground = true };
    }

    public string TempPath => _temp.TempPath;
    string SpillPath { get; }

    /// <summary>Bytes of keys copied because a command reached them before the walk (current_cow_size).</summary>
    public long CowBytes => Interlocked.Read(ref _cowBytes);

    public long KeysProcessed => _snapshot?.KeysProcessed ?? 0;
    public long KeysTotal => _snapshot?.KeysTotal ?? 0;
    public double ElapsedSeconds => Stopwatch.GetElapsedTime(_startTicks).TotalSeconds;

    /// <summary>The error that ended the writer thread, if any.</summary>
    public Exception? Error => _error;

    /// <summary>Called by the writer thread when it failed, to be handled on the executor.</summary>
    public Action<AofRewriteJob>? Failed { get; set; }

    /// <summary>The instant: on the executor, between execution units (nothing half-propagated).</summary>
    public void Begin()
    {
        if (_cancelled) return;
        _base = AofBase.NewWriter(_temp.Stream, _server.Config, _server.Keyspace, _server.Functions.Codes());
        _snapshot = KeyspaceSnapshot.Start(_server.Keyspace, _server.Executor, this);
        if (_keepsTail) _server.Propagation.AddSink(this);
        _thread.Start();
    }

    // ---- executor side -------------------------------------------------------------------

    public void Add(SnapshotChunk chunk)
    {
        Interlocked.Add(ref _pendingRecords, chunk.Count);
        _queue.Add(new Item(Kind.Keys, chunk));
    }

    public bool Backlogged => Volatile.Read(ref _pendingRecords) > HighWaterRecords;

    public void Completed() => _queue.Add(new Item(Kind.SnapshotWritten));

    /// <summary>The rewrite buffer: the same records the AOF gets, with a SELECT first (this stream starts fresh).</summary>
    public void Append(int db, ArgVector args) => _tail.Record(db, ref _tailDb, args);

    /// <summary>Once per executor round: the round's records go to the writer thread.</summary>
    public void Flush()
    {
        if (_tail.Length == 0) return;
        _queue.Add(new Item(Kind.Tail, Bytes: _tail.Written.ToArray()));
        _tail.Consume(_tail.Length);
    }

    /// <summary>The snapshot is in the new file and the drained rewrite buffer is small: time for the final switch.</summary>
    public bool ReadyToSwitch => _snapshotWritten && _queue.Count <= SwitchBacklog;

    /// <summary>
    /// The final switch, on the executor between execution units: no more records come here; the
    /// tail is written, fsynced and the file renamed over the AOF. Blocks only for that tail.
    /// True when the new file is in place; false with <see cref="Error"/> set otherwise.
    /// </summary>
    public bool Switch(out long tailBytes)
    {
        _server.Propagation.RemoveSink(this);
        Flush();
        tailBytes = _queue.Sum(item => item.Bytes?.LongLength ?? 0);
        _queue.Add(new Item(Kind.Finish));
        _finished.Wait();
        return _error is null;
    }

    /// <summary>Stops the job (appendonly no, shutdown, a failure): the AOF stays as it was; temporary files are removed.</summary>
    public void Cancel()
    {
        _cancelled = true;
        _snapshot?.Cancel();
        _server.Propagation.RemoveSink(this);
        _queue.CompleteAdding();
        if (_thread.IsAlive && Thread.CurrentThread != _thread) _thread.Join();
        Dispose();
        File.Delete(SpillPath);
    }

    public void Dispose()
    {
        _temp.Dispose();
        _spill?.Dispose();
        _finished.Dispose();
        _queue.Dispose();
    }

    // ---- writer thread -------------------------------------------------------------------

    void RunWriter()
    {
        Platform.LowerCurrentThreadPriority(KeyspaceSnapshot.WriterNiceness);
        try
        {
            foreach (var item in _queue.GetConsumingEnumerable())
            {
                if (_cancelled) return;
                switch (item.Kind)
                {
                    case Kind.Keys:
                        if (!WriteKeys(item.Keys!)) return;
                        break;
                    case Kind.Tail:
                        (_snapshotWritten ? _temp.Stream : _spill!).Write(item.Bytes);
                        break;
                    case Kind.SnapshotWritten:
                        AppendSpill();
                        break;
                    case Kind.Finish:
                        Finish();
                        return;
                }
                SyncIncrementally();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _error = e;
            _finished.Set();
            if (!_cancelled) _server.Executor.Post(() => Failed?.Invoke(this));
        }
    }

    /// <summary>Writes a chunk of the snapshot's keys and gives it back; false when the job was cancelled meanwhile.</summary>
    bool WriteKeys(SnapshotChunk chunk)
    {
        int count = chunk.Count;
        for (int i = 0; i < count; i++)
        {
            if (_cancelled) return false;
            _keysWritten++;
            long copied = _base!.Write(chunk, i);
            if (copied != 0) Interlocked.Add(ref _cowBytes, copied);
            // Redis's rewrite honours rdb-key-save-delay too; a cancel waits out at most one key's delay.
            if (KeySaveDelay.After(_server.Config.RdbKeySaveDelay) is { Ticks: > 0 } delay) Thread.Sleep(delay);
        }
        _snapshot!.Return(chunk);
        if (Interlocked.Add(ref _pendingRecords, -count) <= LowWaterRecords) _snapshot.Resume();
        return true;
    }

    /// <summary>The snapshot's base is complete: the rewrite buffer spilled so far follows it as commands, then the live tail.</summary>
    void AppendSpill()
    {
        _base!.End();
        var spill = _spill!;
        spill.Position = 0;
        spill.CopyTo(_temp.Stream);
        spill.Dispose();
        _spill = null;
        File.Delete(SpillPath);
        // The bulk reaches the disk now, so the final switch only syncs the tail.
        _temp.Sync();
        _incrementalSyncedAt = _temp.Stream.Position;
        _server.Logger.LogInformation("Successfully created the temporary AOF base file {File} ({Keys} keys)", Path.GetFileName(TempPath), _keysWritten);
        _server.Logger.LogInformation("Snapshot CoW for AOF rewrite: current {Mb} MB", CowBytes / (1024 * 1024));
        _snapshotWritten = true;
    }

    /// <summary>aof-rewrite-incremental-fsync: the new file is synced every 4 MB, so no fsync has much to write at once.</summary>
    void SyncIncrementally()
    {
        const long Every = 4L << 20;
        if (!_server.Config.AofRewriteIncrementalFsync || _temp.Stream.Position - _incrementalSyncedAt < Every) return;
        _temp.Sync();
        _incrementalSyncedAt = _temp.Stream.Position;
    }

    void Finish()
    {
        int errno = _temp.Commit(_targetPath);
        if (errno != 0) _server.Logger.LogWarning("Failed to fsync the AOF directory after the rewrite: {Error}", Platform.ErrorText(errno));
        _finished.Set();
    }
}
