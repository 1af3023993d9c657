using Microsoft.Extensions.Logging;
using MiniRedis.Execution;
using MiniRedis.Replication;

namespace MiniRedis.Commands;

/// <summary>
/// Replication commands (Redis's replication.c): SYNC, PSYNC and REPLCONF from replicas, ROLE and
/// WAIT; the master side itself is <see cref="ReplicationState"/>.
/// </summary>
public static unsafe class ReplicationCommands
{
    public static void Register(CommandTable t)
    {
        t.Add("sync", &Sync);
        t.Add("psync", &Psync);
        t.Add("replconf", &Replconf);
        t.Add("role", &Role);
        t.Add("wait", &Wait);
        t.Add("replicaof", &ReplicaOf);
        t.Add("slaveof", &ReplicaOf);
    }

    /// <summary>REPLICAOF host port | NO ONE (and its old name SLAVEOF).</summary>
    static void ReplicaOf(CommandContext ctx)
    {
        var replication = ctx.Replication;
        if (replication.Failover.State != FailoverState.None)
        {
            ctx.Error("ERR REPLICAOF not allowed while failing over.");
            return;
        }
        if (ctx.ArgIs(1, "NO"u8) && ctx.ArgIs(2, "ONE"u8))
        {
            replication.PromoteToMaster(Requester(ctx));
            ctx.Reply.Ok();
            return;
        }
        if (ctx.Client.IsReplica)
        {
            ctx.Error("ERR Command is not valid when client is a replica.");
            return;
        }
        if (!Data.RedisNumbers.TryParseInt64(ctx.Arg(2), out long port) || port is < 0 or > 65535)
        {
            ctx.Error("ERR Invalid master port");
            return;
        }
        ctx.Reply.Raw(System.Text.Encoding.ASCII.GetBytes(replication.ReplicaOf(ctx.ArgString(1), (int)port, Requester(ctx))));
    }

    /// <summary>The client as CLIENT LIST shows it, for the log line (Redis's catClientInfoString).</summary>
    static string Requester(CommandContext ctx)
    {
        var text = new System.Text.StringBuilder();
        ClientInfo.AppendLine(ctx.NowMs, ctx.Client, text);
        return text.ToString().TrimEnd('\n');
    }

    static void Sync(CommandContext ctx)
    {
        if (MaySync(ctx)) ctx.Replication.Sync(ctx.Client, null, 0);
    }

    /// <summary>PSYNC replid offset: the replica's history and the offset of the next byte it needs.</summary>
    static void Psync(CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long offset) || !MaySync(ctx)) return;
        if (ctx.ArgCount > 3 && ctx.ArgIs(3, "FAILOVER"u8) && !FailoverFromMaster(ctx)) return;
        ctx.Replication.Sync(ctx.Client, ctx.ArgString(1), offset);
    }

    /// <summary>
    /// PSYNC replid offset FAILOVER from our master failing over to us: a master now (when it shares our
    /// history), and its PSYNC continues it as of any replica's.
    /// </summary>
    static bool FailoverFromMaster(CommandContext ctx)
    {
        var replication = ctx.Replication;
        ctx.Logger.LogWarning("Failover request received for replid {Replid}.", ctx.ArgString(1));
        if (!ctx.ArgString(1).Equals(replication.ReplicationId, StringComparison.OrdinalIgnoreCase))
        {
            ctx.Error("ERR PSYNC FAILOVER replid must match my replid.");
            return false;
        }
        replication.PromoteToMaster(Requester(ctx), byFailover: true);
        return true;
    }

    /// <summary>Redis's syncCommand preconditions.</summary>
    static bool MaySync(CommandContext ctx)
    {
        if (ctx.Client.IsReplica) return false;
        if (ctx.Client.Reply.Length > 0 || ctx.Client.Connection is { PendingOutputBytes: > 0 })
        {
            ctx.Error("ERR SYNC and PSYNC are invalid with pending output");
            return false;
        }
        return true;
    }

    /// <summary>REPLCONF option value ...: what a replica announces before PSYNC, and ACK / GETACK after.</summary>
    static void Replconf(CommandContext ctx)
    {
        if (ctx.ArgCount % 2 == 0)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        var hello = ctx.Client.ReplicaHello ??= new ReplicaHello();
        for (int i = 1; i < ctx.ArgCount; i += 2)
        {
            if (ctx.ArgIs(i, "LISTENING-PORT"u8))
            {
                if (!ctx.TryGetLong(i + 1, out long port)) return;
                hello.ListeningPort = (int)port;
            }
            else if (ctx.ArgIs(i, "IP-ADDRESS"u8))
            {
                // Redis's NET_HOST_STR_LEN.
                if (ctx.Arg(i + 1).Length >= 256)
                {
                    ctx.Error($"ERR REPLCONF ip-address provided by replica instance is too long: {ctx.Arg(i + 1).Length} bytes");
                    return;
                }
                hello.AnnouncedIp = ctx.ArgString(i + 1);
            }
            else if (ctx.ArgIs(i, "CAPA"u8))
            {
                if (ctx.ArgIs(i + 1, "EOF"u8)) hello.CapaEof = true;
                else if (ctx.ArgIs(i + 1, "PSYNC2"u8)) hello.CapaPsync2 = true;
            }
            else if (ctx.ArgIs(i, "ACK"u8))
            {
                // Never replied to: the replica does not read them.
                if (ctx.Client.IsReplica && RedisNumbersParse(ctx, i + 1, out long offset))
                    ctx.Replication.Acknowledged(ctx.Client, offset);
                return;
            }
            else if (ctx.ArgIs(i, "GETACK"u8))
            {
                ctx.Replication.SendAckToMaster();
                return;
            }
            else if (ctx.ArgIs(i, "RDB-ONLY"u8))
            {
                if (!ctx.TryGetLong(i + 1, out long rdbOnly)) return;
                if (rdbOnly is not (0 or 1))
                {
                    ctx.Error("ERR value is out of range, must be positive");
                    return;
                }
                hello.RdbOnly = rdbOnly == 1;
            }
            else if (ctx.ArgIs(i, "RDB-FILTER-ONLY"u8))
            {
                // Only "" (no filter) or "functions"; the data is always sent here.
            }
            else
            {
                ctx.Error($"ERR Unrecognized REPLCONF option: {ctx.ArgCString(i)}");
                return;
            }
        }
        ctx.Reply.Ok();
    }

    static bool RedisNumbersParse(CommandContext ctx, int index, out long value) =>
        Data.RedisNumbers.TryParseInt64(ctx.Arg(index), out value);

    /// <summary>ROLE: master, its offset and its replicas; or slave, its master and link state.</summary>
    static void Role(CommandContext ctx) => ctx.Replication.WriteRole(ctx.Reply);

    /// <summary>WAIT numreplicas timeout: how many replicas acknowledged this client's writes, waiting up to timeout ms for enough.</summary>
    static void Wait(CommandContext ctx)
    {
        var replication = ctx.Replication;
        if (replication.IsReplica)
        {
            ctx.Error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
            return;
        }
        if (!ctx.TryGetLong(1, out long wanted)) return;
        if (!ctx.TryGetLong(2, out long timeout, "ERR timeout is not an integer or out of range")) return;
        if (timeout < 0)
        {
            ctx.Error("ERR timeout is negative");
            return;
        }
        // The retry carries the offset the first call waited for.
        long target = ctx.IsRetry && ctx.ArgCount > 3 && RedisNumbersParse(ctx, 3, out long kept) ? kept : replication.MasterOffset;
        int acked = replication.CountAcks(target);
        if (acked >= wanted || ctx.Client.InExec || ctx.Client.Connection is null)
        {
            ctx.Reply.Integer(acked);
            return;
        }
        if (!ctx.IsRetry) replication.RequestAcks();
        long deadline = timeout == 0 ? 0 : ctx.NowMs + timeout;
        ctx.BlockForAcks(replication.AckKey, deadline, () => replication.CountAcks(target),
            Protocol.ArgVector.FromStrings("WAIT", wanted.ToString(System.Globalization.CultureInfo.InvariantCulture),
                timeout.ToString(System.Globalization.CultureInfo.InvariantCulture), target.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}
