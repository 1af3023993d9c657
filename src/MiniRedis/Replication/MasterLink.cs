using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Replication;

/// <summary>What the replica side needs of the server: the keyspace emptied and loaded from a received RDB, and the master's commands run.</summary>
/// <param name="EmptyData">Redis's emptyData: every database and the function libraries (executor).</param>
/// <param name="LoadRdb">Starts loading a received RDB file into the empty keyspace (executor), in slices while clients get -LOADING; the callback (executor) gets the database its replication stream has selected (its repl-stream-db, else 0), or null when it is invalid.</param>
/// <param name="NewSession">A session for the master's connection, in the given database.</param>
/// <param name="Submit">Queues a batch of the master's commands to the executor.</param>
/// <param name="Connect">Registers the master's session with the clients (executor), as a connection's is.</param>
/// <param name="Disconnect">Forgets it (executor).</param>
/// <param name="Ready">The data on disk is loaded: a full sync may replace it.</param>
/// <param name="ListeningPort">The port listened on, which REPLCONF listening-port announces unless replica-announce-port is set.</param>
public sealed record ReplicaHost(Action StopBackgroundJobs, Action EmptyData, Action<string, Action<int?>> LoadRdb, Func<IClientConnection, int, ClientSession> NewSession,
    Action<ClientSession, CommandBatch> Submit, Action<ClientSession> Connect, Action<ClientSession> Disconnect, Func<bool> Ready, Func<int> ListeningPort);

/// <summary>
/// The replica side (Redis's replication.c, replica half): one link to the master, on a thread of its
/// own. It connects, handshakes (PING, AUTH, REPLCONF listening-port and capa, PSYNC), receives a
/// full sync's RDB (<c>$len</c> or EOF-marked) into a temporary file and waits while the executor
/// loads it in slices (clients get -LOADING), then reads the stream: one command per batch, so the
/// processed offset is exact; the commands run as the master client (no replies, no write checks),
/// and once run their bytes, exactly as received, go on to the backlog and this server's own replicas. A lost link is retried every
/// second with PSYNC from the cached replid and offset.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "_stop and _batchSlots are shared by the link thread and Stop (called from the executor) with no point where both are done; one link per REPLICAOF, so their wait handles are left to the finalizer.")]
public sealed class MasterLink : IClientConnection
{
    const int ReadBuffer = 64 * 1024;
    const int MaxBatches = 64;

    readonly ReplicationState _replication;
    readonly ServerConfig _config;
    readonly ILogger _logger;
    readonly Executor _executor;
    readonly ReplicaHost _host;
    readonly string _masterHost;
    readonly int _masterPort;
    readonly Thread _thread;
    readonly CancellationTokenSource _stop = new();
    readonly object _sendLock = new();
    readonly ConcurrentQueue<InFlight> _inFlight = new();
    readonly ConcurrentBag<CommandBatch> _freeBatches = [];
    readonly SemaphoreSlim _batchSlots = new(MaxBatches, MaxBatches);
    Socket? _socket;
    ClientSession? _session;
    byte[] _buffer = new byte[ReadBuffer];
    int _start;
    int _end;
    // Link thread: whether the stream is inside MULTI after the last command parsed.
    bool _inMulti;
    // Executor: batches of the running round already counted by CountRunBatches.
    int _counted;
    bool _ackAfterLoad;

    /// <summary>A master command handed to the executor: its bytes as received, and whether the stream is outside MULTI after it.</summary>
    readonly record struct InFlight(CommandBatch Batch, byte[] Raw, int Bytes, bool OutsideMulti);

    internal MasterLink(ReplicationState replication, ServerConfig config, ILogger logger, Executor executor, ReplicaHost host, string masterHost, int masterPort)
    {
        _replication = replication;
        _config = config;
        _logger = logger;
        _executor = executor;
        _host = host;
        _masterHost = masterHost;
        _masterPort = masterPort;
        _thread = new Thread(Run) { Name = "miniredis-replica-link", IsBackground = true };
    }

    public string MasterHost => _masterHost;
    public int MasterPort => _masterPort;

    /// <summary>master_link_status up: the stream flows.</summary>
    public bool Connected { get; private set; }

    /// <summary>A full sync's transfer or load runs (master_sync_in_progress).</summary>
    public bool SyncInProgress { get; private set; }

    /// <summary>Unix ms of the last bytes from the master, and when the link went down (0: it never was up).</summary>
    public long LastIoMs { get; private set; }
    public long DownSinceMs { get; private set; }

    /// <summary>A full sync's payload: its announced size (0 for an EOF-marked one) and the bytes received (master_sync_*).</summary>
    public long SyncTotalBytes { get; private set; }
    public long SyncReadBytes { get; private set; }

    /// <summary>The master's session while connected: its commands obey no write checks.</summary>
    public ClientSession? Session => _session;

    public void Start() => _thread.Start();

    /// <summary>REPLICAOF NO ONE / another master: the link ends (the thread exits on its own).</summary>
    public void Stop()
    {
        _stop.Cancel();
        CloseSocket();
    }

    void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                ConnectAndSync();
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or ReplicationException or OperationCanceledException)
            {
                if (_stop.IsCancellationRequested) break;
                if (e is ReplicationException) _logger.LogWarning("{Message}", e.Message);
                else if (Connected || SyncInProgress) _logger.LogWarning("Connection with master lost.");
                else _logger.LogWarning("Error condition on socket for SYNC: {Error}", e.Message);
            }
            LinkDown();
            if (_stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1))) break;
        }
        CloseSocket();
    }

    void LinkDown()
    {
        bool wasUp = Connected;
        Connected = false;
        SyncInProgress = false;
        CloseSocket();
        if (wasUp)
        {
            DownSinceMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            _logger.LogInformation("Caching the disconnected master state.");
        }
        if (_session is { } session)
        {
            _session = null;
            _executor.Post(() =>
            {
                _replication.MasterDisconnected(session.Db.Index);
                _host.Disconnect(session);
            });
        }
    }

    void CloseSocket()
    {
        var socket = Interlocked.Exchange(ref _socket, null);
        if (socket is null) return;
        try { socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        socket.Dispose();
    }

    // ---- handshake -----------------------------------------------------------------------------

    void ConnectAndSync()
    {
        while (!Invoke(_host.Ready)) _stop.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(100));
        // Every batch of the last link has been run or dropped by now (the executor ran what was queued before):
        // none may count in the new link's offset.
        while (_inFlight.TryDequeue(out var stale)) Recycle(stale);
        _inMulti = false;
        _logger.LogInformation("Connecting to MASTER {Host}:{Port}", _masterHost, _masterPort);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket = socket;
        _start = _end = 0;
        socket.ReceiveTimeout = _config.ReplTimeout * 1000;
        socket.Connect(_masterHost, _masterPort);
        _logger.LogInformation("MASTER <-> REPLICA sync started");
        _logger.LogInformation("Non blocking connect for SYNC fired the event.");
        string pong = Command("PING");
        if (!pong.StartsWith('+') && !pong.StartsWith("-NOAUTH", StringComparison.Ordinal) && !pong.StartsWith("-NOPERM", StringComparison.Ordinal)
            && !pong.StartsWith("-ERR operation not permitted", StringComparison.Ordinal))
            throw new ReplicationException($"Error reply to PING from master: '{pong}'");
        _logger.LogInformation("Master replied to PING, replication can continue...");
        if (_config.MasterAuth is { } password)
        {
            string auth = _config.MasterUser is { } user ? Command("AUTH", user, password) : Command("AUTH", password);
            if (auth.StartsWith('-')) throw new ReplicationException($"Unable to AUTH to MASTER: {auth[1..]}");
        }
        int port = _config.ReplicaAnnouncePort != 0 ? _config.ReplicaAnnouncePort : _host.ListeningPort();
        NonCritical("listening-port", Command("REPLCONF", "listening-port", port.ToString(CultureInfo.InvariantCulture)));
        if (_config.ReplicaAnnounceIp is { } ip) NonCritical("ip-address", Command("REPLCONF", "ip-address", ip));
        NonCritical("capa", Command("REPLCONF", "capa", "eof", "capa", "psync2"));
        var (replid, offset) = Invoke(_replication.CachedMaster);
        if (replid is null) _logger.LogInformation("Partial resynchronization not possible (no cached master)");
        else _logger.LogInformation("Trying a partial resynchronization (request {Id}:{Offset}).", replid, offset + 1);
        string psyncOffset = replid is null ? "-1" : (offset + 1).ToString(CultureInfo.InvariantCulture);
        // A master failing over asks its target to become the master first.
        bool failover = Invoke(() => _replication.Failover.AsksTargetToTakeOver);
        Send(failover ? Encode("PSYNC", replid ?? "?", psyncOffset, "FAILOVER") : Encode("PSYNC", replid ?? "?", psyncOffset));
        string reply = ReadLine(skipNewlines: true);
        if (failover && !reply.StartsWith("-NOMASTERLINK", StringComparison.Ordinal) && !reply.StartsWith("-LOADING", StringComparison.Ordinal))
        {
            bool accepted = reply.StartsWith("+FULLRESYNC", StringComparison.Ordinal) || reply.StartsWith("+CONTINUE", StringComparison.Ordinal);
            // A refusal makes this server a master again, which stops this link.
            Invoke(() => _replication.Failover.TargetReplied(accepted));
            if (!accepted) throw new ReplicationException($"Unexpected reply to PSYNC from master: {reply}");
        }
        if (reply.StartsWith("+FULLRESYNC", StringComparison.Ordinal))
        {
            var parts = reply.Split(' ');
            if (parts.Length < 3 || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out long masterOffset))
                throw new ReplicationException("Master replied with wrong +FULLRESYNC syntax.");
            _logger.LogInformation("Full resync from master: {Id}:{Offset}", parts[1], masterOffset);
            Invoke(_replication.FullSyncAccepted);
            FullSync(parts[1], masterOffset);
        }
        else if (reply.StartsWith("+CONTINUE", StringComparison.Ordinal))
        {
            string? newId = reply.Length > "+CONTINUE ".Length ? reply["+CONTINUE ".Length..].Trim() : null;
            _logger.LogInformation("Successful partial resynchronization with master.");
            Invoke(() => _replication.PartialResyncAccepted(newId));
            _logger.LogInformation("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        }
        else if (reply.StartsWith("-NOMASTERLINK", StringComparison.Ordinal) || reply.StartsWith("-LOADING", StringComparison.Ordinal))
        {
            throw new ReplicationException($"Master is currently unable to PSYNC but should be in the future: {reply[1..]}");
        }
        else
        {
            throw new ReplicationException($"Unexpected reply to PSYNC from master: {reply}");
        }
        Stream();
    }

    /// <summary>A REPLCONF the master refused: logged, the handshake goes on (an old master may not know it).</summary>
    void NonCritical(string option, string reply)
    {
        if (reply.StartsWith('-')) _logger.LogInformation("(Non critical) Master does not understand REPLCONF {Option}: {Reply}", option, reply[1..]);
    }

    /// <summary>The RDB to a temporary file, then emptied and loaded on the executor (Redis's readSyncBulkPayload).</summary>
    void FullSync(string replid, long offset)
    {
        SyncInProgress = true;
        SyncTotalBytes = SyncReadBytes = 0;
        string header = ReadLine(skipNewlines: true);
        if (header.StartsWith('-')) throw new ReplicationException($"MASTER aborted replication with an error: {header[1..]}");
        if (!header.StartsWith('$')) throw new ReplicationException($"Bad protocol from MASTER, the first byte is not '$' (we received '{header}'), are you sure the host and port are right?");
        string path = Path.Combine(_config.Dir, $"temp-{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Environment.ProcessId}.rdb");
        try
        {
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
            {
                if (header.StartsWith("$EOF:", StringComparison.Ordinal) && header.Length == 5 + 40)
                {
                    _logger.LogInformation("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
                    ReceiveUntilMark(file, Encoding.ASCII.GetBytes(header[5..]));
                    // Redis's replica acknowledges at once: the master starts the stream on that ACK.
                    _ackAfterLoad = true;
                }
                else if (long.TryParse(header.AsSpan(1), CultureInfo.InvariantCulture, out long length) && length >= 0)
                {
                    _logger.LogInformation("MASTER <-> REPLICA sync: receiving {Bytes} bytes from master to disk", length);
                    SyncTotalBytes = length;
                    ReceiveExactly(file, length);
                }
                else throw new ReplicationException($"Bad protocol from MASTER, the first byte is not '$' (we received '{header}'), are you sure the host and port are right?");
            }
            if (!Load(path, replid, offset))
            {
                throw new ReplicationException("Failed trying to load the MASTER synchronization DB from disk, check server logs.");
            }
            _logger.LogInformation("MASTER <-> REPLICA sync: Finished with success");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// The received RDB replaces the dataset (Redis's readSyncBulkPayload after the transfer): the
    /// link thread waits while the executor loads it in slices, serving -LOADING meanwhile, as Redis
    /// reads no more of the master's link during its load. False when it could not be loaded.
    /// </summary>
    bool Load(string path, string replid, long offset)
    {
        var loaded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Invoke(() =>
        {
            _host.StopBackgroundJobs();
            _replication.FullSyncReceived();
            _logger.LogInformation("MASTER <-> REPLICA sync: Flushing old data");
            _host.EmptyData();
            _logger.LogInformation("MASTER <-> REPLICA sync: Loading DB in memory");
            _host.LoadRdb(path, streamDb =>
            {
                if (streamDb is { } db) _replication.FullSyncLoaded(replid, offset, db);
                loaded.SetResult(streamDb is not null);
            });
        });
        return loaded.Task.GetAwaiter().GetResult();
    }

    void ReceiveExactly(Stream file, long length)
    {
        while (length > 0)
        {
            if (_start == _end) Fill();
            int n = (int)Math.Min(length, _end - _start);
            file.Write(_buffer, _start, n);
            _start += n;
            length -= n;
            SyncReadBytes += n;
        }
    }

    /// <summary>
    /// A diskless transfer: the payload ends with the 40 random bytes of the header. Each read is
    /// searched together with the last bytes held back from the previous one (the mark may straddle
    /// two reads); everything before the held-back tail is payload.
    /// </summary>
    void ReceiveUntilMark(Stream file, byte[] mark)
    {
        var window = new byte[mark.Length + _buffer.Length];
        int held = 0;
        while (true)
        {
            if (_start == _end) Fill();
            int fresh = Math.Min(_end - _start, window.Length - held);
            Buffer.BlockCopy(_buffer, _start, window, held, fresh);
            SyncReadBytes += fresh;
            int length = held + fresh;
            int at = window.AsSpan(0, length).IndexOf(mark);
            if (at >= 0)
            {
                file.Write(window, 0, at);
                _start += at + mark.Length - held;
                return;
            }
            _start += fresh;
            int keep = Math.Min(mark.Length - 1, length);
            file.Write(window, 0, length - keep);
            Buffer.BlockCopy(window, length - keep, window, 0, keep);
            held = keep;
        }
    }

    // ---- the stream ----------------------------------------------------------------------------

    void Stream()
    {
        SyncInProgress = false;
        var session = Invoke(() =>
        {
            // The stream goes on in the database it had selected (the cached master's).
            var master = _host.NewSession(this, _replication.StreamDb);
            master.Authenticated = true;
            master.User = null;
            _host.Connect(master);
            return master;
        });
        _session = session;
        Connected = true;
        if (_ackAfterLoad)
        {
            _ackAfterLoad = false;
            SendAck(Invoke(() => _replication.MasterOffset));
        }
        // One command per batch (a batch is closed once it holds any argument byte), so the processed
        // offset and the MULTI tracking are exact; the master is authenticated (Redis marks its client
        // so): none of the small limits of a client that must still AUTH.
        var limits = new ParseLimits(_config.ProtoMaxBulkLen, MaxBatchBytes: 1, Unauthenticated: false);
        while (!_stop.IsCancellationRequested)
        {
            if (_start == _end) Fill();
            while (_start < _end)
            {
                _batchSlots.Wait(_stop.Token);
                if (!_freeBatches.TryTake(out var batch)) batch = new CommandBatch();
                batch.Clear();
                var sequence = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
                var consumed = RespParser.Parse(sequence, batch, limits);
                int bytes = (int)sequence.Slice(0, consumed).Length;
                if (batch.ProtocolError is not null) throw new ReplicationException($"Protocol error from MASTER: {batch.ProtocolError}");
                if (batch.Count == 0)
                {
                    // Half a command: keep what came and read more.
                    _freeBatches.Add(batch);
                    _batchSlots.Release();
                    Compact();
                    break;
                }
                var raw = ArrayPool<byte>.Shared.Rent(bytes);
                Buffer.BlockCopy(_buffer, _start, raw, 0, bytes);
                _start += bytes;
                TrackMulti(batch);
                _inFlight.Enqueue(new InFlight(batch, raw, bytes, !_inMulti));
                _host.Submit(session, batch);
            }
        }
    }

    /// <summary>MULTI opens a transaction in the stream, EXEC and DISCARD close it.</summary>
    void TrackMulti(CommandBatch batch)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            var name = batch[i][0];
            if (Ascii.EqualsIgnoreCase(name, "MULTI"u8)) _inMulti = true;
            else if (Ascii.EqualsIgnoreCase(name, "EXEC"u8) || Ascii.EqualsIgnoreCase(name, "DISCARD"u8)) _inMulti = false;
        }
    }

    void Compact()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        Fill();
    }

    void Fill()
    {
        if (_start == _end) _start = _end = 0;
        var socket = _socket ?? throw new ObjectDisposedException("link");
        int n = socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        if (n == 0) throw new IOException("the master closed the connection");
        _end += n;
        LastIoMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    }

    // ---- IClientConnection: the master's session ---------------------------------------------

    string IClientConnection.RemoteAddress => $"{_masterHost}:{_masterPort}";
    string IClientConnection.LocalAddress => "";
    bool IClientConnection.IsUnixSocket => false;

    /// <summary>The round ran the batches: nothing is replied to the master; the offset counts their bytes.</summary>
    void IClientConnection.SendReplies(int completedBatches)
    {
        _session?.Reply.Clear();
        Count(completedBatches - _counted);
        _counted = 0;
        _replication.AfterStreamRound();
    }

    /// <summary>
    /// The master's commands already run this round are counted now rather than when the round's
    /// replies go out: a snapshot taken mid-round holds their effects, so its offset must too (executor).
    /// </summary>
    internal void CountRunBatches()
    {
        int run = (_session?.CompletedBatches ?? 0) - _counted;
        Count(run);
        _counted += run;
    }

    void Count(int batches)
    {
        for (int i = 0; i < batches && _inFlight.TryDequeue(out var done); i++)
        {
            _replication.StreamProcessed(done.Raw.AsSpan(0, done.Bytes), done.OutsideMulti);
            Recycle(done);
        }
    }

    void Recycle(InFlight done)
    {
        ArrayPool<byte>.Shared.Return(done.Raw);
        _freeBatches.Add(done.Batch);
        _batchSlots.Release();
    }

    long IClientConnection.PendingOutputBytes => 0;
    int IClientConnection.PendingOutputSegments => 0;
    long IClientConnection.QueryBufferBytes => _end - _start;
    long IClientConnection.Fd => _socket?.SafeHandle.DangerousGetHandle() ?? -1;
    void IClientConnection.CheckOutputLimit() { }
    void IClientConnection.Close() => CloseSocket();
    void IClientConnection.ReleaseIdleBuffers() { }
    long IClientConnection.BufferedBytes => _end - _start;

    /// <summary>REPLCONF ACK offset to the master (every second, and on GETACK).</summary>
    public void SendAck(long offset)
    {
        if (!Connected) return;
        try
        {
            Send(Encode("REPLCONF", "ACK", offset.ToString(CultureInfo.InvariantCulture)));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The read loop notices the broken link.
        }
    }

    // ---- plumbing ------------------------------------------------------------------------------

    T Invoke<T>(Func<T> function) => _executor.InvokeAsync(function).GetAwaiter().GetResult();

    void Invoke(Action action) => Invoke(() =>
    {
        action();
        return true;
    });

    string Command(params string[] args)
    {
        Send(Encode(args));
        return ReadLine(skipNewlines: false);
    }

    void Send(byte[] bytes)
    {
        lock (_sendLock)
        {
            var socket = _socket ?? throw new ObjectDisposedException("link");
            socket.Send(bytes);
        }
    }

    static byte[] Encode(params string[] args)
    {
        var text = new StringBuilder();
        text.Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args) text.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>One reply line without its CRLF; with <paramref name="skipNewlines"/> the master's keepalive newlines are skipped.</summary>
    string ReadLine(bool skipNewlines)
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline < 0)
            {
                if (_end - _start > RespParser.InlineMaxSize) throw new ReplicationException("Bad protocol from MASTER: line too long");
                Compact();
                continue;
            }
            string line = Encoding.Latin1.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
            _start = newline + 1;
            if (line.Length == 0 && skipNewlines) continue;
            return line;
        }
    }
}

/// <summary>A replication protocol failure, logged as its message before the link is retried.</summary>
sealed class ReplicationException(string message) : Exception(message);
