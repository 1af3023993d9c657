using Microsoft.Extensions.Logging;
using MiniRedis.Persistence.Dataset;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// BGREWRITEAOF's server side (Redis's rewriteAppendOnlyFileBackground and its completion
/// handler): at most one <see cref="AofRewriteJob"/> at a time, the switch to the new file, and
/// the INFO persistence counters. Executor thread only.
/// </summary>
public sealed class AofRewriter
{
    /// <summary>Redis 7's AOF_REWRITE_LIMITE_THRESHOLD / _MAX_MINUTES: automatic retries back off after this many failures in a row.</summary>
    const int FailuresBeforeBackoff = 3;
    const int MaxBackoffMinutes = 60;

    readonly PersistenceHost _server;
    AofRewriteJob? _job;
    int _backoffMinutes;
    long _nextAutomaticRewriteSeconds;

    readonly AofState _aof;

    internal AofRewriter(PersistenceHost server, AofState aof) => (_server, _aof) = (server, aof);

    public bool InProgress => _job is not null;

    /// <summary>aof_rewrite_scheduled: BGREWRITEAOF came while a BGSAVE ran (or inside MULTI); the cron starts it when possible.</summary>
    public bool Scheduled { get; private set; }
    public long Rewrites { get; private set; }
    public long ConsecutiveFailures { get; private set; }

    /// <summary>CONFIG RESETSTAT: aof_rewrites and aof_rewrites_consecutive_failures.</summary>
    public void ResetStats() => (Rewrites, ConsecutiveFailures) = (0, 0);

    public bool LastStatusOk { get; private set; } = true;
    public long LastRewriteTimeSec { get; private set; } = -1;
    public long CurrentRewriteTimeSec => _job is null ? -1 : (long)_job.ElapsedSeconds;
    public long LastCowSize { get; private set; }
    public long CurrentCowSize => _job?.CowBytes ?? 0;
    public long CurrentKeysProcessed => _job?.KeysProcessed ?? 0;
    public long CurrentKeysTotal => _job?.KeysTotal ?? 0;

    /// <summary>
    /// Starts a rewrite of the dataset into the AOF's path; null, or the error reply text. The
    /// instant is taken in the next executor turn, after the current execution unit (a MULTI's
    /// records propagate when EXEC ends; they must not reach the rewrite buffer too).
    /// </summary>
    public string? Start()
    {
        if (_job is not null) return "ERR Background append only file rewriting already in progress";
        if (!DatasetGate.Allows(_server, "Background append only file rewriting")) return DatasetGate.RefusedError;
        AofRewriteJob job;
        try
        {
            // Owned by _job from here: cancelled (and disposed) or switched when it ends.
            _job = job = new AofRewriteJob(_server, _aof.FilePath, keepsTail: _aof.Enabled);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _server.Logger.LogWarning("Can't rewrite append only file in background: {Error}", e.Message);
            RecordFailure();
            return "ERR Can't rewrite append only file in background: " + e.Message;
        }
        Scheduled = false;
        job.Failed = Fail;
        UpdateFsyncSuspension();
        _server.Executor.Post(job.Begin);
        _server.Logger.LogInformation("Background append only file rewriting started by pid {Pid}", Environment.ProcessId);
        return null;
    }

    /// <summary>Redis's bgrewriteaofCommand while another background job runs: a manual request also clears the failure backoff.</summary>
    public void Schedule()
    {
        Scheduled = true;
        ConsecutiveFailures = 0;
    }

    /// <summary>
    /// From the cron: switches to the new file once only a small tail is left; with no background
    /// save running, starts a scheduled rewrite, or an automatic one.
    /// </summary>
    /// <param name="mayStart">No other background job runs (the coordinator's rule).</param>
    internal void Cron(bool mayStart)
    {
        UpdateFsyncSuspension();
        if (_job is not null)
        {
            if (_job.ReadyToSwitch) Complete(_job);
            return;
        }
        // An incomplete dataset waits, silently: the rewrite would be refused anyway.
        if (!mayStart || !_server.Keyspace.Complete) return;
        if (!Scheduled) StartIfGrown();
        else if (!Limited()) Start();
    }

    /// <summary>auto-aof-rewrite-percentage / -min-size against the size after the last rewrite (Redis's serverCron).</summary>
    void StartIfGrown()
    {
        var config = _server.Config;
        if (!_aof.Enabled || config.AutoAofRewritePercentage == 0 || _aof.CurrentSize <= config.AutoAofRewriteMinSize) return;
        long growth = _aof.CurrentSize * 100 / Math.Max(_aof.BaseSize, 1) - 100;
        if (growth < config.AutoAofRewritePercentage || Limited()) return;
        _server.Logger.LogInformation("Starting automatic rewriting of AOF on {Growth}% growth", growth);
        Start();
    }

    /// <summary>
    /// Redis 7's aofRewriteLimited: after 3 failures in a row, automatic rewrites wait 1 minute,
    /// then 2, 4 ... up to 60 between attempts. BGREWRITEAOF is never held back.
    /// </summary>
    bool Limited()
    {
        if (ConsecutiveFailures < FailuresBeforeBackoff)
        {
            _backoffMinutes = 0;
            _nextAutomaticRewriteSeconds = 0;
            return false;
        }
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (_nextAutomaticRewriteSeconds != 0)
        {
            if (now < _nextAutomaticRewriteSeconds) return true;
            _nextAutomaticRewriteSeconds = 0;
            return false;
        }
        _backoffMinutes = Math.Min(_backoffMinutes == 0 ? 1 : _backoffMinutes * 2, MaxBackoffMinutes);
        _nextAutomaticRewriteSeconds = now + _backoffMinutes * 60L;
        _server.Logger.LogWarning("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {Minutes} minutes", _backoffMinutes);
        return true;
    }

    /// <summary>no-appendfsync-on-rewrite: the AOF is not fsynced while a rewrite runs.</summary>
    void UpdateFsyncSuspension()
    {
        if (_aof.Writer is { } writer) writer.FsyncSuspended = _job is not null && _server.Config.NoAppendFsyncOnRewrite;
    }

    void Complete(AofRewriteJob job)
    {
        if (!job.Switch(out long tailBytes))
        {
            Fail(job);
            return;
        }
        _job = null;
        job.Dispose();
        _server.Logger.LogInformation("Residual parent diff successfully flushed to the rewritten AOF ({Mb:0.00} MB)", tailBytes / (1024.0 * 1024));
        _aof.ReopenAfterRewrite();
        Rewrites++;
        ConsecutiveFailures = 0;
        LastStatusOk = true;
        LastRewriteTimeSec = (long)job.ElapsedSeconds;
        LastCowSize = job.CowBytes;
        _server.Logger.LogInformation("Background AOF rewrite terminated with success");
        _server.Logger.LogInformation("Background AOF rewrite finished successfully");
    }

    void Fail(AofRewriteJob job)
    {
        if (_job != job) return;
        _server.Logger.LogWarning("Background AOF rewrite terminated with error: {Error}", job.Error?.Message);
        Stop();
        RecordFailure();
    }

    void RecordFailure()
    {
        LastStatusOk = false;
        ConsecutiveFailures++;
    }

    /// <summary>Abandons a running rewrite (appendonly no, shutdown): the AOF stays as it was.</summary>
    public void Cancel()
    {
        if (_job is null) return;
        _server.Logger.LogInformation("Killing running AOF rewrite child: {Pid}", Environment.ProcessId);
        Stop();
    }

    void Stop()
    {
        var job = _job!;
        _job = null;
        LastRewriteTimeSec = (long)job.ElapsedSeconds;
        job.Cancel();
        UpdateFsyncSuspension();
    }
}
