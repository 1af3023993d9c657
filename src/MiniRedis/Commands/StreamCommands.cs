using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Notifications;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>
/// Stream commands on entries (Redis's t_stream.c): XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID,
/// and XREAD/XREADGROUP, which serve new entries (or a consumer's history) and block for them.
/// Consumer group management lives in <see cref="StreamGroupCommands"/>.
/// </summary>
public static unsafe class StreamCommands
{
    internal const string InvalidIdError = "ERR Invalid stream ID specified as stream command argument";
    const string NoKeyError = "ERR no such key";

    /// <summary>Redis's XREAD_BLOCKED_DEFAULT_COUNT: what a blocked read without COUNT is served at most.</summary>
    const long BlockedDefaultCount = 1000;

    public static void Register(CommandTable t)
    {
        t.Add("xadd", &XAdd);
        t.Add("xrange", &XRange);
        t.Add("xrevrange", &XRevRange);
        t.Add("xlen", &XLen);
        t.Add("xdel", &XDel);
        t.Add("xtrim", &XTrim);
        t.Add("xsetid", &XSetId);
        t.Add("xread", &XRead);
        t.Add("xreadgroup", &XReadGroup);
        StreamGroupCommands.Register(t);
    }

    /// <summary>The stream at <paramref name="entry"/>; replies WRONGTYPE and returns false for another type.</summary>
    internal static bool TryGetStream(CommandContext ctx, KeyEntry? entry, out StreamValue? stream)
    {
        stream = null;
        if (entry is null) return true;
        if (entry.Type == RedisType.Stream)
        {
            stream = (StreamValue)entry.Value;
            return true;
        }
        ctx.WrongType();
        return false;
    }

    /// <summary>Redis's streamParseStrictIDOrReply: an ID that is not "-" or "+".</summary>
    internal static bool TryParseStrictId(CommandContext ctx, int index, out StreamId id, ulong missingSeq = 0)
    {
        var arg = ctx.Arg(index);
        if (!IsSingle(arg, '-') && !IsSingle(arg, '+') && StreamId.TryParse(arg, missingSeq, false, out id, out _)) return true;
        id = default;
        ctx.Error(InvalidIdError);
        return false;
    }

    /// <summary>Redis's streamParseIDOrReply: "-" and "+" stand for the smallest and greatest IDs.</summary>
    internal static bool TryParseId(CommandContext ctx, ReadOnlySpan<byte> arg, ulong missingSeq, out StreamId id)
    {
        if (IsSingle(arg, '-'))
        {
            id = StreamId.Zero;
            return true;
        }
        if (IsSingle(arg, '+'))
        {
            id = StreamId.Max;
            return true;
        }
        if (StreamId.TryParse(arg, missingSeq, false, out id, out _)) return true;
        ctx.Error(InvalidIdError);
        return false;
    }

    static bool IsSingle(ReadOnlySpan<byte> arg, char c) => arg.Length >= 1 && arg[0] == c && (arg.Length == 1 || arg[1] == 0);

    /// <summary>
    /// An interval bound (Redis's streamParseIntervalIDOrReply): "(" makes it exclusive, turned here into the
    /// next (start) or previous (end) ID with Redis's errors at the edges.
    /// </summary>
    internal static bool TryParseBound(CommandContext ctx, int index, bool isStart, out StreamId id)
    {
        var arg = ctx.Arg(index);
        bool exclusive = arg.Length > 1 && arg[0] == '(';
        ulong missingSeq = isStart ? 0 : ulong.MaxValue;
        if (exclusive)
        {
            var inner = arg[1..];
            if (IsSingle(inner, '-') || IsSingle(inner, '+') || !StreamId.TryParse(inner, missingSeq, false, out id, out _))
            {
                id = default;
                ctx.Error(InvalidIdError);
                return false;
            }
            bool moved = isStart ? id.TryIncrement(out id) : id.TryDecrement(out id);
            if (!moved) ctx.Error(isStart ? "ERR invalid start ID for the interval" : "ERR invalid end ID for the interval");
            return moved;
        }
        return TryParseId(ctx, arg, missingSeq, out id);
    }

    internal static void ReplyId(ReplyBuffer reply, StreamId id)
    {
        Span<byte> buffer = stackalloc byte[StreamId.MaxFormattedLength];
        reply.Bulk(buffer[..id.Format(buffer)]);
    }

    /// <summary>
    /// Writes the iterator's current entry as [id, [field, value, ...]]. An entry's parts go into the reply's
    /// buffer as spans taken once per header and per field-value pair (XRANGE of 100 entries wrote ~1,000
    /// small pieces through the buffer's general calls, each checking its room).
    /// </summary>
    internal static void ReplyEntry(ReplyBuffer reply, in StreamIterator it)
    {
        Span<byte> id = stackalloc byte[StreamId.MaxFormattedLength];
        id = id[..it.Id.Format(id)];
        // "*2", the ID as a bulk string, the fields' array header: 4 + 45 + 24 bytes at most.
        var span = reply.GetSpan(80);
        span[0] = (byte)'*';
        span[1] = (byte)'2';
        int n = 2 + WriteCrlf(span[2..]);
        n += WriteBulk(span[n..], id);
        span[n++] = (byte)'*';
        n += RedisNumbers.FormatInt64(it.FieldCount * 2L, span[n..]);
        n += WriteCrlf(span[n..]);
        reply.Advance(n);
        var writer = new FieldWriter(reply);
        it.ReadFields(ref writer);
    }

    /// <summary>What a bulk string adds to its bytes: '$', up to 10 digits of length, two CRLFs.</summary>
    const int BulkOverhead = 15;

    /// <summary>Pairs up to this size are written into one span of the reply's buffer; longer ones piece by piece.</summary>
    const int InlinePairBytes = 4096;

    struct FieldWriter(ReplyBuffer reply) : IStreamFieldVisitor
    {
        public readonly void Visit(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            if (field.Length + value.Length > InlinePairBytes)
            {
                reply.Bulk(field);
                reply.Bulk(value);
                return;
            }
            var span = reply.GetSpan(field.Length + value.Length + 2 * BulkOverhead);
            int n = WriteBulk(span, field);
            n += WriteBulk(span[n..], value);
            reply.Advance(n);
        }
    }

    /// <summary>Writes <paramref name="value"/> as a RESP bulk string at the start of <paramref name="dest"/>; returns the bytes written.</summary>
    static int WriteBulk(Span<byte> dest, ReadOnlySpan<byte> value)
    {
        dest[0] = (byte)'$';
        int n = 1 + RedisNumbers.FormatInt64(value.Length, dest[1..]);
        n += WriteCrlf(dest[n..]);
        value.CopyTo(dest[n..]);
        n += value.Length;
        return n + WriteCrlf(dest[n..]);
    }

    static int WriteCrlf(Span<byte> dest)
    {
        dest[1] = (byte)'\n';
        dest[0] = (byte)'\r';
        return 2;
    }

    /// <summary>Replies the entries in [start, end] (at most <paramref name="count"/>, 0 = all) as an array; returns how many.</summary>
    internal static long ReplyRange(ReplyBuffer reply, StreamValue stream, StreamId start, StreamId end, long count, bool reverse)
    {
        int handle = reply.BeginDeferredArray();
        long emitted = 0;
        var it = new StreamIterator(stream, start, end, reverse);
        while ((count == 0 || emitted < count) && it.MoveNext())
        {
            ReplyEntry(reply, it);
            emitted++;
        }
        reply.EndDeferredArray(handle, emitted);
        return emitted;
    }

    // ---- XADD / XTRIM ----

    /// <summary>What XADD and XTRIM parsed (Redis's streamAddTrimArgs).</summary>
    struct TrimArgs
    {
        public bool HasStrategy;
        public bool ByMinId;
        public long MaxLength;
        public StreamId MinId;
        public bool Approx;
        public long Limit;
        /// <summary>Index of the MAXLEN count / MINID id argument (rewritten for propagation after an approximate trim).</summary>
        public int StrategyArgIndex;
        public bool NoMkStream;
        public bool IdGiven, SeqGiven;
        public StreamId Id;
    }

    /// <summary>
    /// Redis's streamParseAddOrTrimArgsOrReply from argument 2; returns the index where XADD's ID (or '*')
    /// stands, or -1 after an error reply.
    /// </summary>
    static int ParseAddOrTrimArgs(CommandContext ctx, bool xadd, out TrimArgs args)
    {
        args = default;
        bool limitGiven = false;
        int i = 2;
        for (; i < ctx.ArgCount; i++)
        {
            int moreArgs = ctx.ArgCount - 1 - i;
            var opt = ctx.Arg(i);
            if (xadd && IsSingle(opt, '*')) break;
            bool maxLen = ctx.ArgIs(i, "MAXLEN"u8);
            if ((maxLen || ctx.ArgIs(i, "MINID"u8)) && moreArgs > 0)
            {
                if (args.HasStrategy)
                {
                    ctx.Error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                    return -1;
                }
                args.Approx = false;
                var next = ctx.Arg(i + 1);
                if (moreArgs >= 2 && IsSingle(next, '~'))
                {
                    args.Approx = true;
                    i++;
                }
                else if (moreArgs >= 2 && IsSingle(next, '=')) i++;
                if (maxLen)
                {
                    if (!ctx.TryGetLong(i + 1, out args.MaxLength)) return -1;
                    if (args.MaxLength < 0)
                    {
                        ctx.Error("ERR The MAXLEN argument must be >= 0.");
                        return -1;
                    }
                }
                else if (!TryParseStrictId(ctx, i + 1, out args.MinId)) return -1;
                i++;
                args.HasStrategy = true;
                args.ByMinId = !maxLen;
                args.StrategyArgIndex = i;
            }
            else if (ctx.ArgIs(i, "LIMIT"u8) && moreArgs > 0)
            {
                if (!ctx.TryGetLong(i + 1, out args.Limit)) return -1;
                if (args.Limit < 0)
                {
                    ctx.Error("ERR The LIMIT argument must be >= 0.");
                    return -1;
                }
                limitGiven = true;
                i++;
            }
            else if (xadd && ctx.ArgIs(i, "NOMKSTREAM"u8)) args.NoMkStream = true;
            else if (xadd)
            {
                if (IsSingle(opt, '-') || IsSingle(opt, '+') || !StreamId.TryParse(opt, 0, true, out args.Id, out args.SeqGiven))
                {
                    ctx.Error(InvalidIdError);
                    return -1;
                }
                args.IdGiven = true;
                break;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return -1;
            }
        }
        if (args.Limit != 0 && !args.HasStrategy)
        {
            ctx.Error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
            return -1;
        }
        if (!xadd && !args.HasStrategy)
        {
            ctx.Error("ERR syntax error, XTRIM must be called with a trimming strategy");
            return -1;
        }
        // Replayed commands trim exactly as written: the logged count/ID was rewritten to what was trimmed.
        if (ctx.Client.IsAofLoader) args.Limit = 0;
        else if (limitGiven)
        {
            if (!args.Approx)
            {
                ctx.Error("ERR syntax error, LIMIT cannot be used without the special ~ option");
                return -1;
            }
        }
        else if (args.Approx)
        {
            args.Limit = 100 * ctx.Config.StreamNodeMaxEntries;
            if (args.Limit <= 0 || args.Limit > 1_000_000) args.Limit = 10_000;
        }
        else args.Limit = 0;
        return i;
    }

    /// <summary>Trims as parsed; true when entries went.</summary>
    static long Trim(StreamValue stream, in TrimArgs args)
        => args.HasStrategy ? stream.Trim(args.MaxLength, args.ByMinId ? args.MinId : null, args.Approx, args.Limit) : 0;

    /// <summary>The argument an approximate trim is logged with: the length kept, or the first ID left (tombstones included).</summary>
    static byte[] TrimArgumentAfter(StreamValue stream, in TrimArgs args)
    {
        if (!args.ByMinId) return System.Text.Encoding.ASCII.GetBytes(stream.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var first = stream.Nodes.Count == 0 ? StreamId.Max : stream.Nodes[0].IdAt(stream.Nodes[0].FirstEntryOffset);
        return first.ToBytes();
    }

    static void XAdd(CommandContext ctx)
    {
        int idIndex = ParseAddOrTrimArgs(ctx, xadd: true, out var args);
        if (idIndex < 0) return;
        int fieldIndex = idIndex + 1;
        int fieldArgs = ctx.ArgCount - fieldIndex;
        if (fieldArgs < 2 || fieldArgs % 2 == 1)
        {
            ctx.Error($"ERR wrong number of arguments for '{ctx.Command.Name}' command");
            return;
        }
        if (args.IdGiven && args.SeqGiven && args.Id.IsZero)
        {
            ctx.Error("ERR The ID specified in XADD must be greater than 0-0");
            return;
        }
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        if (!TryGetStream(ctx, entry, out var stream)) return;
        if (stream is null)
        {
            if (args.NoMkStream)
            {
                ctx.Reply.NullBulk();
                return;
            }
            stream = new StreamValue();
            entry = ctx.Db.Add(key, stream, RedisType.Stream, ObjectEncoding.Stream);
        }
        if (stream.LastId == StreamId.Max)
        {
            ctx.Error("ERR The stream has exhausted the last possible ID, unable to add more items");
            return;
        }
        if (!TryNextId(ctx, stream, args, out var id)) return;
        var fields = new ArgFields(ctx, fieldIndex, fieldArgs);
        long rawBytes = 0;
        for (int i = 0; i < fieldArgs; i++) rawBytes += fields[i].Length;
        if (rawBytes > StreamValue.MaxListpackSize)
        {
            ctx.Error("ERR Elements are too large to be stored");
            return;
        }
        var config = ctx.Config;
        stream.Append(id, in fields, config.StreamNodeMaxBytes, config.StreamNodeMaxEntries);
        ReplyId(ctx.Reply, id);
        ctx.KeyModified(ctx.Db, key);
        ctx.Notify(NotifyClass.Stream, "xadd"u8, key);

        byte[]? trimArgument = null;
        if (args.HasStrategy)
        {
            if (Trim(stream, args) > 0) ctx.Notify(NotifyClass.Stream, "xtrim"u8, key);
            if (args.Approx) trimArgument = TrimArgumentAfter(stream, args);
        }
        PropagateRewritten(ctx, args, trimArgument, args.IdGiven && args.SeqGiven ? -1 : idIndex, id);
        ctx.SignalKeyAsReady(ctx.Db, key);
    }

    /// <summary>Field and value arguments (XADD's, HSET's) read where they are, without a copy per argument.</summary>
    internal readonly struct ArgFields(CommandContext ctx, int first, int count) : StreamValue.IFieldList
    {
        public int Count => count;
        public ReadOnlySpan<byte> this[int index] => ctx.Arg(first + index);
    }

    /// <summary>Redis's ID choice in streamAppendItem: explicit, "ms-*" or "*", and never at or below the last ID.</summary>
    static bool TryNextId(CommandContext ctx, StreamValue stream, in TrimArgs args, out StreamId id)
    {
        const string NotGreaterError = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
        var last = stream.LastId;
        if (!args.IdGiven)
        {
            ulong now = (ulong)ctx.NowMs;
            if (now > last.Ms) id = new(now, 0);
            else last.TryIncrement(out id);
        }
        else if (args.SeqGiven) id = args.Id;
        else if (last.Ms == args.Id.Ms)
        {
            if (last.Seq == ulong.MaxValue)
            {
                // Redis 7.0.15 leaves errno unset on this path, so it answers with its other error.
                id = default;
                ctx.Error("ERR Elements are too large to be stored");
                return false;
            }
            id = new(last.Ms, last.Seq + 1);
        }
        else id = args.Id;
        if (id > last) return true;
        ctx.Error(NotGreaterError);
        return false;
    }

    /// <summary>
    /// Logs the command as Redis rewrites it: an approximate trim as "=" with what it actually kept
    /// (<paramref name="trimArgument"/>), and a generated ID (at <paramref name="idIndex"/>) as the ID chosen.
    /// </summary>
    static void PropagateRewritten(CommandContext ctx, in TrimArgs args, byte[]? trimArgument, int idIndex, StreamId id)
    {
        var record = ctx.Propagate();
        Span<byte> idText = stackalloc byte[StreamId.MaxFormattedLength];
        for (int i = 0; i < ctx.ArgCount; i++)
        {
            if (trimArgument is not null && i == args.StrategyArgIndex - 1) record.Arg("="u8);
            else if (trimArgument is not null && i == args.StrategyArgIndex) record.Arg(trimArgument);
            else if (i == idIndex) record.Arg(idText[..id.Format(idText)]);
            else record.Arg(ctx.Arg(i));
        }
    }

    static void XTrim(CommandContext ctx)
    {
        if (ParseAddOrTrimArgs(ctx, xadd: false, out var args) < 0) return;
        var key = ctx.Arg(1);
        if (LookupWriteOrZero(ctx, key) is not { } stream) return;
        long deleted = Trim(stream, args);
        if (deleted > 0)
        {
            ctx.Notify(NotifyClass.Stream, "xtrim"u8, key);
            if (args.Approx) PropagateRewritten(ctx, args, TrimArgumentAfter(stream, args), -1, default);
            ctx.KeyModified(ctx.Db, key, deleted);
        }
        ctx.Reply.Integer(deleted);
    }

    // ---- reading ----

    static void XRange(CommandContext ctx) => Range(ctx, reverse: false);
    static void XRevRange(CommandContext ctx) => Range(ctx, reverse: true);

    static void Range(CommandContext ctx, bool reverse)
    {
        if (!TryParseBound(ctx, reverse ? 3 : 2, isStart: true, out var start)) return;
        if (!TryParseBound(ctx, reverse ? 2 : 3, isStart: false, out var end)) return;
        long count = -1;
        for (int i = 4; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "COUNT"u8) && i + 1 < ctx.ArgCount)
            {
                if (!ctx.TryGetLong(++i, out count)) return;
                if (count < 0) count = 0;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        var entry = ctx.LookupRead(ctx.Arg(1));
        if (entry is null)
        {
            ctx.Reply.ArrayHeader(0);
            return;
        }
        if (!TryGetStream(ctx, entry, out var stream)) return;
        if (count == 0) ctx.Reply.NullArray();
        else ReplyRange(ctx.Reply, stream!, start, end, count == -1 ? 0 : count, reverse);
    }

    static void XLen(CommandContext ctx)
    {
        if (!TryGetStream(ctx, ctx.LookupRead(ctx.Arg(1)), out var stream)) return;
        ctx.Reply.Integer(stream?.Length ?? 0);
    }

    /// <summary>The stream to change; null after replying 0 (no such key) or WRONGTYPE.</summary>
    static StreamValue? LookupWriteOrZero(CommandContext ctx, ReadOnlySpan<byte> key)
    {
        if (!TryGetStream(ctx, ctx.LookupWrite(key), out var stream)) return null;
        if (stream is null) ctx.Reply.Integer(0);
        return stream;
    }

    static void XDel(CommandContext ctx)
    {
        var key = ctx.Arg(1);
        if (LookupWriteOrZero(ctx, key) is not { } stream) return;
        var ids = new StreamId[ctx.ArgCount - 2];
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            if (!TryParseStrictId(ctx, i, out ids[i - 2])) return;
        }
        long deleted = 0;
        bool firstDeleted = false;
        foreach (var id in ids)
        {
            if (!stream.Delete(id)) continue;
            if (id == stream.FirstId) firstDeleted = true;
            if (id > stream.MaxDeletedId) stream.MaxDeletedId = id;
            deleted++;
        }
        if (deleted > 0)
        {
            if (stream.Length == 0) stream.FirstId = StreamId.Zero;
            else if (firstDeleted) stream.TryGetEdge(first: true, out stream.FirstId);
            ctx.Notify(NotifyClass.Stream, "xdel"u8, key);
            ctx.KeyModified(ctx.Db, key, deleted);
        }
        ctx.Reply.Integer(deleted);
    }

    static void XSetId(CommandContext ctx)
    {
        if (!TryParseStrictId(ctx, 2, out var id)) return;
        long entriesAdded = -1;
        var maxDeleted = StreamId.Zero;
        for (int i = 3; i < ctx.ArgCount; i += 2)
        {
            bool hasValue = i + 1 < ctx.ArgCount;
            if (ctx.ArgIs(i, "ENTRIESADDED"u8) && hasValue)
            {
                if (!ctx.TryGetLong(i + 1, out entriesAdded)) return;
                if (entriesAdded < 0)
                {
                    ctx.Error("ERR entries_added must be positive");
                    return;
                }
            }
            else if (ctx.ArgIs(i, "MAXDELETEDID"u8) && hasValue)
            {
                if (!TryParseStrictId(ctx, i + 1, out maxDeleted)) return;
                if (id < maxDeleted)
                {
                    ctx.Error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                    return;
                }
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        var key = ctx.Arg(1);
        var entry = ctx.LookupWrite(key);
        if (entry is null)
        {
            ctx.Error(NoKeyError);
            return;
        }
        if (!TryGetStream(ctx, entry, out var stream)) return;
        if (stream!.Length > 0)
        {
            if (id < stream.LastValidId())
            {
                ctx.Error("ERR The ID specified in XSETID is smaller than the target stream top item");
                return;
            }
            if (entriesAdded != -1 && stream.Length > entriesAdded)
            {
                ctx.Error("ERR The entries_added specified in XSETID is smaller than the target stream length");
                return;
            }
        }
        stream.LastId = id;
        if (entriesAdded != -1) stream.EntriesAdded = entriesAdded;
        if (!maxDeleted.IsZero) stream.MaxDeletedId = maxDeleted;
        ctx.Reply.Ok();
        ctx.KeyModified(ctx.Db, key);
        ctx.Notify(NotifyClass.Stream, "xsetid"u8, key);
    }

    // ---- XREAD / XREADGROUP ----

    /// <summary>Room on the stack for the IDs and groups of a read of a few streams.</summary>
    [System.Runtime.CompilerServices.InlineArray(Length)]
    struct ReadSlots<T>
    {
        public const int Length = 4;
        T _first;
    }

    static void XRead(CommandContext ctx) => Read(ctx, withGroup: false);
    static void XReadGroup(CommandContext ctx) => Read(ctx, withGroup: true);

    /// <summary>
    /// Redis's xreadCommand. IDs: "$" (XREAD: the stream's last ID, fixed when the client blocks), ">"
    /// (XREADGROUP: entries never delivered to the group), else an explicit ID (XREADGROUP: the consumer's
    /// own pending history after it). Never propagated as itself: a group read logs its effects.
    /// </summary>
    static void Read(CommandContext ctx, bool withGroup)
    {
        ctx.PropagationReplaced = true;
        long deadline = -1, count = 0;
        int streamsIndex = 0, groupIndex = 0;
        bool noAck = false;
        for (int i = 1; i < ctx.ArgCount; i++)
        {
            int moreArgs = ctx.ArgCount - i - 1;
            if (ctx.ArgIs(i, "BLOCK"u8) && moreArgs > 0)
            {
                if (ctx.Client.IsScriptClient)
                {
                    ctx.Error($"ERR {ctx.ArgCString(0)} command is not allowed with BLOCK option from scripts");
                    return;
                }
                if (!TryGetBlockTimeout(ctx, ++i, out deadline)) return;
            }
            else if (ctx.ArgIs(i, "COUNT"u8) && moreArgs > 0)
            {
                if (!ctx.TryGetLong(++i, out count)) return;
                if (count < 0) count = 0;
            }
            else if (ctx.ArgIs(i, "STREAMS"u8) && moreArgs > 0)
            {
                streamsIndex = i + 1;
                if ((ctx.ArgCount - streamsIndex) % 2 != 0)
                {
                    ctx.Error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
                    return;
                }
                break;
            }
            else if (ctx.ArgIs(i, "GROUP"u8) && moreArgs >= 2)
            {
                if (!withGroup)
                {
                    ctx.Error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                    return;
                }
                groupIndex = i + 1;
                i += 2;
            }
            else if (ctx.ArgIs(i, "NOACK"u8))
            {
                if (!withGroup)
                {
                    ctx.Error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                    return;
                }
                noAck = true;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        if (streamsIndex == 0)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        if (withGroup && groupIndex == 0)
        {
            ctx.Error("ERR Missing GROUP option for XREADGROUP");
            return;
        }
        int streamCount = (ctx.ArgCount - streamsIndex) / 2;
        // Held on the stack for the usual few streams.
        var idSlots = new ReadSlots<StreamId>();
        var groupSlots = new ReadSlots<StreamGroup>();
        Span<StreamId> ids = streamCount <= ReadSlots<StreamId>.Length ? idSlots[..streamCount] : new StreamId[streamCount];
        Span<StreamGroup> groups = !withGroup ? default : streamCount <= ReadSlots<StreamGroup>.Length ? groupSlots[..streamCount] : new StreamGroup[streamCount];
        bool resolvedLast = false;
        for (int k = 0; k < streamCount; k++)
        {
            int idIndex = streamsIndex + streamCount + k;
            var keyArg = ctx.Arg(streamsIndex + k);
            // On a retry only the signalled key matters (Redis serves a woken client from that key).
            if (ctx.IsRetry && !keyArg.SequenceEqual(ctx.ReadyKey)) continue;
            var entry = ctx.Db.Lookup(keyArg);
            if (ctx.IsRetry && entry is not { Type: RedisType.Stream })
            {
                // A group reader whose stream was deleted (or replaced) is told so; a plain reader waits on.
                if (withGroup) ctx.Error("UNBLOCKED the stream key no longer exists");
                else ctx.BlockForKeys([], 0, BlockedReply.NullArray);
                return;
            }
            if (!TryGetStream(ctx, entry, out var stream)) return;
            if (withGroup)
            {
                var group = stream?.FindGroup(ctx.Arg(groupIndex));
                if (group is null)
                {
                    if (ctx.IsRetry) ctx.Error("NOGROUP the consumer group this client was blocked on no longer exists");
                    else ctx.Error($"NOGROUP No such key '{ctx.ArgCString(streamsIndex + k)}' or consumer group '{ctx.ArgCString(groupIndex)}' in XREADGROUP with GROUP option");
                    return;
                }
                groups[k] = group;
            }
            var idArg = ctx.Arg(idIndex);
            if (IsSingle(idArg, '$') && idArg.Length == 1)
            {
                if (withGroup)
                {
                    ctx.Error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
                    return;
                }
                ids[k] = stream?.LastId ?? StreamId.Zero;
                resolvedLast = true;
            }
            else if (idArg.Length == 1 && idArg[0] == '>')
            {
                if (!withGroup)
                {
                    ctx.Error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
                    return;
                }
                ids[k] = StreamId.Max;
            }
            else if (!TryParseStrictId(ctx, idIndex, out ids[k])) return;
        }

        if (ctx.IsRetry)
        {
            ServeRetry(ctx, streamsIndex, streamCount, ids, groups, groupIndex, noAck, count == 0 ? BlockedDefaultCount : count);
            return;
        }

        var reply = ctx.Reply;
        int handle = 0;
        long served = 0;
        for (int k = 0; k < streamCount; k++)
        {
            var keyArg = ctx.Arg(streamsIndex + k);
            if (ctx.Db.Lookup(keyArg) is not { } entry) continue;
            var stream = (StreamValue)entry.Value;
            var greaterThan = ids[k];
            bool history = false, serve = false;
            if (withGroup)
            {
                if (greaterThan != StreamId.Max) serve = history = true;
                else if (stream.Length > 0 && stream.LastValidId() > groups[k].LastId)
                {
                    serve = true;
                    greaterThan = groups[k].LastId;
                }
            }
            else serve = stream.Length > 0 && stream.LastValidId() > greaterThan;
            if (!serve) continue;
            if (served++ == 0) handle = reply.BeginDeferredArray();
            if (!reply.Resp3) reply.ArrayHeader(2);
            reply.Bulk(keyArg);
            greaterThan.TryIncrement(out var start);
            if (!withGroup) ReplyRange(reply, stream, start, StreamId.Max, count, reverse: false);
            else
            {
                var consumer = StreamGroupCommands.ConsumerForRead(ctx, groups[k], keyArg, ctx.Arg(groupIndex), ctx.Arg(groupIndex + 1), noAck);
                if (history) ReplyHistory(ctx, stream, consumer, start, count);
                else ReplyNewToGroup(ctx, stream, keyArg, groups[k], ctx.Arg(groupIndex), consumer, start, count, noAck);
                ctx.Dirty++;
            }
        }
        if (served > 0)
        {
            reply.EndDeferredArray(handle, served, map: reply.Resp3);
            return;
        }
        if (deadline < 0)
        {
            reply.NullArray();
            return;
        }
        var keys = new byte[streamCount][];
        for (int k = 0; k < streamCount; k++) keys[k] = ctx.Arg(streamsIndex + k).ToArray();
        ctx.BlockForKeys(keys, deadline, BlockedReply.NullArray, resolvedLast ? ArgsWithIds(ctx, streamsIndex + streamCount, ids) : null);
    }

    /// <summary>The command with its "$" IDs replaced by the IDs they stood for when it blocked, so a retry reads after those.</summary>
    static ArgVector ArgsWithIds(CommandContext ctx, int firstId, ReadOnlySpan<StreamId> ids)
    {
        var batch = new CommandBatch();
        batch.BeginCommand();
        for (int i = 0; i < ctx.ArgCount; i++)
        {
            ReadOnlySpan<byte> arg = i >= firstId ? ids[i - firstId].ToBytes() : ctx.Arg(i);
            arg.CopyTo(batch.AddArgument(arg.Length));
        }
        return batch[0].Clone();
    }

    /// <summary>BLOCK's milliseconds (Redis's getTimeoutFromObjectOrReply in ms units) as an absolute deadline, 0 for forever.</summary>
    static bool TryGetBlockTimeout(CommandContext ctx, int index, out long deadline)
    {
        deadline = 0;
        if (!RedisNumbers.TryParseInt64(ctx.Arg(index), out long ms))
        {
            ctx.Error("ERR timeout is not an integer or out of range");
            return false;
        }
        if (ms < 0)
        {
            ctx.Error("ERR timeout is negative");
            return false;
        }
        // Redis 7.0.15 checks no upper bound here: a huge timeout waits for ever.
        if (ms > 0) deadline = ms > long.MaxValue - ctx.NowMs ? long.MaxValue : ctx.NowMs + ms;
        return true;
    }

    /// <summary>A woken XREAD/XREADGROUP: serves the signalled stream if it grew past the client's ID, else keeps waiting.</summary>
    static void ServeRetry(CommandContext ctx, int streamsIndex, int streamCount, ReadOnlySpan<StreamId> ids, ReadOnlySpan<StreamGroup> groups, int groupIndex, bool noAck, long count)
    {
        for (int k = 0; k < streamCount; k++)
        {
            var keyArg = ctx.Arg(streamsIndex + k);
            if (!keyArg.SequenceEqual(ctx.ReadyKey)) continue;
            if (ctx.Db.Lookup(keyArg) is not { Type: RedisType.Stream } entry) continue;
            var stream = (StreamValue)entry.Value;
            var greaterThan = groups.IsEmpty ? ids[k] : groups[k].LastId;
            if (stream.LastId <= greaterThan) continue;
            greaterThan.TryIncrement(out var start);
            var reply = ctx.Reply;
            if (reply.Resp3) reply.MapHeader(1);
            else
            {
                reply.ArrayHeader(1);
                reply.ArrayHeader(2);
            }
            reply.Bulk(keyArg);
            if (groups.IsEmpty) ReplyRange(reply, stream, start, StreamId.Max, count, reverse: false);
            else
            {
                var consumer = StreamGroupCommands.ConsumerForRead(ctx, groups[k], keyArg, ctx.Arg(groupIndex), ctx.Arg(groupIndex + 1), noAck);
                ReplyNewToGroup(ctx, stream, keyArg, groups[k], ctx.Arg(groupIndex), consumer, start, count, noAck);
            }
            return;
        }
        ctx.BlockForKeys([], 0, BlockedReply.NullArray);
    }

    /// <summary>
    /// Redis's streamReplyWithRange for a group reading new entries: advances the group's last ID and
    /// entries-read, adds each entry to the consumer's pending list (unless NOACK), logging each as an
    /// XCLAIM and the group's new position as XGROUP SETID.
    /// </summary>
    static void ReplyNewToGroup(CommandContext ctx, StreamValue stream, ReadOnlySpan<byte> key, StreamGroup group, ReadOnlySpan<byte> groupName,
        StreamConsumer consumer, StreamId start, long count, bool noAck)
    {
        var reply = ctx.Reply;
        int handle = reply.BeginDeferredArray();
        long emitted = 0;
        bool propagateLastId = false;
        var it = new StreamIterator(stream, start, StreamId.Max, reverse: false);
        while (it.MoveNext())
        {
            var id = it.Id;
            if (id > group.LastId)
            {
                if (group.EntriesRead != StreamGroup.InvalidEntriesRead && !StreamGroupCommands.RangeHasTombstones(stream, id, StreamId.Max)) group.EntriesRead++;
                else if (stream.EntriesAdded != 0) group.EntriesRead = stream.EstimateEntriesRead(id);
                group.LastId = id;
                // Without NOACK the XCLAIM records carry the new last ID (LASTID) themselves.
                propagateLastId = noAck;
            }
            ReplyEntry(reply, it);
            if (!noAck)
            {
                if (!group.Pending.TryGetValue(id, out var pending))
                {
                    pending = new PendingEntry(id, ctx.NowMs, 1);
                    group.Pending.Add(id, pending);
                }
                else
                {
                    pending.DeliveryTime = ctx.NowMs;
                    pending.DeliveryCount = 1;
                }
                StreamGroup.Assign(pending, consumer);
                StreamGroupCommands.PropagateClaim(ctx, key, group, groupName, id, pending);
            }
            emitted++;
            if (count != 0 && emitted == count) break;
        }
        reply.EndDeferredArray(handle, emitted);
        if (propagateLastId) StreamGroupCommands.PropagateGroupId(ctx, key, group, groupName);
    }

    /// <summary>Redis's streamReplyWithRangeFromConsumerPEL: the consumer's own pending entries from <paramref name="start"/>; a deleted one shows as [id, nil].</summary>
    static void ReplyHistory(CommandContext ctx, StreamValue stream, StreamConsumer consumer, StreamId start, long count)
    {
        var reply = ctx.Reply;
        int handle = reply.BeginDeferredArray();
        long emitted = 0;
        foreach (var (id, pending) in consumer.Pending)
        {
            if (id < start) continue;
            if (count != 0 && emitted >= count) break;
            var it = new StreamIterator(stream, id, id, reverse: false);
            if (it.MoveNext())
            {
                ReplyEntry(reply, it);
                pending.DeliveryTime = ctx.NowMs;
                pending.DeliveryCount++;
            }
            else
            {
                reply.ArrayHeader(2);
                ReplyId(reply, id);
                reply.NullArray();
            }
            emitted++;
        }
        reply.EndDeferredArray(handle, emitted);
    }
}
