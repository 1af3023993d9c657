using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;

namespace MiniRedis.Networking;

/// <summary>
/// The TLS side of one client connection on the tls-port: the SslStream over its socket, which the
/// connection's PipeReader reads and its queued sender writes (TLS records cannot be written with the
/// executor's non-blocking socket send). The handshake runs on the connection's own task, bounded by
/// <see cref="HandshakeTimeout"/> so a client that never finishes it cannot hold a slot for ever.
/// </summary>
sealed class TlsTransport
{
    static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    readonly TlsContext _context;
    // Why the client's certificate was refused, in OpenSSL's words (.NET's exception only says it was).
    string? _certificateError;

    public TlsTransport(TlsContext context, Socket socket)
    {
        _context = context;
        Stream = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
    }

    public SslStream Stream { get; }

    /// <summary>
    /// Runs the server side of the handshake; false when it failed (a plain-text or garbage client,
    /// a missing or untrusted client certificate, a timeout), after Redis's log line.
    /// </summary>
    public async Task<bool> HandshakeAsync(TlsClientAuth clientAuth, long fd, ILogger logger, CancellationToken closed)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
        timeout.CancelAfter(HandshakeTimeout);
        try
        {
            await Stream.AuthenticateAsServerAsync(_context.ServerOptions(clientAuth, (_, certificate, chain, _) =>
                (_certificateError = _context.ClientCertificateError(clientAuth, certificate, chain)) is null), timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e)
        {
            // Whatever failed (the peer, its certificate, a timeout, our own certificate check), the client is refused.
            string reason = _certificateError ?? Reason(e, timeout.IsCancellationRequested && !closed.IsCancellationRequested);
            logger.LogWarning("Error accepting a client connection: {Error} (conn: fd={Fd})", reason, fd);
            return false;
        }
    }

    /// <summary>OpenSSL's own text when .NET passes it on (the innermost exception), as Redis logs it.</summary>
    static string Reason(Exception e, bool timedOut)
    {
        if (timedOut) return $"TLS handshake not completed within {HandshakeTimeout.TotalSeconds:0} seconds";
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }

    /// <summary>Writes one chunk of replies in TLS records; returns its length (a stream write takes it all).</summary>
    public async ValueTask<int> WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancel)
    {
        await Stream.WriteAsync(chunk, cancel).ConfigureAwait(false);
        return chunk.Length;
    }
}
