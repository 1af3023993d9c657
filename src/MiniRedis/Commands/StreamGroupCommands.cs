using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>
/// Consumer groups (Redis's t_stream.c): XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO, and the
/// effects group reads and claims propagate (XCLAIM ... FORCE JUSTID LASTID, XGROUP SETID ... ENTRIESREAD)
/// so a replay rebuilds pending lists without re-reading.
/// </summary>
public static unsafe class StreamGroupCommands
{
    const string EntriesReadError = "ERR value for ENTRIESREAD must be positive or -1";

    public static void Register(CommandTable t)
    {
        t.Add("xgroup|create", &Create);
        t.Add("xgroup|setid", &SetId);
        t.Add("xgroup|destroy", &Destroy);
        t.Add("xgroup|createconsumer", &CreateConsumer);
        t.Add("xgroup|delconsumer", &DelConsumer);
        t.Add("xgroup|help", &GroupHelp);
        t.Add("xack", &XAck);
        t.Add("xpending", &XPending);
        t.Add("xclaim", &XClaim);
        t.Add("xautoclaim", &XAutoClaim);
        t.Add("xinfo|stream", &InfoStream);
        t.Add("xinfo|groups", &InfoGroups);
        t.Add("xinfo|consumers", &InfoConsumers);
        t.Add("xinfo|help", &InfoHelp);
    }

    static readonly string[] GroupHelpLines =
    [
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
    ];

    static readonly string[] InfoHelpLines =
    [
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
    ];

    static void GroupHelp(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "XGROUP", GroupHelpLines);
    static void InfoHelp(CommandContext ctx) => ServerCommands.ReplyHelp(ctx, "XINFO", InfoHelpLines);

    // ---- shared with reads ----

    /// <summary>Redis's streamRangeHasTombstones: whether an entry in [start, end] may have been deleted.</summary>
    internal static bool RangeHasTombstones(StreamValue stream, StreamId start, StreamId end)
        => stream.Length != 0 && !stream.MaxDeletedId.IsZero && start <= stream.MaxDeletedId && stream.MaxDeletedId <= end;

    /// <summary>The consumer a group read serves, created (and, under NOACK, logged) on first use; its seen time is now.</summary>
    internal static StreamConsumer ConsumerForRead(CommandContext ctx, StreamGroup group, ReadOnlySpan<byte> key, ReadOnlySpan<byte> groupName, ReadOnlySpan<byte> name, bool noAck)
    {
        var consumer = group.FindConsumer(name);
        if (consumer is null)
        {
            consumer = NewConsumer(ctx, group, key, name);
            if (noAck) ctx.Propagate().Arg("XGROUP"u8).Arg("CREATECONSUMER"u8).Arg(key).Arg(groupName).Arg(name);
        }
        consumer.SeenTime = ctx.NowMs;
        return consumer;
    }

    /// <summary>Redis's streamCreateConsumer: announced and counted as a change.</summary>
    static StreamConsumer NewConsumer(CommandContext ctx, StreamGroup group, ReadOnlySpan<byte> key, ReadOnlySpan<byte> name)
    {
        var consumer = group.CreateConsumer(name, ctx.NowMs)!;
        ctx.Notify(NotifyClass.Stream, "xgroup-createconsumer"u8, key);
        ctx.Dirty++;
        return consumer;
    }

    /// <summary>Redis's streamPropagateXCLAIM: an idempotent XCLAIM that recreates the pending entry as it is now.</summary>
    internal static void PropagateClaim(CommandContext ctx, ReadOnlySpan<byte> key, StreamGroup group, ReadOnlySpan<byte> groupName, StreamId id, PendingEntry pending)
    {
        Span<byte> idText = stackalloc byte[StreamId.MaxFormattedLength];
        Span<byte> lastIdText = stackalloc byte[StreamId.MaxFormattedLength];
        ctx.Propagate().Arg("XCLAIM"u8).Arg(key).Arg(groupName).Arg(pending.Consumer!.Name).Arg("0"u8).Arg(idText[..id.Format(idText)])
            .Arg("TIME"u8).Arg(pending.DeliveryTime).Arg("RETRYCOUNT"u8).Arg(pending.DeliveryCount)
            .Arg("FORCE"u8).Arg("JUSTID"u8).Arg("LASTID"u8).Arg(lastIdText[..group.LastId.Format(lastIdText)]);
    }

    /// <summary>Redis's streamPropagateGroupID.</summary>
    internal static void PropagateGroupId(CommandContext ctx, ReadOnlySpan<byte> key, StreamGroup group, ReadOnlySpan<byte> groupName)
    {
        ctx.Propagate().Arg("XGROUP"u8).Arg("SETID"u8).Arg(key).Arg(groupName).Arg(group.LastId.ToBytes()).Arg("ENTRIESREAD"u8).Arg(group.EntriesRead);
    }

    // ---- XGROUP ----

    /// <summary>
    /// The common start of XGROUP's subcommands: the stream must exist (unless CREATE MKSTREAM), and
    /// SETID / CREATECONSUMER / DELCONSUMER need the group. Replies the error and returns false otherwise.
    /// </summary>
    static bool TryGetGroupTarget(CommandContext ctx, bool mkStream, bool needGroup, out StreamValue? stream, out StreamGroup? group)
    {
        group = null;
        if (!StreamCommands.TryGetStream(ctx, ctx.LookupWrite(ctx.Arg(2)), out stream)) return false;
        if (mkStream) return true;
        if (stream is null)
        {
            ctx.Error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
            return false;
        }
        group = stream.FindGroup(ctx.Arg(3));
        if (group is null && needGroup)
        {
            ctx.Error($"NOGROUP No such consumer group '{ctx.ArgCString(3)}' for key name '{ctx.ArgCString(2)}'");
            return false;
        }
        return true;
    }

    static bool TryGetEntriesRead(CommandContext ctx, int index, out long entriesRead)
    {
        if (!ctx.TryGetLong(index, out entriesRead)) return false;
        if (entriesRead >= 0 || entriesRead == StreamGroup.InvalidEntriesRead) return true;
        ctx.Error(EntriesReadError);
        return false;
    }

    static void Create(CommandContext ctx)
    {
        bool mkStream = false;
        long entriesRead = StreamGroup.InvalidEntriesRead;
        for (int i = 5; i < ctx.ArgCount;)
        {
            if (ctx.ArgIs(i, "MKSTREAM"u8))
            {
                mkStream = true;
                i++;
            }
            else if (ctx.ArgIs(i, "ENTRIESREAD"u8) && i + 1 < ctx.ArgCount)
            {
                if (!TryGetEntriesRead(ctx, i + 1, out entriesRead)) return;
                i += 2;
            }
            else
            {
                ServerCommands.SubcommandSyntaxError(ctx);
                return;
            }
        }
        if (!TryGetGroupTarget(ctx, mkStream, needGroup: false, out var stream, out _)) return;
        StreamId id;
        if (ctx.Arg(4).SequenceEqual("$"u8)) id = stream?.LastId ?? StreamId.Zero;
        else if (!StreamCommands.TryParseStrictId(ctx, 4, out id)) return;
        var key = ctx.Arg(2);
        if (stream is null)
        {
            stream = new StreamValue();
            ctx.Db.Add(key, stream, RedisType.Stream, ObjectEncoding.Stream);
            ctx.KeyModified(ctx.Db, key, 0);
        }
        if (stream.CreateGroup(ctx.Arg(3), id, entriesRead) is null)
        {
            ctx.Error("BUSYGROUP Consumer Group name already exists");
            return;
        }
        ctx.Reply.Ok();
        ctx.KeyModified(ctx.Db, key);
        ctx.Notify(NotifyClass.Stream, "xgroup-create"u8, key);
    }

    static void SetId(CommandContext ctx)
    {
        // As Redis, options are checked before the argument count, the key and the group.
        long entriesRead = StreamGroup.InvalidEntriesRead;
        for (int i = 5; i < ctx.ArgCount; i += 2)
        {
            if (!ctx.ArgIs(i, "ENTRIESREAD"u8) || i + 1 >= ctx.ArgCount)
            {
                ServerCommands.SubcommandSyntaxError(ctx);
                return;
            }
            if (!TryGetEntriesRead(ctx, i + 1, out entriesRead)) return;
        }
        if (ctx.ArgCount != 5 && ctx.ArgCount != 7)
        {
            ServerCommands.SubcommandSyntaxError(ctx);
            return;
        }
        if (!TryGetGroupTarget(ctx, mkStream: false, needGroup: true, out var stream, out var group)) return;
        StreamId id;
        if (ctx.Arg(4).SequenceEqual("$"u8)) id = stream!.LastId;
        else if (!StreamCommands.TryParseId(ctx, ctx.Arg(4), 0, out id)) return;
        group!.LastId = id;
        group.EntriesRead = entriesRead;
        ctx.Reply.Ok();
        ctx.KeyModified(ctx.Db, ctx.Arg(2));
        ctx.Notify(NotifyClass.Stream, "xgroup-setid"u8, ctx.Arg(2));
    }

    static void Destroy(CommandContext ctx)
    {
        if (!TryGetGroupTarget(ctx, mkStream: false, needGroup: false, out var stream, out var group)) return;
        if (group is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        stream!.RemoveGroup(group.Name);
        ctx.Reply.Integer(1);
        var key = ctx.Arg(2);
        ctx.KeyModified(ctx.Db, key);
        ctx.Notify(NotifyClass.Stream, "xgroup-destroy"u8, key);
        // Clients blocked in XREADGROUP on this group get NOGROUP.
        ctx.SignalKeyAsReady(ctx.Db, key);
    }

    static void CreateConsumer(CommandContext ctx)
    {
        if (!TryGetGroupTarget(ctx, mkStream: false, needGroup: true, out _, out var group)) return;
        if (group!.FindConsumer(ctx.Arg(4)) is not null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        NewConsumer(ctx, group, ctx.Arg(2), ctx.Arg(4));
        ctx.Db.Touch(ctx.Arg(2));
        ctx.Reply.Integer(1);
    }

    static void DelConsumer(CommandContext ctx)
    {
        if (!TryGetGroupTarget(ctx, mkStream: false, needGroup: true, out _, out var group)) return;
        long pending = 0;
        if (group!.FindConsumer(ctx.Arg(4)) is { } consumer)
        {
            pending = consumer.Pending.Count;
            group.DeleteConsumer(consumer);
            ctx.KeyModified(ctx.Db, ctx.Arg(2));
            ctx.Notify(NotifyClass.Stream, "xgroup-delconsumer"u8, ctx.Arg(2));
        }
        ctx.Reply.Integer(pending);
    }

    // ---- acknowledging and claiming ----

    /// <summary>The stream and group a command addresses; null (no reply) when either is missing, false after WRONGTYPE.</summary>
    static bool TryFindGroup(CommandContext ctx, out StreamValue? stream, out StreamGroup? group)
    {
        group = null;
        if (!StreamCommands.TryGetStream(ctx, ctx.LookupRead(ctx.Arg(1)), out stream)) return false;
        group = stream?.FindGroup(ctx.Arg(2));
        return true;
    }

    static void ReplyNoGroup(CommandContext ctx) =>
        ctx.Error($"NOGROUP No such key '{ctx.ArgCString(1)}' or consumer group '{ctx.ArgCString(2)}'");

    static void XAck(CommandContext ctx)
    {
        if (!TryFindGroup(ctx, out _, out var group)) return;
        if (group is null)
        {
            ctx.Reply.Integer(0);
            return;
        }
        int idCount = ctx.ArgCount - 3;
        Span<StreamId> ids = idCount <= 16 ? stackalloc StreamId[idCount] : new StreamId[idCount];
        for (int i = 3; i < ctx.ArgCount; i++)
        {
            if (!StreamCommands.TryParseStrictId(ctx, i, out ids[i - 3])) return;
        }
        long acknowledged = 0;
        foreach (var id in ids)
        {
            if (group.Acknowledge(id)) acknowledged++;
        }
        if (acknowledged > 0) ctx.KeyModified(ctx.Db, ctx.Arg(1), acknowledged);
        ctx.Reply.Integer(acknowledged);
    }

    static void XPending(CommandContext ctx)
    {
        bool summary = ctx.ArgCount == 3;
        if (!summary && (ctx.ArgCount < 6 || ctx.ArgCount > 9))
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        long count = 0, minIdle = 0;
        StreamId start = default, end = default;
        int consumerIndex = -1;
        if (!summary)
        {
            int startIndex = 3;
            if (ctx.ArgIs(3, "IDLE"u8))
            {
                if (!ctx.TryGetLong(4, out minIdle)) return;
                if (ctx.ArgCount < 8)
                {
                    ctx.Error(CommandContext.SyntaxError);
                    return;
                }
                startIndex += 2;
            }
            if (!ctx.TryGetLong(startIndex + 2, out count)) return;
            if (count < 0) count = 0;
            if (!StreamCommands.TryParseBound(ctx, startIndex, isStart: true, out start)) return;
            if (!StreamCommands.TryParseBound(ctx, startIndex + 1, isStart: false, out end)) return;
            if (startIndex + 3 < ctx.ArgCount) consumerIndex = startIndex + 3;
        }
        if (!TryFindGroup(ctx, out _, out var group)) return;
        if (group is null)
        {
            ReplyNoGroup(ctx);
            return;
        }
        var reply = ctx.Reply;
        if (summary)
        {
            reply.ArrayHeader(4);
            reply.Integer(group.Pending.Count);
            if (group.Pending.Count == 0)
            {
                reply.NullBulk();
                reply.NullBulk();
                reply.NullArray();
                return;
            }
            StreamCommands.ReplyId(reply, group.Pending.FirstId);
            StreamCommands.ReplyId(reply, group.Pending.LastId);
            int handle = reply.BeginDeferredArray();
            long owners = 0;
            foreach (var consumer in group.Consumers.Values)
            {
                if (consumer.Pending.Count == 0) continue;
                reply.ArrayHeader(2);
                reply.Bulk(consumer.Name);
                reply.BulkInteger(consumer.Pending.Count);
                owners++;
            }
            reply.EndDeferredArray(handle, owners);
            return;
        }
        PendingList list = group.Pending;
        if (consumerIndex >= 0)
        {
            var consumer = group.FindConsumer(ctx.Arg(consumerIndex));
            if (consumer is null)
            {
                reply.ArrayHeader(0);
                return;
            }
            list = consumer.Pending;
        }
        long now = ctx.NowMs;
        int listHandle = reply.BeginDeferredArray();
        long emitted = 0;
        foreach (var (id, pending) in list)
        {
            if (count == 0 || id > end) break;
            if (id < start) continue;
            if (minIdle != 0 && now - pending.DeliveryTime < minIdle) continue;
            emitted++;
            count--;
            reply.ArrayHeader(4);
            StreamCommands.ReplyId(reply, id);
            reply.Bulk(pending.Consumer!.Name);
            reply.Integer(Math.Max(0, now - pending.DeliveryTime));
            reply.Integer(pending.DeliveryCount);
        }
        reply.EndDeferredArray(listHandle, emitted);
    }

    /// <summary>Writes the entry with this ID as [id, fields] (or a null when it is gone).</summary>
    static void ReplyEntryOrNull(ReplyBuffer reply, StreamValue stream, StreamId id)
    {
        var it = new StreamIterator(stream, id, id, reverse: false);
        if (it.MoveNext()) StreamCommands.ReplyEntry(reply, it);
        else reply.NullBulk();
    }

    static void XClaim(CommandContext ctx)
    {
        ctx.PropagationReplaced = true;
        if (!TryFindGroup(ctx, out var stream, out var group)) return;
        if (group is null)
        {
            ReplyNoGroup(ctx);
            return;
        }
        if (!ctx.TryGetLong(4, out long minIdle, "ERR Invalid min-idle-time argument for XCLAIM")) return;
        if (minIdle < 0) minIdle = 0;
        int j = 5;
        for (; j < ctx.ArgCount; j++)
        {
            var arg = ctx.Arg(j);
            bool special = arg.Length >= 1 && arg[0] is (byte)'-' or (byte)'+' && (arg.Length == 1 || arg[1] == 0);
            if (special || !StreamId.TryParse(arg, 0, false, out _, out _)) break;
        }
        int lastIdArg = j - 1;
        long now = ctx.NowMs;
        long deliveryTime = -1, retryCount = -1;
        bool force = false, justId = false, propagateLastId = false;
        var lastId = StreamId.Zero;
        for (; j < ctx.ArgCount; j++)
        {
            bool moreArgs = j + 1 < ctx.ArgCount;
            if (ctx.ArgIs(j, "FORCE"u8)) force = true;
            else if (ctx.ArgIs(j, "JUSTID"u8)) justId = true;
            else if (ctx.ArgIs(j, "IDLE"u8) && moreArgs)
            {
                if (!ctx.TryGetLong(++j, out deliveryTime, "ERR Invalid IDLE option argument for XCLAIM")) return;
                deliveryTime = now - deliveryTime;
            }
            else if (ctx.ArgIs(j, "TIME"u8) && moreArgs)
            {
                if (!ctx.TryGetLong(++j, out deliveryTime, "ERR Invalid TIME option argument for XCLAIM")) return;
            }
            else if (ctx.ArgIs(j, "RETRYCOUNT"u8) && moreArgs)
            {
                if (!ctx.TryGetLong(++j, out retryCount, "ERR Invalid RETRYCOUNT option argument for XCLAIM")) return;
            }
            else if (ctx.ArgIs(j, "LASTID"u8) && moreArgs)
            {
                if (!StreamCommands.TryParseStrictId(ctx, ++j, out lastId)) return;
            }
            else
            {
                ctx.Error($"ERR Unrecognized XCLAIM option '{ctx.ArgCString(j)}'");
                return;
            }
        }
        if (lastId > group.LastId)
        {
            group.LastId = lastId;
            propagateLastId = true;
        }
        if (deliveryTime != -1)
        {
            // A bogus time (negative, in the future) is taken as now, as Redis does.
            if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
        }
        else deliveryTime = now;

        var key = ctx.Arg(1);
        var groupName = ctx.Arg(2);
        StreamConsumer? consumer = null;
        var reply = ctx.Reply;
        int handle = reply.BeginDeferredArray();
        long emitted = 0;
        for (int i = 5; i <= lastIdArg; i++)
        {
            StreamId.TryParse(ctx.Arg(i), 0, false, out var id, out _);
            group.Pending.TryGetValue(id, out var pending);
            if (!stream!.Contains(id))
            {
                if (pending is not null)
                {
                    PropagateClaim(ctx, key, group, groupName, id, pending);
                    propagateLastId = false;
                    ctx.Dirty++;
                    group.Acknowledge(pending);
                }
                continue;
            }
            bool created = false;
            if (force && pending is null)
            {
                pending = new PendingEntry(id, 0, 0);
                group.Pending.Add(id, pending);
                created = true;
            }
            if (pending is null) continue;
            if (!created && minIdle != 0 && now - pending.DeliveryTime < minIdle) continue;
            consumer ??= group.FindConsumer(ctx.Arg(3)) ?? NewConsumer(ctx, group, key, ctx.Arg(3));
            consumer.SeenTime = now;
            pending.DeliveryTime = deliveryTime;
            if (retryCount >= 0) pending.DeliveryCount = retryCount;
            else if (!justId) pending.DeliveryCount++;
            StreamGroup.Assign(pending, consumer);
            if (justId) StreamCommands.ReplyId(reply, id);
            else ReplyEntryOrNull(reply, stream, id);
            emitted++;
            PropagateClaim(ctx, key, group, groupName, id, pending);
            propagateLastId = false;
            ctx.Dirty++;
        }
        if (propagateLastId)
        {
            PropagateGroupId(ctx, key, group, groupName);
            ctx.Dirty++;
        }
        reply.EndDeferredArray(handle, emitted);
    }

    static void XAutoClaim(CommandContext ctx)
    {
        ctx.PropagationReplaced = true;
        if (!ctx.TryGetLong(4, out long minIdle, "ERR Invalid min-idle-time argument for XAUTOCLAIM")) return;
        if (minIdle < 0) minIdle = 0;
        if (!StreamCommands.TryParseBound(ctx, 5, isStart: true, out var start)) return;
        const long AttemptsFactor = 10;
        long count = 100;
        bool justId = false;
        for (int j = 6; j < ctx.ArgCount; j++)
        {
            if (ctx.ArgIs(j, "COUNT"u8) && j + 1 < ctx.ArgCount)
            {
                const long MaxCount = long.MaxValue / 16;
                if (!RedisNumbers.TryParseInt64(ctx.Arg(j + 1), out count) || count < 1 || count > MaxCount)
                {
                    ctx.Error("ERR COUNT must be > 0");
                    return;
                }
                j++;
            }
            else if (ctx.ArgIs(j, "JUSTID"u8)) justId = true;
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        if (!TryFindGroup(ctx, out var stream, out var group)) return;
        if (group is null)
        {
            ReplyNoGroup(ctx);
            return;
        }
        var key = ctx.Arg(1);
        var groupName = ctx.Arg(2);
        long attempts = count * AttemptsFactor;
        long now = ctx.NowMs;
        StreamConsumer? consumer = null;
        var deleted = new List<StreamId>();
        var reply = ctx.Reply;
        reply.ArrayHeader(3);
        // The cursor goes first: build the claimed entries aside, then write both.
        var claimed = new List<StreamId>();
        var next = StreamId.Zero;
        bool hasNext = false;
        foreach (var (id, pending) in group.Pending.Where(p => p.Key >= start).ToList())
        {
            if (attempts == 0 || count == 0)
            {
                next = id;
                hasNext = true;
                break;
            }
            attempts--;
            if (!stream!.Contains(id))
            {
                PropagateClaim(ctx, key, group, groupName, id, pending);
                ctx.Dirty++;
                group.Acknowledge(pending);
                deleted.Add(id);
                count--;
                continue;
            }
            if (minIdle != 0 && now - pending.DeliveryTime < minIdle) continue;
            consumer ??= group.FindConsumer(ctx.Arg(3)) ?? NewConsumer(ctx, group, key, ctx.Arg(3));
            consumer.SeenTime = now;
            pending.DeliveryTime = now;
            if (!justId) pending.DeliveryCount++;
            StreamGroup.Assign(pending, consumer);
            claimed.Add(id);
            count--;
            PropagateClaim(ctx, key, group, groupName, id, pending);
            ctx.Dirty++;
        }
        StreamCommands.ReplyId(reply, hasNext ? next : StreamId.Zero);
        reply.ArrayHeader(claimed.Count);
        foreach (var id in claimed)
        {
            if (justId) StreamCommands.ReplyId(reply, id);
            else ReplyEntryOrNull(reply, stream!, id);
        }
        reply.ArrayHeader(deleted.Count);
        foreach (var id in deleted) StreamCommands.ReplyId(reply, id);
    }

    // ---- XINFO ----

    /// <summary>The stream XINFO reports on; replies "no such key" or WRONGTYPE otherwise.</summary>
    static StreamValue? InfoTarget(CommandContext ctx)
    {
        var entry = ctx.LookupRead(ctx.Arg(2));
        if (entry is null)
        {
            ctx.Error("ERR no such key");
            return null;
        }
        return StreamCommands.TryGetStream(ctx, entry, out var stream) ? stream : null;
    }

    static void InfoConsumers(CommandContext ctx)
    {
        if (InfoTarget(ctx) is not { } stream) return;
        var group = stream.FindGroup(ctx.Arg(3));
        if (group is null)
        {
            ctx.Error($"NOGROUP No such consumer group '{ctx.ArgCString(3)}' for key name '{ctx.ArgCString(2)}'");
            return;
        }
        var reply = ctx.Reply;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        reply.ArrayHeader(group.Consumers.Count);
        foreach (var consumer in group.Consumers.Values)
        {
            reply.MapHeader(3);
            Pair(reply, "name"u8, consumer.Name);
            Pair(reply, "pending"u8, consumer.Pending.Count);
            Pair(reply, "idle"u8, Math.Max(0, now - consumer.SeenTime));
        }
    }

    static void InfoGroups(CommandContext ctx)
    {
        if (InfoTarget(ctx) is not { } stream) return;
        var reply = ctx.Reply;
        reply.ArrayHeader(stream.GroupCount);
        if (stream.Groups is null) return;
        foreach (var group in stream.Groups)
        {
            reply.MapHeader(6);
            Pair(reply, "name"u8, group.Name);
            Pair(reply, "consumers"u8, group.Consumers.Count);
            Pair(reply, "pending"u8, group.Pending.Count);
            reply.Bulk("last-delivered-id"u8);
            StreamCommands.ReplyId(reply, group.LastId);
            ReplyEntriesReadAndLag(reply, stream, group);
        }
    }

    static void ReplyEntriesReadAndLag(ReplyBuffer reply, StreamValue stream, StreamGroup group)
    {
        reply.Bulk("entries-read"u8);
        if (group.EntriesRead != StreamGroup.InvalidEntriesRead) reply.Integer(group.EntriesRead);
        else reply.NullBulk();
        reply.Bulk("lag"u8);
        long? lag = Lag(stream, group);
        if (lag is { } value) reply.Integer(value);
        else reply.NullBulk();
    }

    /// <summary>Redis's streamReplyWithCGLag: entries the group has yet to read, when it can be known.</summary>
    static long? Lag(StreamValue stream, StreamGroup group)
    {
        if (stream.EntriesAdded == 0) return 0;
        if (group.EntriesRead != StreamGroup.InvalidEntriesRead && !RangeHasTombstones(stream, group.LastId, StreamId.Max))
            return stream.EntriesAdded - group.EntriesRead;
        long entriesRead = stream.EstimateEntriesRead(group.LastId);
        return entriesRead == StreamGroup.InvalidEntriesRead ? null : stream.EntriesAdded - entriesRead;
    }

    static void InfoStream(CommandContext ctx)
    {
        if (InfoTarget(ctx) is not { } stream) return;
        bool full = ctx.ArgCount > 3;
        long count = 10;
        if (full)
        {
            if ((ctx.ArgCount != 4 && ctx.ArgCount != 6) || !ctx.ArgIs(3, "FULL"u8) || (ctx.ArgCount == 6 && !ctx.ArgIs(4, "COUNT"u8)))
            {
                ServerCommands.SubcommandSyntaxError(ctx);
                return;
            }
            if (ctx.ArgCount == 6)
            {
                if (!ctx.TryGetLong(5, out count)) return;
                if (count < 0) count = 10;
            }
        }
        var reply = ctx.Reply;
        reply.MapHeader(full ? 9 : 10);
        Pair(reply, "length"u8, stream.Length);
        Pair(reply, "radix-tree-keys"u8, stream.Nodes.Count);
        Pair(reply, "radix-tree-nodes"u8, stream.RadixTreeNodes());
        reply.Bulk("last-generated-id"u8);
        StreamCommands.ReplyId(reply, stream.LastId);
        reply.Bulk("max-deleted-entry-id"u8);
        StreamCommands.ReplyId(reply, stream.MaxDeletedId);
        Pair(reply, "entries-added"u8, stream.EntriesAdded);
        reply.Bulk("recorded-first-entry-id"u8);
        StreamCommands.ReplyId(reply, stream.FirstId);
        if (!full)
        {
            Pair(reply, "groups"u8, stream.GroupCount);
            reply.Bulk("first-entry"u8);
            ReplyEdge(reply, stream, reverse: false);
            reply.Bulk("last-entry"u8);
            ReplyEdge(reply, stream, reverse: true);
            return;
        }
        reply.Bulk("entries"u8);
        StreamCommands.ReplyRange(reply, stream, StreamId.Zero, StreamId.Max, count, reverse: false);
        reply.Bulk("groups"u8);
        reply.ArrayHeader(stream.GroupCount);
        if (stream.Groups is null) return;
        foreach (var group in stream.Groups)
        {
            reply.MapHeader(7);
            Pair(reply, "name"u8, group.Name);
            reply.Bulk("last-delivered-id"u8);
            StreamCommands.ReplyId(reply, group.LastId);
            ReplyEntriesReadAndLag(reply, stream, group);
            Pair(reply, "pel-count"u8, group.Pending.Count);
            reply.Bulk("pending"u8);
            ReplyPendingList(reply, group.Pending, count, withConsumer: true);
            reply.Bulk("consumers"u8);
            reply.ArrayHeader(group.Consumers.Count);
            foreach (var consumer in group.Consumers.Values)
            {
                reply.MapHeader(4);
                Pair(reply, "name"u8, consumer.Name);
                Pair(reply, "seen-time"u8, consumer.SeenTime);
                Pair(reply, "pel-count"u8, consumer.Pending.Count);
                reply.Bulk("pending"u8);
                ReplyPendingList(reply, consumer.Pending, count, withConsumer: false);
            }
        }
    }

    /// <summary>One field of XINFO's maps.</summary>
    static void Pair(ReplyBuffer reply, ReadOnlySpan<byte> name, long value)
    {
        reply.Bulk(name);
        reply.Integer(value);
    }

    static void Pair(ReplyBuffer reply, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        reply.Bulk(name);
        reply.Bulk(value);
    }

    /// <summary>XINFO STREAM FULL's pending lists: at most <paramref name="count"/> (0 = all) [id, (consumer,) delivery time, count].</summary>
    static void ReplyPendingList(ReplyBuffer reply, PendingList list, long count, bool withConsumer)
    {
        long shown = count == 0 ? list.Count : Math.Min(count, list.Count);
        reply.ArrayHeader(shown);
        foreach (var pending in list.Values.Take((int)shown))
        {
            reply.ArrayHeader(withConsumer ? 4 : 3);
            StreamCommands.ReplyId(reply, pending.Id);
            if (withConsumer) reply.Bulk(pending.Consumer!.Name);
            reply.Integer(pending.DeliveryTime);
            reply.Integer(pending.DeliveryCount);
        }
    }

    static void ReplyEdge(ReplyBuffer reply, StreamValue stream, bool reverse)
    {
        var it = new StreamIterator(stream, StreamId.Zero, StreamId.Max, reverse);
        if (it.MoveNext()) StreamCommands.ReplyEntry(reply, it);
        else reply.NullBulk();
    }
}
