using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.PubSub;

/// <summary>
/// Client-side caching (Redis's tracking.c). The table maps each key a tracking client read to the
/// ids of those clients; a modification (the same signal WATCH uses) removes the key and sends each
/// client an invalidation: a RESP3 push, or a message on <c>__redis__:invalidate</c> to a RESP2
/// redirection client in subscribed mode. Like Redis, ids of clients that stopped tracking stay
/// until the key is invalidated, and the table is bounded by <c>tracking-table-max-keys</c>. BCAST
/// clients register prefixes instead: keys modified under a prefix are collected and sent once per
/// round, before the replies go out. An invalidation for the client whose own command modified the
/// key is sent after that command's reply. Runs on the executor thread only.
/// </summary>
public sealed class ClientTracking : IModifiedKeyObserver, IClientTracking
{
    static readonly byte[] InvalidateChannel = "__redis__:invalidate"u8.ToArray();
    static readonly byte[] Resp3Null = "_\r\n"u8.ToArray();
    static readonly byte[] Resp2Null = "$-1\r\n"u8.ToArray();

    readonly ExecutionHost _server;
    readonly Dictionary<byte[], List<long>> _table = new(ByteArrayComparer.Instance);
    readonly SortedDictionary<byte[], BroadcastPrefix> _prefixes = new(StreamValue.ByteOrder.Instance);
    // Keys (null: a flush) modified by a running command's own client, sent after its reply.
    readonly List<(ClientSession Client, byte[]? Key)> _pendingForCurrent = [];
    readonly ReplyBuffer _payload = new();
    int _overLimitRuns;

    internal ClientTracking(ExecutionHost server) => _server = server;

    /// <summary>Clients with tracking on (INFO tracking_clients).</summary>
    public int Clients { get; private set; }

    /// <summary>Keys in the table (INFO tracking_total_keys).</summary>
    public int TotalKeys => _table.Count;

    /// <summary>Client ids over all keys (INFO tracking_total_items).</summary>
    public long TotalItems { get; private set; }

    /// <summary>BCAST prefixes with at least one client (INFO tracking_total_prefixes).</summary>
    public int TotalPrefixes => _prefixes.Count;

    /// <summary>The client whose command is running (Redis's server.current_client), null between commands.</summary>
    ClientSession? _current;

    sealed class BroadcastPrefix
    {
        public HashSet<ClientSession> Clients { get; } = [];

        /// <summary>Keys modified this round under the prefix, with the client that last modified each (null: the server).</summary>
        public SortedDictionary<byte[], ClientSession?> Keys { get; } = new(StreamValue.ByteOrder.Instance);
    }

    /// <summary>Redis's enableTracking (the options were validated by CLIENT TRACKING); BCAST without prefixes means every key.</summary>
    public void Enable(ClientSession client, TrackingState state, IReadOnlyList<byte[]> prefixes)
    {
        if (client.Tracking is null) Clients++;
        // Re-enabling keeps the client's prefixes (BCAST cannot be switched while on) and adds the new ones.
        if (client.Tracking is { } previous) state.Prefixes.UnionWith(previous.Prefixes);
        client.Tracking = state;
        if (!state.Bcast) return;
        foreach (var prefix in prefixes.Count == 0 ? [[]] : prefixes)
        {
            state.Prefixes.Add(prefix);
            if (!_prefixes.TryGetValue(prefix, out var entry)) _prefixes[prefix] = entry = new BroadcastPrefix();
            entry.Clients.Add(client);
        }
    }

    /// <summary>Redis's disableTracking (CLIENT TRACKING OFF, RESET, disconnect).</summary>
    public void Disable(ClientSession client)
    {
        if (client.Tracking is not { } state) return;
        foreach (var prefix in state.Prefixes)
        {
            var entry = _prefixes[prefix];
            entry.Clients.Remove(client);
            if (entry.Clients.Count == 0) _prefixes.Remove(prefix);
        }
        client.Tracking = null;
        Clients--;
    }

    /// <summary>
    /// Before a client's command (Redis's processCommand): it becomes the current client, and the
    /// table is kept within its limit. Returns the client it replaces (a blocked client's pipeline
    /// resumes inside another client's command), for <see cref="AfterCommand"/> to restore.
    /// </summary>
    public ClientSession? BeforeCommand(ClientSession client)
    {
        var previous = _current;
        _current = client;
        if (Clients > 0) LimitTableSize();
        return previous;
    }

    /// <summary>
    /// After a client's command: invalidations of keys it modified itself follow its reply, and
    /// CLIENT CACHING's one-shot flag is spent unless the command was CLIENT or ran inside MULTI
    /// (Redis's resetClient).
    /// </summary>
    public void AfterCommand(ClientSession client, ReadOnlySpan<byte> commandName, ClientSession? previous)
    {
        _current = previous;
        if (_pendingForCurrent.Count > 0) SendPendingFor(client);
        // A command held by CLIENT PAUSE has not run yet: it keeps the flag for when it does.
        if (client.Tracking is { Caching: true } state && !client.InMulti && !client.Postponed && !System.Text.Ascii.EqualsIgnoreCase(commandName, "client"u8)) state.Caching = false;
    }

    /// <summary>
    /// The invalidations a client's own command caused, after its reply. A method of its own: the lambda's
    /// capture of <paramref name="client"/> is allocated on entry to the method that holds it, which
    /// made every command allocate when it sat in <see cref="AfterCommand"/>.
    /// </summary>
    void SendPendingFor(ClientSession client)
    {
        foreach (var (target, key) in _pendingForCurrent)
        {
            if (target != client) continue;
            if (key is null) SendNull(client);
            else SendKey(client, key);
        }
        _pendingForCurrent.RemoveAll(pending => pending.Client == client);
    }

    /// <summary>
    /// Redis's trackingRememberKeys, after a read-only command: its keys are remembered for the
    /// client of the command (a script's caller), unless OPTIN/OPTOUT and CLIENT CACHING say otherwise.
    /// </summary>
    public void RememberKeys(ClientSession executing, CommandDef command, ArgVector args)
    {
        var client = _current ?? executing;
        if (client.Tracking is not { Bcast: false } state) return;
        if ((state.OptIn && !state.Caching) || (state.OptOut && state.Caching)) return;
        // Shard channels are keys for cluster routing only; a read-only script's own keys are not
        // remembered, the keys of the commands it runs are.
        if ((command.Flags & CommandFlags.PubSub) != 0 || command.Name is "eval_ro" or "evalsha_ro") return;
        var lookup = _table.GetAlternateLookup<ReadOnlySpan<byte>>();
        foreach (int position in CommandKeys.KeyPositions(command, args))
        {
            if (!lookup.TryGetValue(args[position], out var ids)) lookup[args[position]] = ids = [];
            if (ids.Contains(client.Id)) continue;
            ids.Add(client.Id);
            TotalItems++;
        }
    }

    /// <summary>Redis's trackingInvalidateKey, called for every modified key (signalModifiedKey).</summary>
    public void KeyModified(ReadOnlySpan<byte> key)
    {
        if (_prefixes.Count > 0) RememberForBroadcast(key);
        InvalidateTracked(key);
    }

    /// <summary>The key's entry leaves the table and its clients are told.</summary>
    void InvalidateTracked(ReadOnlySpan<byte> key)
    {
        if (_table.Count == 0 || !_table.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(key, out var storedKey, out var ids)) return;
        TotalItems -= ids.Count;
        foreach (long id in ids)
        {
            if (_server.FindClient(id) is not { Tracking: { Bcast: false } state } target) continue;
            if (target == _current)
            {
                if (!state.NoLoop) _pendingForCurrent.Add((target, storedKey));
                continue;
            }
            SendKey(target, storedKey);
        }
    }

    void RememberForBroadcast(ReadOnlySpan<byte> key)
    {
        byte[]? copy = null;
        foreach (var (prefix, entry) in _prefixes)
        {
            if (!key.StartsWith(prefix)) continue;
            entry.Keys[copy ??= key.ToArray()] = _current;
        }
    }

    /// <summary>Redis's trackingInvalidateKeysOnFlush (FLUSHALL, FLUSHDB): every tracking client is told "everything" (a null), and the table is emptied.</summary>
    public void InvalidateAll()
    {
        if (Clients > 0)
        {
            foreach (var client in _server.Clients)
            {
                if (client.Tracking is null) continue;
                if (client == _current) _pendingForCurrent.Add((client, null));
                else SendNull(client);
            }
        }
        _table.Clear();
        TotalItems = 0;
    }

    /// <summary>Redis's trackingBroadcastInvalidationMessages (beforeSleep): each prefix's modified keys, in one message per client.</summary>
    public void BroadcastPending()
    {
        if (Clients == 0) return;
        foreach (var entry in _prefixes.Values)
        {
            if (entry.Keys.Count == 0) continue;
            foreach (var client in entry.Clients)
            {
                bool noLoop = client.Tracking!.NoLoop;
                int count = 0;
                int handle = _payload.BeginDeferredArray();
                foreach (var (key, modifiedBy) in entry.Keys)
                {
                    if (noLoop && modifiedBy == client) continue;
                    _payload.Bulk(key);
                    count++;
                }
                _payload.EndDeferredArray(handle, count);
                if (count > 0) Send(client, _payload.ContiguousSpan());
                _payload.Clear();
            }
            entry.Keys.Clear();
        }
    }

    /// <summary>Redis's trackingLimitUsedSlots: over tracking-table-max-keys, keys are invalidated, with more effort each time the table stays over.</summary>
    void LimitTableSize()
    {
        long max = _server.Config.TrackingTableMaxKeys;
        if (max == 0 || _table.Count <= max)
        {
            _overLimitRuns = 0;
            return;
        }
        int effort = 100 * (_overLimitRuns + 1);
        var victims = _table.Keys.Take((int)Math.Min(effort, _table.Count - max)).ToArray();
        var current = _current;
        // Invalidated by the server, not by the client about to run a command; the keys did not
        // change, so BCAST clients are not told (Redis's trackingInvalidateKey without bcast).
        _current = null;
        foreach (var key in victims) InvalidateTracked(key);
        _current = current;
        if (_table.Count > max) _overLimitRuns++;
        else _overLimitRuns = 0;
    }

    void SendKey(ClientSession client, byte[] key)
    {
        _payload.ArrayHeader(1);
        _payload.Bulk(key);
        Send(client, _payload.ContiguousSpan());
        _payload.Clear();
    }

    // The null is in the protocol of the tracking client, even when redirected (as Redis's shared.null[c->resp]).
    void SendNull(ClientSession client) => Send(client, client.Reply.Resp3 ? Resp3Null : Resp2Null);

    /// <summary>Redis's sendTrackingMessage: to the client, or to its redirection; RESP2 clients without one get nothing.</summary>
    void Send(ClientSession client, ReadOnlySpan<byte> keys)
    {
        var state = client.Tracking!;
        var target = client;
        if (state.Redirect != 0)
        {
            if (_server.FindClient(state.Redirect) is not { } redirect)
            {
                state.BrokenRedirect = true;
                if (client.Reply.Resp3)
                {
                    client.Reply.PushHeader(2);
                    client.Reply.Bulk("tracking-redir-broken"u8);
                    client.Reply.Integer(state.Redirect);
                    _server.Executor.MarkReplies(client);
                }
                return;
            }
            target = redirect;
        }
        var reply = target.Reply;
        if (reply.Resp3)
        {
            reply.PushHeader(2);
            reply.Bulk("invalidate"u8);
        }
        else if (target != client && target.IsSubscribed)
        {
            reply.ArrayHeader(3);
            reply.Bulk("message"u8);
            reply.Bulk(InvalidateChannel);
        }
        else return;
        reply.Raw(keys);
        _server.Executor.MarkReplies(target);
    }
}
