using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace MiniRedis.Networking;

/// <summary>
/// The tls-port: listening sockets on the same addresses as the plain port, and the
/// <see cref="TlsContext"/> new connections get. As in Redis, CONFIG SET of tls-port re-listens, and
/// CONFIG SET of a certificate, key, CA, protocol or cipher directive builds a new context while TLS
/// is on (a failure keeps the old one and the old values); open connections keep the one they began with.
/// </summary>
public sealed partial class Listener
{
    const string TlsConfigError = "Unable to update TLS configuration. Check server logs.";

    static readonly string[] s_tlsContextDirectives =
        ["tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols", "tls-ciphers", "tls-ciphersuites"];

    TlsContext? _tlsContext;
    List<Socket> _tlsSockets = [];
    List<Task> _tlsAcceptLoops = [];
    // The port and bind values the current TLS sockets were opened with.
    int _boundTlsPort;
    IReadOnlyList<string> _boundTlsBind = [];

    /// <summary>The TLS ports actually bound (none while tls-port is 0).</summary>
    public IReadOnlyList<IPEndPoint> TlsEndpoints => _tlsSockets.Select(s => (IPEndPoint)s.LocalEndPoint!).ToList();

    void StartTls()
    {
        int port = _server.Config.TlsPort;
        if (port != 0)
        {
            _tlsContext = TlsContext.Create(_server.Config, _server.Logger)
                ?? throw new InvalidOperationException("Failed to configure TLS. Check logs for more info.");
            var sockets = Open(port, out var failure);
            if (sockets is null)
            {
                var (address, error) = failure!.Value;
                throw new InvalidOperationException($"Could not create server TLS listening socket {address}:{port}: bind: {error.Message}. Failed listening on port {port} (TLS), aborting.", error);
            }
            ListenTls(sockets, port);
        }
        _server.Config.RegisterApplier("tls-port", ApplyTlsPort);
        foreach (var directive in s_tlsContextDirectives) _server.Config.RegisterApplier(directive, () => ReloadTls(directive));
    }

    void ListenTls(List<Socket> sockets, int port)
    {
        _tlsSockets = sockets;
        _boundTlsPort = port;
        _boundTlsBind = _server.Config.Bind;
        _tlsAcceptLoops = [.. sockets.Select(socket => StartAcceptLoop(socket, tls: true))];
    }

    /// <summary>Redis's applyTLSPort: TLS configured if it was not yet, then the port re-listened (0 closes it).</summary>
    string? ApplyTlsPort()
    {
        int port = _server.Config.TlsPort;
        if (port != 0 && _tlsContext is null && (_tlsContext = TlsContext.Create(_server.Config, _server.Logger)) is null)
        {
            _server.Logger.LogWarning("Failed applying new configuration. Possibly related to new tls-port setting. Restoring previous settings.");
            return TlsConfigError;
        }
        return RelistenTls("tls-port", "Unable to listen on this port. Check server logs.");
    }

    /// <summary>Listens on the current tls-port and bind addresses, then closes the old TLS sockets.</summary>
    string? RelistenTls(string directive, string error)
    {
        int port = _server.Config.TlsPort;
        // Undoing a failed CONFIG SET re-applies the old values, which are the ones still bound.
        if (port == _boundTlsPort && _server.Config.Bind.SequenceEqual(_boundTlsBind)) return null;
        List<Socket> sockets = [];
        if (port != 0)
        {
            if (Open(port, out _) is not { } opened)
            {
                _server.Logger.LogWarning("Failed applying new configuration. Possibly related to new {Directive} setting. Restoring previous settings.", directive);
                return error;
            }
            sockets = opened;
        }
        foreach (var socket in _tlsSockets) CloseListening(socket);
        ListenTls(sockets, port);
        return null;
    }

    /// <summary>Redis's applyTlsCfg: while TLS is on, a new context from the current values; new connections use it.</summary>
    string? ReloadTls(string directive)
    {
        if (_server.Config.TlsPort == 0) return null;
        if (TlsContext.Create(_server.Config, _server.Logger) is not { } context)
        {
            _server.Logger.LogWarning("Failed applying new configuration. Possibly related to new {Directive} setting. Restoring previous settings.", directive);
            return TlsConfigError;
        }
        _tlsContext = context;
        return null;
    }
}
