using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace MiniRedis.Networking;

/// <summary>Accepts TCP clients on the configured addresses and runs a <see cref="ClientConnection"/> for each.</summary>
public sealed class Listener : IAsyncDisposable
{
    const string ProtectedModeMessage =
        "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
        "In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
        "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
        "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
        "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
        "4) Setup a an authentication password for the default user. " +
        "NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

    readonly RedisServer _server;
    readonly List<Socket> _sockets = [];
    readonly List<Task> _acceptLoops = [];
    readonly HashSet<ClientConnection> _connections = [];
    readonly CancellationTokenSource _stopping = new();

    public Listener(RedisServer server) => _server = server;

    /// <summary>The ports actually bound (useful when configured with port 0).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => _sockets.Select(s => (IPEndPoint)s.LocalEndPoint!).ToList();

    public void Start()
    {
        foreach (var address in _server.Config.Bind)
        {
            // A leading '-' marks an address that may be unavailable (Redis's "-::1").
            bool optional = address.StartsWith('-');
            var ip = ParseBindAddress(optional ? address[1..] : address);
            var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                if (ip.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = false;
                int port = _server.Config.Port;
                // With port 0, every address shares the port the first one was given.
                if (port == 0 && _sockets.Count > 0) port = Endpoints[0].Port;
                socket.Bind(new IPEndPoint(ip, port));
                socket.Listen(_server.Config.TcpBacklog);
            }
            catch (SocketException e) when (optional)
            {
                socket.Dispose();
                _server.Logger.LogWarning("Warning: Could not create server TCP listening socket {Address}:{Port}: {Error}", address[1..], _server.Config.Port, e.Message);
                continue;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new InvalidOperationException($"Could not create server TCP listening socket {address}:{_server.Config.Port}: bind: {e.Message}. Failed listening on port {_server.Config.Port} (TCP), aborting.", e);
            }
            _sockets.Add(socket);
        }
        if (_sockets.Count > 0) _server.TcpPort = Endpoints[0].Port;
        foreach (var socket in _sockets) _acceptLoops.Add(AcceptLoopAsync(socket));
    }

    /// <summary>Redis's bind syntax: "*" is every IPv4 address, "::*" every IPv6 one.</summary>
    static IPAddress ParseBindAddress(string address) => address switch
    {
        "*" => IPAddress.Any,
        "::*" => IPAddress.IPv6Any,
        _ => IPAddress.Parse(address),
    };

    async Task AcceptLoopAsync(Socket listenSocket)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listenSocket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested) return;
                continue;
            }
            Interlocked.Increment(ref _server.Stats.TotalConnectionsReceived);
            if (Rejection(client) is { } message)
            {
                Interlocked.Increment(ref _server.Stats.RejectedConnections);
                try { client.Send(System.Text.Encoding.ASCII.GetBytes(message)); }
                catch (SocketException) { }
                client.Dispose();
                continue;
            }
            var connection = new ClientConnection(_server, client);
            lock (_connections) _connections.Add(connection);
            _ = RunConnectionAsync(connection);
        }
    }

    string? Rejection(Socket client)
    {
        int count;
        lock (_connections) count = _connections.Count;
        if (count >= _server.Config.MaxClients) return "-ERR max number of clients reached\r\n";
        var remote = (client.RemoteEndPoint as IPEndPoint)?.Address;
        if (_server.Config.ProtectedMode && string.IsNullOrEmpty(_server.Config.RequirePass) && remote is not null && !IPAddress.IsLoopback(remote))
        {
            return ProtectedModeMessage;
        }
        return null;
    }

    async Task RunConnectionAsync(ClientConnection connection)
    {
        try
        {
            await Task.Yield();
            await connection.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _server.Logger.LogError(e, "Client connection failed");
        }
        finally
        {
            lock (_connections) _connections.Remove(connection);
        }
    }

    /// <summary>Stops accepting and closes every client.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        foreach (var socket in _sockets) socket.Dispose();
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        List<ClientConnection> open;
        lock (_connections) open = [.. _connections];
        foreach (var connection in open) connection.Close();
    }
}
