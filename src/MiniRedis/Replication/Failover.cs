using Microsoft.Extensions.Logging;
using MiniRedis.Execution;

namespace MiniRedis.Replication;

/// <summary>Where a FAILOVER stands (Redis's failover_state), named as INFO's master_failover_state shows it.</summary>
public enum FailoverState
{
    None,
    /// <summary>Writes are held until the target replica acknowledged the master's offset.</summary>
    WaitForSync,
    /// <summary>This master follows the target and asked it with PSYNC ... FAILOVER; writes are still held.</summary>
    InProgress,
}

/// <summary>
/// The coordinated failover of Redis 7.0 (FAILOVER, replication.c): writes are held while the target
/// replica (given, or the first one caught up) reaches the master's offset; then this master turns into
/// a replica of it and asks with <c>PSYNC replid offset FAILOVER</c>, which makes the target a master
/// before it continues our history. The hold ends when the target answers; a refusal, ABORT or the
/// timeout (without FORCE) make this server a master again. Executor thread only.
/// </summary>
public sealed class Failover
{
    readonly ReplicationState _replication;
    readonly ILogger _logger;
    readonly Func<long> _nowMs;
    ClientPause? _pause;
    long _endMs;
    bool _force;

    internal Failover(ReplicationState replication, ILogger logger, Func<long> nowMs)
    {
        _replication = replication;
        _logger = logger;
        _nowMs = nowMs;
    }

    public FailoverState State { get; private set; }

    /// <summary>The replica failed over to: given by FAILOVER TO, or chosen once caught up.</summary>
    public string? TargetHost { get; private set; }
    public int TargetPort { get; private set; }

    /// <summary>INFO master_failover_state.</summary>
    public string StateName => State switch
    {
        FailoverState.WaitForSync => "waiting-for-sync",
        FailoverState.InProgress => "failover-in-progress",
        _ => "no-failover",
    };

    /// <summary>
    /// A failover with a deadline holds the periodic PING as Redis does: it would move the offset the
    /// replica has to reach.
    /// </summary>
    internal bool HoldsPing => State == FailoverState.WaitForSync && _endMs != 0;

    /// <summary>FAILOVER [TO host port] [TIMEOUT ms] [FORCE] after its syntax checks: the error text, or null once started.</summary>
    public string? Start(ClientPause pause, string? host, int port, long timeoutMs, bool force)
    {
        if (State != FailoverState.None) return "ERR FAILOVER already in progress.";
        if (_replication.IsReplica) return "ERR FAILOVER is not valid when server is a replica.";
        if (_replication.Replicas.Count == 0) return "ERR FAILOVER requires connected replicas.";
        if (force && (timeoutMs == 0 || host is null)) return "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
        if (host is not null)
        {
            if (Find(host, port) is not { } replica) return "ERR FAILOVER target HOST and PORT is not a replica.";
            if (replica.State != ReplicaState.Online) return "ERR FAILOVER target replica is not online.";
            (TargetHost, TargetPort) = (host, port);
            _logger.LogInformation("FAILOVER requested to {Host}:{Port}.", host, port);
        }
        else _logger.LogInformation("FAILOVER requested to any replica.");
        _endMs = timeoutMs > 0 ? _nowMs() + timeoutMs : 0;
        _force = force;
        State = FailoverState.WaitForSync;
        _pause = pause;
        pause.HoldsWritesForFailover = true;
        return null;
    }

    /// <summary>From the replication cron (Redis's updateFailoverStatus): the timeout, or the target caught up.</summary>
    internal void Update()
    {
        if (State != FailoverState.WaitForSync) return;
        if (_endMs != 0 && _endMs <= _nowMs())
        {
            if (!_force)
            {
                Abort("Replica never caught up before timeout");
                return;
            }
            _logger.LogInformation("FAILOVER to {Host}:{Port} time out exceeded, failing over.", TargetHost, TargetPort);
            FailOver();
            return;
        }
        long offset = _replication.MasterOffset;
        ReplicaLink? target;
        if (TargetHost is not null) target = Find(TargetHost, TargetPort);
        else
        {
            target = _replication.Replicas.FirstOrDefault(replica => replica.AckOffset == offset);
            if (target is not null) (TargetHost, TargetPort) = (target.Ip, target.ListeningPort);
        }
        if (target is null || target.AckOffset != offset) return;
        _logger.LogInformation("Failover target {Host}:{Port} is synced, failing over.", TargetHost, TargetPort);
        FailOver();
    }

    void FailOver()
    {
        State = FailoverState.InProgress;
        _replication.ReplicaOf(TargetHost!, TargetPort, requester: null);
    }

    /// <summary>Whether the link's PSYNC must carry FAILOVER (asked by the link thread through the executor).</summary>
    internal bool AsksTargetToTakeOver => State == FailoverState.InProgress;

    /// <summary>The target answered our PSYNC FAILOVER: done when it continued or resynced us, else aborted.</summary>
    internal void TargetReplied(bool accepted)
    {
        if (State != FailoverState.InProgress) return;
        if (accepted) Clear();
        else Abort("Failover target rejected psync request");
    }

    /// <summary>FAILOVER ABORT, the timeout, or a refusal (Redis's abortFailover): a master again if we already followed the target.</summary>
    public void Abort(string reason)
    {
        if (State == FailoverState.None) return;
        if (TargetHost is not null) _logger.LogInformation("FAILOVER to {Host}:{Port} aborted: {Reason}", TargetHost, TargetPort, reason);
        else _logger.LogInformation("FAILOVER to any replica aborted: {Reason}", reason);
        if (State == FailoverState.InProgress) _replication.PromoteToMaster(requester: null);
        Clear();
    }

    void Clear()
    {
        State = FailoverState.None;
        (TargetHost, TargetPort) = (null, 0);
        _endMs = 0;
        _force = false;
        if (_pause is not null) _pause.HoldsWritesForFailover = false;
    }

    /// <summary>Redis's findReplica: the announced or connection IP (any case) and the listening port.</summary>
    ReplicaLink? Find(string host, int port) =>
        _replication.Replicas.FirstOrDefault(replica => replica.Ip.Equals(host, StringComparison.OrdinalIgnoreCase) && replica.ListeningPort == port);
}
