using Microsoft.Extensions.Logging;
using MiniRedis.Persistence.Dataset;

namespace MiniRedis.Persistence.Rdb;

/// <summary>
/// The server's RDB snapshots, as Redis's rdb.c server side: SAVE, BGSAVE (one
/// <see cref="RdbSaveJob"/> at a time, never together with an AOF rewrite), the save rules checked
/// by the cron, the change counter since the last save, loading the dump at start, the final save
/// at shutdown, the -MISCONF refusal after a failed background save, and the INFO persistence
/// values. Executor thread only (INFO reads are made there too).
/// </summary>
public sealed class RdbState
{
    /// <summary>Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save rules and scheduled saves wait this long.</summary>
    const long RetryDelaySeconds = 5;

    const string MisconfError =
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

    enum ShutdownPlan : byte { Default, NoSave, Saved }

    readonly PersistenceHost _server;
    RdbSaveJob? _job;
    long _dirtyAtLastSave;
    long _lastBgsaveTry;
    long _jobStartSeconds;
    ShutdownPlan _shutdownPlan;

    internal RdbState(PersistenceHost server, LoadingProgress loading)
    {
        _server = server;
        Loading = loading;
        LastSaveTime = UnixSeconds();
    }

    /// <summary>Where the loader reports its progress.</summary>
    internal LoadingProgress Loading { get; }

    static long UnixSeconds() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public string FilePath => Path.Combine(_server.Config.Dir, _server.Config.DbFilename);

    // ---- INFO persistence ------------------------------------------------------------------

    /// <summary>rdb_changes_since_last_save: Redis's server.dirty, counted from the last successful save.</summary>
    public long ChangesSinceLastSave => _server.Dirty - _dirtyAtLastSave;

    /// <summary>rdb_bgsave_in_progress.</summary>
    public bool InProgress => _job is not null;

    /// <summary>A BGSAVE SCHEDULE (or one asked for inside MULTI) waits for the running AOF rewrite.</summary>
    public bool Scheduled { get; private set; }

    /// <summary>rdb_last_save_time and LASTSAVE: unix seconds of the last successful save (start time until then).</summary>
    public long LastSaveTime { get; private set; }

    /// <summary>rdb_last_bgsave_status: false after a failed background save, until a save succeeds.</summary>
    public bool LastBgsaveOk { get; private set; } = true;

    public long LastBgsaveTimeSec { get; private set; } = -1;
    public long CurrentBgsaveTimeSec => _job is null ? -1 : UnixSeconds() - _jobStartSeconds;

    /// <summary>rdb_saves: SAVE commands and background saves started.</summary>
    public long Saves { get; private set; }

    /// <summary>CONFIG RESETSTAT: rdb_saves.</summary>
    public void ResetStats() => Saves = 0;

    public long LastCowSize { get; private set; }
    public long CurrentCowSize => _job?.CowBytes ?? 0;
    public long CurrentKeysProcessed => _job?.KeysProcessed ?? 0;
    public long CurrentKeysTotal => _job?.KeysTotal ?? 0;

    public long LastLoadKeysLoaded { get; internal set; }
    public long LastLoadKeysExpired { get; internal set; }

    /// <summary>loading_rdb_used_mem: the used-mem AUX field of the dump being loaded.</summary>
    public long LoadingRdbUsedMem { get; internal set; }

    /// <summary>
    /// The text after "-" when write commands must be refused because a background save failed and
    /// <c>stop-writes-on-bgsave-error</c> is on (only while save points are configured, as Redis);
    /// null when writes are allowed.
    /// </summary>
    public string? WriteDeniedError =>
        !LastBgsaveOk && _server.Config.StopWritesOnBgsaveError && _server.Config.SaveRules.Count > 0 ? MisconfError : null;

    // ---- saving ------------------------------------------------------------------------------

    /// <summary>SAVE: the dataset written now, on the executor. Counts in rdb_saves.</summary>
    public bool SaveCommand()
    {
        Saves++;
        return Save();
    }

    /// <summary>
    /// A blocking save (SAVE, FLUSHALL, SHUTDOWN, DEBUG RELOAD; Redis's rdbSave). On success the
    /// change counter restarts and a failed background save no longer blocks writes.
    /// </summary>
    public bool Save()
    {
        if (!DatasetGate.Allows(_server, "Saving the RDB")) return false;
        var config = _server.Config;
        bool saved;
        using (var file = RdbFileStream.Create(_server.Disk, config.Dir, background: false, config.RdbSaveIncrementalFsync, _server.Logger))
        {
            if (file is null) return false;
            saved = file.WriteAndCommit(
                sink => RdbWriter.WriteDataset(_server.Keyspace, _server.Functions.Codes(), sink, config.RdbCompression, config.RdbChecksum, aofBase: false,
                    ReplicationInfo?.Invoke()), FilePath);
        }
        if (!saved) return false;
        _server.Logger.LogInformation("DB saved on disk");
        RecordSuccess(_server.Dirty);
        return true;
    }

    void RecordSuccess(long dirtyOfImage)
    {
        _dirtyAtLastSave = dirtyOfImage;
        LastSaveTime = UnixSeconds();
        LastBgsaveOk = true;
    }

    /// <summary>
    /// BGSAVE: starts a background save (Redis's rdbSaveBackground). Like a forked child that fails
    /// at once, a temporary file that cannot be created ends the save as failed right away. False
    /// when the dataset is incomplete (<see cref="DatasetGate"/>): nothing started.
    /// </summary>
    public bool StartBackgroundSave()
    {
        if (!DatasetGate.Allows(_server, "Background saving")) return false;
        var config = _server.Config;
        Saves++;
        BeginJob();
        _server.Logger.LogInformation("Background saving started by pid {Pid}", Environment.ProcessId);
#pragma warning disable CA2000 // the job owns its target and disposes of it when it finishes or is cancelled
        var file = RdbFileStream.Create(_server.Disk, config.Dir, background: true, config.RdbSaveIncrementalFsync, _server.Logger);
        if (file is null)
        {
            RecordFailure();
            return true;
        }
        Run(new RdbDumpTarget(file, FilePath, _server.Logger));
#pragma warning restore CA2000
        return true;
    }

    /// <summary>
    /// A diskless full sync (Redis's rdbSaveToSlavesSockets): the same background job, its image
    /// written to <paramref name="target"/> instead of the dump. It is not a save: rdb_saves, the
    /// last save time and the change counter stay; only the job's time is kept. False when the
    /// dataset is incomplete: nothing started, and the caller keeps the target.
    /// </summary>
    public bool StartTransfer(IRdbSaveTarget target)
    {
        if (!DatasetGate.Allows(_server, "Background saving")) return false;
        BeginJob();
        Run(target);
        _server.Logger.LogInformation("Background RDB transfer started by pid {Pid}", Environment.ProcessId);
        return true;
    }

    void BeginJob()
    {
        _lastBgsaveTry = UnixSeconds();
        _jobStartSeconds = _lastBgsaveTry;
        Scheduled = false;
    }

    void Run(IRdbSaveTarget target)
    {
        var job = new RdbSaveJob(_server, target) { Finished = Finish, ReplicationInfo = ReplicationInfo };
        _job = job;
        // The instant is now, as Redis forks inside BGSAVE: commands after it, even pipelined
        // behind it, are not in the image. (Inside EXEC it is scheduled instead, so nothing of a
        // transaction is ever half in.)
        job.Begin();
    }

    /// <summary>The running job writes to replicas' sockets (Redis's rdb_child_type socket).</summary>
    public bool TransferInProgress => _job is { ToSockets: true };

    /// <summary>The replication history a dump taken now is at (Redis's rdbPopulateSaveInfo, on the executor); null when there is none.</summary>
    internal Func<RdbReplicationInfo?>? ReplicationInfo { get; set; }

    /// <summary>Told (on the executor) that the dump loaded at start is in, with its replication history when it has one.</summary>
    internal Action<RdbReplicationInfo?>? ReplicationInfoLoaded { get; set; }

    /// <summary>
    /// Told (on the executor, during the load at start of a master) each key the dump holds whose TTL
    /// already passed: it is not loaded, and its database and name go to the replication stream as a
    /// DEL (Redis's RDBFLAGS_FEED_REPL).
    /// </summary>
    internal Action<int, byte[]>? ExpiredAtLoad { get; set; }

    /// <summary>Told (on the executor) when a background save ends, saved or not, or is abandoned: replicas wait for it.</summary>
    internal Action<bool>? SaveDone { get; set; }

    /// <summary>BGSAVE SCHEDULE while an AOF rewrite runs: the cron starts it once the rewrite is over.</summary>
    public void Schedule() => Scheduled = true;

    void Finish(RdbSaveJob job, bool saved)
    {
        if (_job != job) return;
        _job = null;
        if (job.ToSockets)
        {
            // Redis's backgroundSaveDoneHandlerSocket: the dump and the save status are untouched.
            if (!saved) job.Cancel();
            else job.Dispose();
            if (saved) _server.Logger.LogInformation("Background RDB transfer terminated with success");
            else _server.Logger.LogWarning("Background transfer error");
            LastBgsaveTimeSec = UnixSeconds() - _jobStartSeconds;
            SaveDone?.Invoke(saved);
            return;
        }
        if (!saved)
        {
            // A failed write can end the writer while the snapshot still walks (or holds captured
            // keys to hand over): stop the snapshot before the queue it feeds goes away.
            job.Cancel();
            RecordFailure();
            SaveDone?.Invoke(false);
            return;
        }
        job.Dispose();
        _server.Logger.LogInformation("Background saving terminated with success");
        RecordSuccess(job.DirtyAtInstant);
        LastBgsaveTimeSec = UnixSeconds() - _jobStartSeconds;
        LastCowSize = job.CowBytes;
        SaveDone?.Invoke(true);
    }

    void RecordFailure()
    {
        _server.Logger.LogWarning("Background saving error");
        LastBgsaveOk = false;
        LastBgsaveTimeSec = UnixSeconds() - _jobStartSeconds;
    }

    /// <summary>The signal Redis kills its children with (SIGUSR1 on Linux), which its logs of a killed save name.</summary>
    const int KillSignal = 10;

    /// <summary>
    /// Abandons a running background save (FLUSHALL, a replica's full sync, the last diskless replica
    /// gone): the dump stays as it was. Logged as Redis logs the child it killed with SIGUSR1 once it
    /// reaps it, and, as that signal is, not a failure.
    /// </summary>
    public void CancelBackgroundSave()
    {
        if (_job is not { } job) return;
        Abandon();
        if (job.ToSockets) _server.Logger.LogWarning("Background transfer terminated by signal {Signal}", KillSignal);
        else _server.Logger.LogWarning("Background saving terminated by signal {Signal}", KillSignal);
    }

    /// <summary>Stops the running job; at shutdown, where Redis exits without reaping its killed child (nothing more is logged).</summary>
    void Abandon()
    {
        if (_job is not { } job) return;
        _job = null;
        LastBgsaveTimeSec = UnixSeconds() - _jobStartSeconds;
        job.Cancel();
        SaveDone?.Invoke(false);
    }

    /// <summary>Retries wait <see cref="RetryDelaySeconds"/> after a failed background save.</summary>
    bool RetryAllowed => LastBgsaveOk || UnixSeconds() - _lastBgsaveTry > RetryDelaySeconds;

    /// <summary>
    /// From the cron (Redis's serverCron): with no background job running, a save rule that is met
    /// (at least <c>changes</c> changes and more than <c>seconds</c> since the last save) starts a
    /// BGSAVE; otherwise a scheduled one starts.
    /// </summary>
    /// <param name="mayStart">No other background job runs (the coordinator's rule).</param>
    internal void Cron(bool mayStart)
    {
        // An incomplete dataset waits, silently: the save that meets a rule is refused anyway.
        if (_job is not null || !mayStart || !RetryAllowed || !_server.Keyspace.Complete) return;
        long sinceLastSave = UnixSeconds() - LastSaveTime;
        foreach (var rule in _server.Config.SaveRules)
        {
            if (ChangesSinceLastSave < rule.Changes || sinceLastSave <= rule.Seconds) continue;
            _server.Logger.LogInformation("{Changes} changes in {Seconds} seconds. Saving...", rule.Changes, rule.Seconds);
            StartBackgroundSave();
            return;
        }
        if (Scheduled) StartBackgroundSave();
    }

    // ---- start and shutdown -------------------------------------------------------------------

    /// <summary>At start: the dump is loaded into the keyspace (clients get -LOADING meanwhile); <paramref name="done"/> (on the executor) gets whether the server may start.</summary>
    public void LoadAtStart(Action<bool> done) => RdbLoading.Start(_server, this, FilePath, done);

    /// <summary>
    /// SHUTDOWN's save, on the executor so a failure can be replied (Redis's finishShutdown): a
    /// running background save is abandoned first. False when the save failed.
    /// </summary>
    public bool SaveForShutdown()
    {
        if (_job is not null) _server.Logger.LogWarning("There is a child saving an .rdb. Killing it!");
        Abandon();
        _server.Logger.LogInformation("Saving the final RDB snapshot before exiting.");
        if (!Save()) return false;
        _shutdownPlan = ShutdownPlan.Saved;
        return true;
    }

    /// <summary>SHUTDOWN NOSAVE: the stop that follows saves nothing.</summary>
    public void SkipShutdownSave() => _shutdownPlan = ShutdownPlan.NoSave;

    /// <summary>
    /// When the process stops (after the executor, so nothing else touches the keyspace): a running
    /// background save is abandoned, and with save points configured the dataset is saved, as
    /// Redis does on SIGTERM. After SHUTDOWN saved, only changes made since are saved again. A stop
    /// during a load, or after one that failed, saves nothing (<see cref="DatasetGate"/>).
    /// </summary>
    internal void Shutdown()
    {
        if (_job is not null) _server.Logger.LogWarning("There is a child saving an .rdb. Killing it!");
        Abandon();
        bool save = _shutdownPlan switch
        {
            ShutdownPlan.NoSave => false,
            ShutdownPlan.Saved => ChangesSinceLastSave > 0,
            _ => _server.Config.SaveRules.Count > 0,
        };
        if (!save || !DatasetGate.Allows(_server, "The final RDB snapshot")) return;
        _server.Logger.LogInformation("Saving the final RDB snapshot before exiting.");
        if (!Save()) _server.Logger.LogWarning("Error trying to save the DB. Exit anyway.");
    }
}
