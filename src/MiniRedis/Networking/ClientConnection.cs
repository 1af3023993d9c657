using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Execution;
using MiniRedis.Memory;
using MiniRedis.Protocol;

namespace MiniRedis.Networking;

/// <summary>
/// One client socket. Reading follows Kestrel's loop: ReadAsync, parse every complete command
/// into a batch, AdvanceTo(consumed, examined) so a partial command waits for more bytes. Two
/// batches alternate so the next one can be parsed while the executor runs the previous one.
/// A plain socket's bytes come from the <see cref="SocketEventLoop"/> (the read loop then runs on its
/// thread); a TLS socket's through its stream, on the socket engine.
/// Replies are sent by the executor right after its round with a non-blocking send, as Redis
/// writes in beforeSleep; only what the socket does not take at once is queued, as segments, for
/// an async sender.
/// Every way a connection ends (peer close, error, limit, CLIENT KILL, timeout, shutdown) goes
/// through <see cref="Close"/>, which disposes the socket once; when the read loop ends on its own
/// (the peer closed or half-closed), the replies to its last commands are sent first, as Redis does.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The executor may release _freeBatches and Close may cancel _closed after the loops ended; neither holds a handle unless asked (no timer, no AvailableWaitHandle), so they are left to the GC.")]
public sealed class ClientConnection : IClientConnection, SocketEventLoop.IDirectReader
{
    const int MaxBatchBytes = 1 << 20;
    // Past this much unsent output the client stops being read from (back-pressure).
    const int MaxPendingOutput = 4 << 20;
    // What a connection leaves behind when it closes (its batches, buffers, socket state), for HeapReturn.
    const int ApproximateConnectionBytes = 16 * 1024;

    readonly ExecutionHost _server;
    readonly Socket _socket;
    readonly PipeReader _reader;
    // On the tls-port: the reader reads through it and every reply goes out through the queued sender.
    readonly TlsTransport? _tls;
    // A plain socket read by the event loop, into the pipe _reader reads.
    readonly SocketEventLoop.Registration? _events;
    readonly CommandBatch[] _batches = [new(), new()];
    readonly SemaphoreSlim _freeBatches = new(2, 2);
    readonly object _sendLock = new();
    readonly CancellationTokenSource _closed = new();
    readonly ClientSession _session;
    int _nextBatch;
    // The read loop waits on the event loop's thread with nothing left over: the loop may hand a read
    // of whole commands straight to TryTake. Set and cleared on the loop's thread only (see TryTake).
    bool _directReads;

    // Output the socket did not take at once, sent by SendPendingAsync; guarded by _sendLock.
    readonly Queue<ReplySegment> _pending = new();
    int _pendingHeadSent;
    long _pendingBytes;
    // Read but not yet parsed into a submitted batch, as of the last read (for used_memory).
    long _queryBytes;
    bool _sending;
    bool _closeWhenSent;
    // Bytes of sent segments given back since the queue was last empty.
    long _releasedBytes;
    int _owedBatchSlots;
    int _socketClosed;
    // When the output first went over the soft limit (Stopwatch ticks), 0 while under it.
    long _softLimitSince;

    public void DisableTcpNoDelay()
    {
        if (IsUnixSocket) return;
        try
        {
            _socket.NoDelay = false;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed meanwhile: nothing to tune.
        }
    }

    public ClientConnection(ExecutionHost server, Socket socket, TlsContext? tls = null, SocketEventLoop? events = null)
    {
        _server = server;
        _socket = socket;
        IsUnixSocket = socket.AddressFamily == AddressFamily.Unix;
        // TCP_NODELAY does not exist on a Unix socket (setting it fails there).
        if (!IsUnixSocket) _socket.NoDelay = true;
        // Redis names a Unix socket client by the configured path and port 0, at both ends.
        RemoteAddress = IsUnixSocket ? $"{server.Config.UnixSocket}:0" : FormatEndpoint(socket.RemoteEndPoint);
        LocalAddress = IsUnixSocket ? RemoteAddress : FormatEndpoint(socket.LocalEndPoint);
        // Made at accept, before the clients accepted with it run: it takes the password setting of now.
        _session = server.NewSession(this);
        if (tls is not null) _tls = new TlsTransport(tls, socket);
        else _events = events?.Create(socket, this);
        // Zero-byte reads: an idle client holds no receive buffer while it waits (the event loop's pipe holds none once parsed).
        _reader = _events?.Reader ?? PipeReader.Create(_tls?.Stream ?? (Stream)new NetworkStream(socket, ownsSocket: false),
            new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096, useZeroByteReads: true));
    }

    public string RemoteAddress { get; }
    public string LocalAddress { get; }
    public bool IsUnixSocket { get; }

    static string FormatEndpoint(System.Net.EndPoint? endpoint) => endpoint switch
    {
        System.Net.IPEndPoint ip when ip.Address.IsIPv4MappedToIPv6 => $"{ip.Address.MapToIPv4()}:{ip.Port}",
        System.Net.IPEndPoint ip => $"{ip.Address}:{ip.Port}",
        _ => endpoint?.ToString() ?? "?",
    };

    public async Task RunAsync()
    {
        if (_tls is not null && !await _tls.HandshakeAsync(_server.Config.TlsAuthClients, Fd, _server.Logger, _closed.Token).ConfigureAwait(false))
        {
            Close();
            await _reader.CompleteAsync().ConfigureAwait(false);
            return;
        }
        _server.Executor.Submit(() => _server.Connect(_session));
        BoundNextRound();
        _socket.Blocking = false;
        _events?.Start();
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer went away or we closed it: nothing to report.
        }
        finally
        {
            _directReads = false;
            await _reader.CompleteAsync().ConfigureAwait(false);
            // Queued behind any in-flight batches, so they finish first.
            _server.Executor.Submit(Finish);
        }
    }

    /// <summary>Executor: the read loop is over; replies still owed go out, then the socket closes.</summary>
    void Finish()
    {
        // The peer hung up (we did not close it): Redis's verbose line, with the client as CLIENT LIST shows it.
        if (_socketClosed == 0 && _server.Logger.IsEnabled(LogLevel.Debug)) _server.Logger.LogDebug("Client closed connection {Client}", Describe());
        _session.CloseAfterReply = true;
        SendReplies(0);
        _server.Disconnect(_session);
    }

    /// <summary>
    /// Before it reads the pipe, and after a wait the thread pool ends (a batch given back): a plain socket's
    /// read loop goes to the event loop's thread (see <see cref="SocketEventLoop.ToLoopThread"/>); a TLS one
    /// stays where it is.
    /// </summary>
    SocketEventLoop.LoopThread ToLoopThread() => _events?.ToLoopThread() ?? default;

    async Task ReadLoopAsync()
    {
        // The batch being filled. It is kept across reads while it only holds an open command,
        // so a big command resumes where it stopped instead of being parsed again.
        CommandBatch? filling = null;
        bool drained = true;
        while (true)
        {
            await ToLoopThread();
            // Only on the event loop's thread, which also makes the reads: it cannot be between a read it
            // gave the pipe and this loop's taking of it, so what TryTake takes comes after all that did.
            _directReads = drained && SocketEventLoop.OnLoopThread;
            var result = await _reader.ReadAsync(_closed.Token).ConfigureAwait(false);
            _directReads = false;
            var buffer = result.Buffer;
            Interlocked.Increment(ref _server.Stats.TotalReadsProcessed);
            if (OverQueryBufferLimit(buffer.Length + (filling?.OpenCommandBytes ?? 0))) return;
            while (!buffer.IsEmpty)
            {
                if (filling is null)
                {
                    if (!_freeBatches.Wait(0))
                    {
                        _reader.AdvanceTo(buffer.Start, result.Buffer.End);
                        if (await WaitForFreeBatchAsync().ConfigureAwait(false) is not { } latest) return;
                        result = latest;
                        buffer = result.Buffer;
                    }
                    filling = _batches[_nextBatch];
                    filling.Clear();
                }
                var limits = await ParseLimitsAsync().ConfigureAwait(false);
                var consumed = RespParser.Parse(buffer, filling, limits);
                long before = buffer.Length;
                buffer = buffer.Slice(consumed);
                Interlocked.Add(ref _server.Stats.NetInputBytes, before - buffer.Length);
                if (filling.Count == 0 && filling.ProtocolError is null) break;
                _nextBatch ^= 1;
                _server.Executor.Submit(_session, filling);
                bool failed = filling.ProtocolError is not null;
                filling = null;
                if (failed)
                {
                    // The executor replies with the error and then closes us.
                    await Task.Delay(Timeout.Infinite, _closed.Token).ConfigureAwait(false);
                }
            }
            Volatile.Write(ref _queryBytes, buffer.Length + (filling?.OpenCommandBytes ?? 0));
            _reader.AdvanceTo(buffer.Start, result.Buffer.End);
            if (result.IsCompleted) return;
            drained = buffer.IsEmpty && filling is null;
        }
    }

    /// <summary>
    /// Event loop thread: a read of whole commands while the read loop waits with nothing left over
    /// (a request at pipeline 1) is parsed into a free batch and submitted here, as the read loop would,
    /// without the pipe's copy and the loop's resumption. Anything else (a partial or malformed command,
    /// no free batch, a client that must authenticate first) goes back to the pipe, whose read loop then
    /// takes every read until it waits drained again. One read (16 KB) is below any query buffer limit
    /// (1 MB at least).
    /// </summary>
    bool SocketEventLoop.IDirectReader.TryTake(ReadOnlyMemory<byte> data)
    {
        if (!_directReads) return false;
        if (_server.RequiresAuth(_session) || !_freeBatches.Wait(0))
        {
            _directReads = false;
            return false;
        }
        var batch = _batches[_nextBatch];
        batch.Clear();
        var input = new ReadOnlySequence<byte>(data);
        var consumed = RespParser.Parse(input, batch, new ParseLimits(_server.Config.ProtoMaxBulkLen, MaxBatchBytes, Unauthenticated: false));
        if (batch.Count == 0 || batch.HasOpenCommand || batch.ProtocolError is not null || !input.Slice(consumed).IsEmpty)
        {
            // The read loop parses it again from the pipe, where a partial command can wait for the rest.
            batch.Clear();
            _freeBatches.Release();
            _directReads = false;
            return false;
        }
        Interlocked.Increment(ref _server.Stats.TotalReadsProcessed);
        Interlocked.Add(ref _server.Stats.NetInputBytes, data.Length);
        _nextBatch ^= 1;
        _server.Executor.Submit(_session, batch);
        return true;
    }

    bool OverQueryBufferLimit(long bytes)
    {
        if (bytes <= _server.Config.ClientQueryBufferLimit) return false;
        _server.Logger.LogWarning("Closing client that reached max query buffer length: addr={Address}", RemoteAddress);
        Close();
        return true;
    }

    /// <summary>
    /// Both batches are with the executor (a blocked or paused client's pipeline, or a busy executor).
    /// Redis keeps reading such a client, so a peer that goes away is noticed; here the socket is
    /// watched while the batch is awaited, up to <see cref="ReadAheadBytes"/> of input. Returns the read holding everything not yet parsed once a
    /// batch is free (the caller holds it), or null past client-query-buffer-limit.
    /// </summary>
    /// <summary>Unparsed input read ahead while both batches are with the executor, beyond which reading waits.</summary>
    const int ReadAheadBytes = 256 * 1024;

    async Task<ReadResult?> WaitForFreeBatchAsync()
    {
        var freeBatch = _freeBatches.WaitAsync(_closed.Token);
        while (true)
        {
            var read = _reader.ReadAsync(_closed.Token).AsTask();
            if (await Task.WhenAny(freeBatch, read).ConfigureAwait(false) == freeBatch)
            {
                await freeBatch.ConfigureAwait(false);
                await ToLoopThread();
                // The read in flight returns at once, with what arrived so far (IsCanceled unless more came).
                _reader.CancelPendingRead();
                return await read.ConfigureAwait(false);
            }
            var result = await read.ConfigureAwait(false);
            if (result.IsCompleted)
            {
                // The peer is gone. A client waiting on keys or a pause would wait forever: Redis frees
                // it. Otherwise its commands still run (they are behind the batches ahead), as Redis
                // runs all it read before the end of the stream.
                _server.Executor.Submit(CloseIfWaiting);
                await freeBatch.ConfigureAwait(false);
                return result;
            }
            if (OverQueryBufferLimit(result.Buffer.Length)) return null;
            if (result.Buffer.Length >= ReadAheadBytes)
            {
                // Enough to go on with: reading on would only pile input up in the heap (1M pipelined XADDs
                // left ~45 MB of it in gen2). A peer that hangs up meanwhile is noticed once reading resumes.
                _events?.Pause();
                await freeBatch.ConfigureAwait(false);
                await ToLoopThread();
                _events?.Resume();
                return result;
            }
            _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>Executor: the batches ahead have run; a session still blocked or held by a pause is closed.</summary>
    void CloseIfWaiting()
    {
        if (_session.Blocked is not null || _session.Postponed) Close();
    }

    /// <summary>
    /// The limits for the next parse, from the current config and authentication. While the client
    /// must authenticate, the batch in flight (one command: maybe AUTH) has to finish first, as
    /// Redis runs a command before parsing the next.
    /// </summary>
    async ValueTask<ParseLimits> ParseLimitsAsync()
    {
        if (_server.RequiresAuth(_session) && _freeBatches.CurrentCount == 0)
        {
            await _freeBatches.WaitAsync(_closed.Token).ConfigureAwait(false);
            await ToLoopThread();
            _freeBatches.Release();
        }
        return new ParseLimits(_server.Config.ProtoMaxBulkLen, MaxBatchBytes, _server.RequiresAuth(_session));
    }

    public long BufferedBytes => Volatile.Read(ref _queryBytes) + Volatile.Read(ref _pendingBytes);
    public long QueryBufferBytes => Volatile.Read(ref _queryBytes);
    public long Fd => _socket.SafeHandle.DangerousGetHandle();

    /// <summary>Executor thread: sends the round's replies, without blocking on a slow client.</summary>
    public void SendReplies(int completedBatches)
    {
        var reply = _session.Reply;
        long length = reply.Length;
        Interlocked.Add(ref _server.Stats.NetOutputBytes, length);
        Interlocked.Increment(ref _server.Stats.TotalWritesProcessed);
        lock (_sendLock)
        {
            _closeWhenSent |= _session.CloseAfterReply;
            if (_socketClosed != 0)
            {
                reply.Clear();
                return;
            }
            if (reply.Overflowed)
            {
                CloseOverOutputLimit();
                return;
            }
            long sent = _sending ? 0 : TrySend(reply);
            if (sent == length)
            {
                reply.Clear();
            }
            else
            {
                reply.MoveTo(_pending, sent);
                _pendingBytes += length - sent;
            }
            if (ExceedsOutputLimit())
            {
                CloseOverOutputLimit();
                return;
            }
            BoundNextRound();
            if (_pendingBytes > MaxPendingOutput) _owedBatchSlots += completedBatches;
            else if (completedBatches > 0) _freeBatches.Release(completedBatches);
            if (_pendingBytes == 0)
            {
                if (_closeWhenSent) Close();
            }
            else if (!_sending)
            {
                _sending = true;
                _ = SendPendingAsync();
            }
        }
    }

    /// <summary>Sends as much of <paramref name="reply"/> as the socket takes now; all of it when the socket failed (it is closed then).</summary>
    long TrySend(ReplyBuffer reply)
    {
        if (_tls is not null) return 0;
        long total = 0;
        for (int i = 0; i < reply.SegmentCount; i++)
        {
            var data = reply.Segment(i).Memory.Span;
            while (!data.IsEmpty)
            {
                int n = _events is null ? _socket.Send(data, SocketFlags.None, out var error) : SocketEventLoop.Send(_socket, data, out error);
                if (error == SocketError.WouldBlock) return total;
                if (error != SocketError.Success)
                {
                    Close();
                    return reply.Length;
                }
                data = data[n..];
                total += n;
            }
        }
        return total;
    }

    /// <summary>Output not yet taken by the socket (CLIENT LIST omem).</summary>
    public long PendingOutputBytes => Interlocked.Read(ref _pendingBytes);
    public int PendingOutputSegments
    {
        get
        {
            lock (_sendLock) return _pending.Count;
        }
    }

    /// <summary>The client's class of client-output-buffer-limit (Redis's getClientType): replica, pubsub while subscribed, else normal.</summary>
    OutputBufferLimit OutputLimit => _session.IsReplica ? _server.Config.ReplicaOutputBufferLimit
        : _session.IsSubscribed ? _server.Config.PubSubOutputBufferLimit : _server.Config.NormalOutputBufferLimit;

    /// <summary>
    /// Redis's client-output-buffer-limit for the client's class: over the hard limit, or over the
    /// soft limit for longer than its seconds. Counts the output not yet taken by the socket.
    /// </summary>
    bool ExceedsOutputLimit()
    {
        var limit = OutputLimit;
        if (limit.Hard > 0 && _pendingBytes >= limit.Hard) return true;
        if (limit.Soft == 0 || _pendingBytes < limit.Soft)
        {
            _softLimitSince = 0;
            return false;
        }
        long now = Stopwatch.GetTimestamp();
        if (_softLimitSince == 0)
        {
            _softLimitSince = now;
            return false;
        }
        return Stopwatch.GetElapsedTime(_softLimitSince, now).TotalSeconds > limit.SoftSeconds;
    }

    /// <summary>The next round may write what is left of the hard limit (the limit as of now, guarded by _sendLock).</summary>
    void BoundNextRound()
    {
        long hard = OutputLimit.Hard;
        _session.Reply.DropAfter = hard > 0 ? Math.Max(1, hard - _pendingBytes) : 0;
    }

    /// <summary>
    /// Executor (cron, once a second): a client that stays over its soft limit is closed even when
    /// nothing more is written to it, as Redis's clientsCron does.
    /// </summary>
    public void CheckOutputLimit()
    {
        lock (_sendLock)
        {
            if (_socketClosed == 0 && _pendingBytes > 0 && ExceedsOutputLimit()) CloseOverOutputLimit(fromCron: true);
        }
    }

    void CloseOverOutputLimit(bool fromCron = false)
    {
        // Redis's two wordings: closed while adding a reply (freed asynchronously), or by the cron.
        if (fromCron) _server.Logger.LogWarning("Client {Client} closed for overcoming of output buffer limits.", Describe());
        else _server.Logger.LogWarning("Client {Client} scheduled to be closed ASAP for overcoming of output buffer limits.", Describe());
        _session.Reply.Clear();
        Close();
    }

    string Describe()
    {
        var text = new StringBuilder();
        ClientInfo.AppendLine(_server.Keyspace.NowMs, _session, text);
        return text.ToString().TrimEnd('\n');
    }

    async Task SendPendingAsync()
    {
        try
        {
            while (true)
            {
                ReadOnlyMemory<byte> chunk;
                lock (_sendLock)
                {
                    if (_socketClosed != 0) break;
                    if (_pending.Count == 0)
                    {
                        ReportReleased();
                        if (_owedBatchSlots > 0)
                        {
                            _freeBatches.Release(_owedBatchSlots);
                            _owedBatchSlots = 0;
                        }
                        if (_closeWhenSent) Close();
                        break;
                    }
                    chunk = _pending.Peek().Memory[_pendingHeadSent..];
                }
                int n = _tls is null
                    ? await _socket.SendAsync(chunk, SocketFlags.None, _closed.Token).ConfigureAwait(false)
                    : await _tls.WriteAsync(chunk, _closed.Token).ConfigureAwait(false);
                lock (_sendLock)
                {
                    _pendingBytes -= n;
                    _pendingHeadSent += n;
                    if (_pendingHeadSent == _pending.Peek().Length)
                    {
                        var sent = _pending.Dequeue();
                        sent.Release();
                        _releasedBytes += sent.Array.Length;
                        _pendingHeadSent = 0;
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            Close();
        }
        finally
        {
            lock (_sendLock)
            {
                _sending = false;
                // Segments in flight are only given back once no send can still read them.
                if (_socketClosed != 0) ReleasePending();
            }
        }
    }

    /// <summary>Once the queue is empty, its buffers are garbage: the moment to let HeapReturn collect them.</summary>
    void ReportReleased()
    {
        HeapReturn.Released(_releasedBytes);
        _releasedBytes = 0;
    }

    void ReleasePending()
    {
        while (_pending.TryDequeue(out var segment))
        {
            segment.Release();
            _releasedBytes += segment.Array.Length;
        }
        ReportReleased();
        _pendingBytes = 0;
        _pendingHeadSent = 0;
    }

    /// <summary>Executor (cron): the batches' arrays go back to empty, unless a batch is being filled or run.</summary>
    public void ReleaseIdleBuffers()
    {
        // Holding both slots means neither batch is at the read loop or the executor.
        if (!_freeBatches.Wait(0)) return;
        if (_freeBatches.Wait(0))
        {
            foreach (var batch in _batches) batch.Release();
            _freeBatches.Release();
        }
        _freeBatches.Release();
    }

    /// <summary>Closes the socket, once: the read loop and the sender stop, and the executor then forgets the client.</summary>
    public void Close()
    {
        lock (_sendLock)
        {
            if (_socketClosed != 0) return;
            _socketClosed = 1;
            if (!_sending) ReleasePending();
        }
        _events?.Stop();
        _closed.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The peer is already gone.
        }
        _socket.Dispose();
        HeapReturn.Released(ApproximateConnectionBytes);
    }
}
