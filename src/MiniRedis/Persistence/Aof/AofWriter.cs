using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Execution;
using MiniRedis.Io;
using MiniRedis.Protocol;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// The append-only file writer (Redis's aof.c feed/flush half): propagated records are encoded as
/// RESP into <c>aof_buf</c>, with a SELECT whenever the database changes and <c>#TS:</c>
/// annotations when enabled; <see cref="Flush"/> writes the buffer once per executor round before
/// replies leave, and fsyncs by <c>appendfsync</c>. Knows nothing about value types. Touched on the
/// executor thread only, except the everysec fsync thread's counters.
/// </summary>
public sealed class AofWriter : IPropagationSink, IDisposable
{
    /// <summary>Redis's AOF_WRITE_LOG_ERROR_RATE: write errors are logged at most every 30 seconds.</summary>
    const long WriteErrorLogIntervalMs = 30_000;

    readonly IAppendFile _file;
    readonly ServerConfig _config;
    readonly ILogger _logger;
    readonly Action<string> _fatal;
    readonly Thread _fsyncThread;
    readonly SemaphoreSlim _fsyncRequests = new(0);
    volatile bool _closing;

    readonly AofEncoder _buf = new();
    int _selectedDb = -1;
    long _lastTimestampSeconds;

    long _lastFsyncMs;
    /// <summary>What the last successful fsync covered (Redis's aof_fsync_offset); the fsync thread sets it too.</summary>
    long _fsyncedSize;
    /// <summary>The size the background fsync under way covers (one at a time).</summary>
    long _fsyncTarget;
    long _lastWriteErrorLogMs;
    long _lastRetryMs;
    int _pendingFsyncs;
    int _backgroundFsyncErrno;

    /// <param name="path">The AOF; created when missing, appended to otherwise.</param>
    /// <param name="disk">Where the file is opened, written and fsynced.</param>
    /// <param name="fatal">Stops the server: a write or fsync failed under <c>appendfsync always</c>.</param>
    public AofWriter(string path, IDisk disk, ServerConfig config, ILogger logger, Action<string> fatal)
    {
        Path = path;
        _config = config;
        _logger = logger;
        _fatal = fatal;
        _file = disk.OpenAppend(path);
        CurrentSize = _file.Length;
        BaseSize = CurrentSize;
        _fsyncedSize = CurrentSize;
        _lastFsyncMs = NowMs;
        _fsyncThread = new Thread(RunFsyncs) { Name = "miniredis-aof-fsync", IsBackground = true };
        _fsyncThread.Start();
    }

    public string Path { get; }

    /// <summary>Bytes in the file that are complete commands (aof_current_size).</summary>
    public long CurrentSize { get; private set; }

    /// <summary>Size when the file was opened or last rewritten (aof_base_size).</summary>
    public long BaseSize { get; private set; }

    /// <summary>Encoded commands not yet written (aof_buffer_length).</summary>
    public int BufferLength => _buf.Length;

    /// <summary>Background fsyncs queued or running (aof_pending_bio_fsync).</summary>
    public int PendingFsyncs => Volatile.Read(ref _pendingFsyncs);

    /// <summary>Writes done while a background fsync still ran (aof_delayed_fsync): everysec never waits for one.</summary>
    public long DelayedFsyncs { get; private set; }

    /// <summary>Where the aof-write* and aof-fsync-always latency events go.</summary>
    public Observability.LatencyMonitor? Latency { get; init; }

    /// <summary>CONFIG RESETSTAT.</summary>
    public void ResetStats() => DelayedFsyncs = 0;

    /// <summary>The errno of the last failed write (0 when the last write succeeded).</summary>
    public int LastWriteErrno { get; private set; }

    /// <summary>
    /// The errno that makes write commands fail with MISCONF: a failed write, or a failed background
    /// fsync (Redis's writeCommandsDeniedByDiskError); 0 when writes are allowed.
    /// </summary>
    public int DiskErrno => LastWriteErrno != 0 ? LastWriteErrno : Volatile.Read(ref _backgroundFsyncErrno);

    public bool LastWriteOk => LastWriteErrno == 0;

    /// <summary>Set while a rewrite runs under <c>no-appendfsync-on-rewrite yes</c>: writes happen, fsyncs wait.</summary>
    public bool FsyncSuspended { get; set; }

    static long NowMs => Environment.TickCount64;

    public void Append(int db, ArgVector args)
    {
        if (_config.AofTimestampEnabled)
        {
            // One annotation per second of wall time, before the command (genAofTimestampAnnotationIfNeeded).
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (now > _lastTimestampSeconds)
            {
                _lastTimestampSeconds = now;
                _buf.Timestamp(now);
            }
        }
        _buf.Record(db, ref _selectedDb, args);
    }

    /// <summary>Called once per executor round before replies are sent: the group-commit point.</summary>
    public void Flush() => Flush(force: false);

    /// <summary>
    /// Redis's flushAppendOnlyFile: write the buffer, then fsync by policy. Unlike Redis, everysec does
    /// not postpone the write while a background fsync runs (Redis waits up to 2 s and replies meanwhile):
    /// a reply leaves only once its write reached the kernel, so killing the process never loses an
    /// acknowledged write. <paramref name="force"/> writes even right after a failed write.
    /// </summary>
    public void Flush(bool force)
    {
        var policy = _config.AppendFsync;
        long now = NowMs;
        if (_buf.Length == 0)
        {
            // Writes that stopped within the second still get their fsync.
            // So does a failed fsync, again once a second until one succeeds (writes are refused meanwhile).
            if (policy == AppendFsyncPolicy.EverySec && !FsyncSuspended && Unsynced && now - _lastFsyncMs >= 1000 && PendingFsyncs == 0)
                RequestBackgroundFsync(now);
            return;
        }
        // After a failed write, retry once a second rather than every round.
        if (!LastWriteOk && !force && now - _lastRetryMs < 1000) return;
        if (policy == AppendFsyncPolicy.EverySec && PendingFsyncs > 0) DelayedFsyncs++;

        if (!WriteBuffer(policy, now)) return;

        // no-appendfsync-on-rewrite: the rewrite's disk writes are not competed with (Redis's aof_no_fsync_on_rewrite).
        if (FsyncSuspended) return;
        if (policy == AppendFsyncPolicy.Always)
        {
            long fsyncStart = Stopwatch.GetTimestamp();
            int errno = _file.DataSync();
            Latency?.AddSampleIfNeeded(Observability.LatencyEvents.AofFsyncAlways, (long)Stopwatch.GetElapsedTime(fsyncStart).TotalMilliseconds);
            if (errno != 0)
            {
                _fatal($"Can't persist AOF for fsync error when the AOF fsync policy is 'always': {Platform.ErrorText(errno)}. Exiting...");
                return;
            }
            Volatile.Write(ref _fsyncedSize, CurrentSize);
            _lastFsyncMs = now;
        }
        else if (policy == AppendFsyncPolicy.EverySec && now - _lastFsyncMs >= 1000 && PendingFsyncs == 0)
        {
            RequestBackgroundFsync(now);
        }
    }

    /// <summary>One write of the whole buffer; on failure the file is cut back to its last complete command.</summary>
    bool WriteBuffer(AppendFsyncPolicy policy, long now)
    {
        _lastRetryMs = now;
        bool fsyncPending = PendingFsyncs > 0;
        long writeStart = Stopwatch.GetTimestamp();
        long written = _file.Write(_buf.Written, CurrentSize, out int errno);
        RecordWriteLatency((long)Stopwatch.GetElapsedTime(writeStart).TotalMilliseconds, fsyncPending);
        if (written == _buf.Length)
        {
            CurrentSize += written;
            _buf.Consume(_buf.Length);
            if (!LastWriteOk)
            {
                _logger.LogWarning("AOF write error looks solved, Redis can write again.");
                LastWriteErrno = 0;
            }
            return true;
        }

        bool logNow = now - _lastWriteErrorLogMs >= WriteErrorLogIntervalMs;
        if (logNow) _lastWriteErrorLogMs = now;
        if (written < 0)
        {
            if (logNow) _logger.LogWarning("Error writing to the AOF file: {Error}", Platform.ErrorText(errno));
        }
        else
        {
            if (logNow) _logger.LogWarning("Short write while writing to the AOF file: (nwritten={Written}, expected={Expected})", written, _buf.Length);
            errno = Platform.ENOSPC;
            int truncateErrno = _file.Truncate(CurrentSize);
            if (truncateErrno != 0)
            {
                // The partial command stays in the file: keep the rest of the buffer after it.
                if (logNow) _logger.LogWarning("Could not remove short write from the append-only file. Redis may refuse to load the AOF the next time it starts. ftruncate: {Error}", Platform.ErrorText(truncateErrno));
                CurrentSize += written;
                _buf.Consume((int)written);
            }
        }

        if (policy == AppendFsyncPolicy.Always)
        {
            // An acknowledged write must be on disk: stop rather than reply.
            _fatal("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
            return false;
        }
        LastWriteErrno = errno;
        return false;
    }

    /// <summary>As Redis's flushAppendOnlyFile: the write's latency under its circumstance (no fork here: never with an active child), and as aof-write.</summary>
    void RecordWriteLatency(long milliseconds, bool fsyncPending)
    {
        if (Latency is not { } latency) return;
        latency.AddSampleIfNeeded(fsyncPending ? Observability.LatencyEvents.AofWritePendingFsync : Observability.LatencyEvents.AofWriteAlone, milliseconds);
        latency.AddSampleIfNeeded(Observability.LatencyEvents.AofWrite, milliseconds);
    }

    /// <summary>Bytes written that no successful fsync covers yet.</summary>
    bool Unsynced => Volatile.Read(ref _fsyncedSize) != CurrentSize;

    /// <summary>
    /// Hands an fsync to the fsync thread. The fsynced size moves only when it succeeds: after a failed
    /// one the file still counts as unsynced, so the next second tries again and a success reopens
    /// the write gate (marking it synced at the request kept MISCONF for good once writes stopped).
    /// </summary>
    void RequestBackgroundFsync(long now)
    {
        Interlocked.Increment(ref _pendingFsyncs);
        _fsyncTarget = CurrentSize;
        _lastFsyncMs = now;
        _fsyncRequests.Release();
    }

    void RunFsyncs()
    {
        while (true)
        {
            _fsyncRequests.Wait();
            if (_closing) return;
            long target = _fsyncTarget;
            int errno = _file.DataSync();
            if (errno != 0)
            {
                _logger.LogWarning("Fail to fsync the AOF file: {Error}", Platform.ErrorText(errno));
            }
            else
            {
                Volatile.Write(ref _fsyncedSize, target);
            }
            Volatile.Write(ref _backgroundFsyncErrno, errno);
            Interlocked.Decrement(ref _pendingFsyncs);
        }
    }

    /// <summary>Once a second from the cron: retries a failed write, and gives everysec its fsync once writes stopped.</summary>
    public void Cron()
    {
        if (_buf.Length > 0 || Unsynced) Flush(force: false);
    }

    /// <summary>Writes everything and fsyncs whatever the policy (shutdown, appendonly no).</summary>
    public bool FlushAndSync()
    {
        Flush(force: true);
        while (PendingFsyncs > 0) Thread.Sleep(1);
        if (_buf.Length > 0) return false;
        int errno = _file.DataSync();
        if (errno != 0)
        {
            _logger.LogWarning("Fail to fsync the AOF file: {Error}", Platform.ErrorText(errno));
            return false;
        }
        Volatile.Write(ref _fsyncedSize, CurrentSize);
        return true;
    }

    /// <summary>Forgets the selected database, so the next record starts with a SELECT (after the file was replaced).</summary>
    public void ResetSelectedDb() => _selectedDb = -1;

    public void Dispose()
    {
        _closing = true;
        _fsyncRequests.Release();
        if (Thread.CurrentThread != _fsyncThread) _fsyncThread.Join();
        _file.Dispose();
        _fsyncRequests.Dispose();
    }
}
