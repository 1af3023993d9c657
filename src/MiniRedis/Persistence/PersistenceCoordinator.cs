using Microsoft.Extensions.Logging;
using MiniRedis.Execution;
using MiniRedis.Persistence.Aof;
using MiniRedis.Persistence.Dataset;
using MiniRedis.Io;
using MiniRedis.Persistence.Rdb;

namespace MiniRedis.Persistence;

/// <summary>
/// The one owner of persistence (the parts of Redis's server.c about it): the load order at start,
/// the loading progress, which background job may start (BGSAVE and the AOF rewrite never run
/// together), the write gate (MISCONF) the executor asks, and the order of the shutdown steps. The
/// AOF (<see cref="AofState"/>, <see cref="AofRewriter"/>) and the RDB (<see cref="RdbState"/>) are
/// services under it that do not reach each other. Executor thread only, except
/// <see cref="LoadAtStart"/> and <see cref="RemoveLeftovers"/> before the executor serves.
/// </summary>
public sealed class PersistenceCoordinator : IDiskWriteGate
{
    readonly PersistenceHost _server;

    internal PersistenceCoordinator(PersistenceHost server)
    {
        _server = server;
        Loading = new LoadingProgress(server.Keyspace);
        Rdb = new RdbState(server, Loading);
        Aof = new AofState(server, Loading, Rdb, CancelRewrite);
        AofRewrite = new AofRewriter(server, Aof);
    }

    /// <summary>What persistence reaches of the server; callers outside hand it to the loaders and the write gate.</summary>
    public PersistenceHost Host => _server;

    public LoadingProgress Loading { get; }
    public AofState Aof { get; }
    public AofRewriter AofRewrite { get; }
    public RdbState Rdb { get; }

    /// <summary>CONFIG SET appendonly no abandons the rewrite: the AOF reaches the rewriter only through here.</summary>
    void CancelRewrite() => AofRewrite.Cancel();

    /// <summary>Temporary files of writers a crash interrupted are removed before anything writes.</summary>
    internal void RemoveLeftovers() => TempFiles.RemoveLeftovers(_server.Config.Dir, _server.Logger);

    /// <summary>
    /// Redis's loadDataFromDisk: with appendonly yes and an AOF, the AOF alone; otherwise the RDB dump,
    /// then (appendonly yes) a new AOF that starts with the loaded dataset. <paramref name="done"/> (on
    /// the executor) gets whether the server may start.
    /// </summary>
    public void LoadAtStart(Action<bool> done)
    {
        // Until the data on disk is loaded, the empty keyspace must not be saved over it.
        _server.Keyspace.Complete = false;
        if (_server.Config.AppendOnly && Aof.HasDataToLoad)
        {
            Aof.Start(done);
            return;
        }
        Rdb.LoadAtStart(loaded =>
        {
            if (loaded) Aof.Start(done);
            else done(false);
        });
    }

    /// <summary>
    /// Before a replica's full sync empties the dataset (Redis's readSyncBulkPayload): a running
    /// background save is stopped, as Redis kills its child, so it does not put the old dataset over
    /// the new one on disk when it ends. A running AOF rewrite is stopped only with the AOF on (Redis
    /// stops the AOF, which kills the rewrite, and starts both again after the load); with the AOF
    /// off a BGREWRITEAOF goes on, as in Redis.
    /// </summary>
    public void StopJobsForFullSync()
    {
        if (Aof.Enabled) AofRewrite.Cancel();
        if (!Rdb.InProgress) return;
        _server.Logger.LogInformation("Replica is about to load the RDB file received from the master, but there is a pending RDB child running. Killing process {Pid} and removing its temp file to avoid any race",
            Environment.ProcessId);
        Rdb.CancelBackgroundSave();
    }

    /// <summary>
    /// A replica's full sync: the received dump into the emptied keyspace, in slices (clients get
    /// -LOADING meanwhile). With the AOF on, the file is then rewritten from the new dataset, as
    /// Redis's restartAOFAfterSYNC starts it over. <paramref name="done"/> (on the executor) gets the
    /// database the master's stream has selected (the dump's repl-stream-db, else 0), or null when
    /// the dump could not be loaded.
    /// </summary>
    public void LoadFullSync(string path, Action<int?> done) =>
        RdbLoading.StartReplicaSync(_server, Rdb, path, (loaded, replication) =>
        {
            if (!loaded)
            {
                done(null);
                return;
            }
            if (Aof.Enabled && (BackgroundJobRunning || AofRewrite.Start() is not null)) AofRewrite.Schedule();
            done(replication?.StreamDb ?? 0);
        });

    /// <summary>
    /// The text after "-" when write commands are refused because the disk failed (a background save
    /// under stop-writes-on-bgsave-error, an AOF write or fsync); null when writes are allowed.
    /// </summary>
    public string? WriteDeniedError => Rdb.WriteDeniedError ?? Aof.WriteDeniedError;

    /// <summary>Periodic work: a background job starts only while the other is not running; <paramref name="commandsProcessed"/> tells an idle server.</summary>
    internal void Cron(bool secondElapsed, long commandsProcessed)
    {
        Loading.PromoteLoadedKeysWhenIdle(commandsProcessed);
        AofRewrite.Cron(mayStart: !Rdb.InProgress);
        Rdb.Cron(mayStart: !AofRewrite.InProgress);
        if (secondElapsed) Aof.Cron();
    }

    /// <summary>A BGSAVE or an AOF rewrite runs (Redis's hasActiveChildProcess).</summary>
    public bool BackgroundJobRunning => Rdb.InProgress || AofRewrite.InProgress;

    /// <summary>
    /// A full sync's BGSAVE (Redis's startBgsaveForReplication), one background job like the others:
    /// false when another one runs or the dataset may not be saved. Its end is told by <see cref="RdbState.SaveDone"/>.
    /// </summary>
    public bool StartBackgroundSave() => !BackgroundJobRunning && Rdb.StartBackgroundSave() && Rdb.InProgress;

    /// <summary>
    /// A diskless full sync's background job (Redis's rdbSaveToSlavesSockets): the image streamed to
    /// <paramref name="target"/>; false when another job runs or the dataset may not be saved (the
    /// caller then keeps the target). Its end is told by <see cref="RdbState.SaveDone"/> too.
    /// </summary>
    public bool StartTransfer(IRdbSaveTarget target) => !BackgroundJobRunning && Rdb.StartTransfer(target);

    /// <summary>Redis's order at exit: the rewrite abandoned, the AOF flushed and fsynced, then the final save.</summary>
    internal void Shutdown()
    {
        if (AofRewrite.InProgress) _server.Logger.LogWarning("There is a child rewriting the AOF. Killing it!");
        AofRewrite.Cancel();
        Aof.Shutdown();
        Rdb.Shutdown();
    }
}
