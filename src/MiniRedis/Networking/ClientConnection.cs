using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Networking;

/// <summary>
/// One client socket. Reading follows Kestrel's loop: ReadAsync, parse every complete command
/// into a batch, AdvanceTo(consumed, examined) so a partial command waits for more bytes. Two
/// batches alternate so the next one can be parsed while the executor runs the previous one.
/// Replies are sent by the executor right after its round with a non-blocking send, as Redis
/// writes in beforeSleep; only what the socket does not take at once goes to an async sender.
/// </summary>
public sealed class ClientConnection : IClientConnection
{
    const int MaxBatchBytes = 1 << 20;
    const int MaxPendingOutput = 4 << 20;

    readonly RedisServer _server;
    readonly Socket _socket;
    readonly PipeReader _reader;
    readonly CommandBatch[] _batches = [new(), new()];
    readonly SemaphoreSlim _freeBatches = new(2, 2);
    readonly object _sendLock = new();
    readonly CancellationTokenSource _closed = new();
    ClientSession _session = null!;
    int _nextBatch;

    // Output not yet accepted by the socket, sent by SendPendingAsync; guarded by _sendLock.
    byte[] _pending = [];
    int _pendingStart;
    int _pendingEnd;
    bool _sending;
    int _owedBatchSlots;

    public ClientConnection(RedisServer server, Socket socket)
    {
        _server = server;
        _socket = socket;
        _socket.NoDelay = true;
        RemoteAddress = FormatEndpoint(socket.RemoteEndPoint);
        LocalAddress = FormatEndpoint(socket.LocalEndPoint);
        _reader = PipeReader.Create(new NetworkStream(socket, ownsSocket: false), new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096));
    }

    public string RemoteAddress { get; }
    public string LocalAddress { get; }

    static string FormatEndpoint(System.Net.EndPoint? endpoint) => endpoint switch
    {
        System.Net.IPEndPoint ip when ip.Address.IsIPv4MappedToIPv6 => $"{ip.Address.MapToIPv4()}:{ip.Port}",
        System.Net.IPEndPoint ip => $"{ip.Address}:{ip.Port}",
        _ => endpoint?.ToString() ?? "?",
    };

    public async Task RunAsync()
    {
        _session = await _server.Executor.InvokeAsync(() => _server.Connect(this)).ConfigureAwait(false);
        _socket.Blocking = false;
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
            await _reader.CompleteAsync().ConfigureAwait(false);
            // Queued behind any in-flight batches, so they finish first.
            _server.Executor.Post(() => _server.Disconnect(_session));
        }
    }

    async Task ReadLoopAsync()
    {
        // The batch being filled. It is kept across reads while it only holds an open command,
        // so a big command resumes where it stopped instead of being parsed again.
        CommandBatch? filling = null;
        while (true)
        {
            var result = await _reader.ReadAsync(_closed.Token).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length + (filling?.OpenCommandBytes ?? 0) > _server.Config.ClientQueryBufferLimit)
            {
                _server.Logger.LogWarning("Closing client that reached max query buffer length: addr={Address}", RemoteAddress);
                Close();
                return;
            }
            while (!buffer.IsEmpty)
            {
                if (filling is null)
                {
                    await _freeBatches.WaitAsync(_closed.Token).ConfigureAwait(false);
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
            _reader.AdvanceTo(buffer.Start, result.Buffer.End);
            if (result.IsCompleted || result.IsCanceled) return;
        }
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
            _freeBatches.Release();
        }
        return new ParseLimits(_server.Config.ProtoMaxBulkLen, MaxBatchBytes, _server.RequiresAuth(_session));
    }

    /// <summary>Executor thread: sends the round's replies, without blocking on a slow client.</summary>
    public void SendReplies(int completedBatches)
    {
        var reply = _session.Reply;
        int length = reply.Length;
        Interlocked.Add(ref _server.Stats.NetOutputBytes, length);
        bool closeAfter = _session.CloseAfterReply;
        lock (_sendLock)
        {
            if (!_sending)
            {
                int sent = TrySend(reply.WrittenSpan);
                if (sent == length)
                {
                    reply.Clear();
                    if (completedBatches > 0) _freeBatches.Release(completedBatches);
                    if (closeAfter) Close();
                    return;
                }
                AppendPending(reply.WrittenSpan[sent..]);
                _sending = true;
                _ = SendPendingAsync(closeAfter);
            }
            else
            {
                AppendPending(reply.WrittenSpan);
            }
            reply.Clear();
            // A client that doesn't read its replies stops being read from (back-pressure).
            if (_pendingEnd - _pendingStart > MaxPendingOutput) _owedBatchSlots += completedBatches;
            else if (completedBatches > 0) _freeBatches.Release(completedBatches);
        }
    }

    int TrySend(ReadOnlySpan<byte> data)
    {
        if (_closed.IsCancellationRequested) return data.Length;
        int total = 0;
        while (total < data.Length)
        {
            int n = _socket.Send(data[total..], SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock) break;
            if (error != SocketError.Success)
            {
                Close();
                return data.Length;
            }
            total += n;
        }
        return total;
    }

    void AppendPending(ReadOnlySpan<byte> data)
    {
        if (_pendingEnd + data.Length > _pending.Length)
        {
            int live = _pendingEnd - _pendingStart;
            var bigger = new byte[Math.Max(_pending.Length * 2, live + data.Length)];
            _pending.AsSpan(_pendingStart, live).CopyTo(bigger);
            _pending = bigger;
            _pendingStart = 0;
            _pendingEnd = live;
        }
        data.CopyTo(_pending.AsSpan(_pendingEnd));
        _pendingEnd += data.Length;
    }

    async Task SendPendingAsync(bool closeAfter)
    {
        try
        {
            while (true)
            {
                ReadOnlyMemory<byte> chunk;
                lock (_sendLock)
                {
                    if (_pendingStart == _pendingEnd)
                    {
                        _pendingStart = _pendingEnd = 0;
                        _sending = false;
                        if (_owedBatchSlots > 0)
                        {
                            _freeBatches.Release(_owedBatchSlots);
                            _owedBatchSlots = 0;
                        }
                        break;
                    }
                    chunk = _pending.AsMemory(_pendingStart, _pendingEnd - _pendingStart);
                }
                int n = await _socket.SendAsync(chunk, SocketFlags.None, _closed.Token).ConfigureAwait(false);
                lock (_sendLock) _pendingStart += n;
            }
            if (closeAfter || _session.CloseAfterReply) Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Close();
        }
    }

    public void Close()
    {
        if (_closed.IsCancellationRequested) return;
        try
        {
            _closed.Cancel();
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
        finally
        {
            _socket.Dispose();
        }
    }
}
