using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using MiniRedis.Execution;

namespace MiniRedis.Networking;

/// <summary>
/// Accepts clients on the configured TCP addresses and on the <c>unixsocket</c>, and runs a
/// <see cref="ClientConnection"/> for each; the TLS port is in Listener.Tls.cs.
/// </summary>
public sealed partial class Listener : IAsyncDisposable
{
    const string ProtectedModeMessage =
        "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
        "In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
        "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
        "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
        "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
        "4) Setup a an authentication password for the default user. " +
        "NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

    readonly ExecutionHost _server;
    readonly HashSet<ClientConnection> _connections = [];
    readonly CancellationTokenSource _stopping = new();
    // Every listening socket (plain, TLS, Unix) with whether it is TLS; accepts from any of them hold _acceptLock.
    readonly System.Collections.Concurrent.ConcurrentDictionary<Socket, bool> _listening = new();
    readonly Lock _acceptLock = new();
    // The listening sockets and their accept loops; replaced as a whole when port or bind change.
    List<Socket> _sockets = [];
    List<Task> _acceptLoops = [];
    // The Unix socket lives apart from the TCP ones: CONFIG SET port/bind never replace it.
    Socket? _unixSocket;
    Task _unixAcceptLoop = Task.CompletedTask;
    // The port and bind values the current sockets were opened with.
    int _boundPort;
    IReadOnlyList<string> _boundBind = [];

    // Reads the plain clients' sockets (TLS ones read through their streams on the socket engine).
    readonly SocketEventLoop? _events;

    public Listener(ExecutionHost server)
    {
        _server = server;
        if (SocketEventLoop.IsSupported) _events = new SocketEventLoop(server.Executor);
    }

    /// <summary>The loop reading the plain clients' sockets, where the platform has one.</summary>
    internal SocketEventLoop? EventLoop => _events;

    /// <summary>The ports actually bound (useful when configured with port 0).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => _sockets.Select(s => (IPEndPoint)s.LocalEndPoint!).ToList();

    public void Start()
    {
        OpenFilesLimit.Adjust(_server.Config, _server.Logger);
        var sockets = Open(_server.Config.Port, out var failure);
        if (sockets is null)
        {
            var (address, error) = failure!.Value;
            throw new InvalidOperationException($"Could not create server TCP listening socket {address}:{_server.Config.Port}: bind: {error.Message}. Failed listening on port {_server.Config.Port} (TCP), aborting.", error);
        }
        // CONFIG SET port / bind re-listen at once, as Redis 7.0 does: new sockets first, old ones closed after.
        // Registered before the first client can connect: its commands may run at once, on the socket thread.
        _server.Config.RegisterApplier("port", () => Relisten("port", "Unable to listen on this port. Check server logs."));
        _server.Config.RegisterApplier("bind", () => Relisten("bind", "Failed to bind to specified addresses.") ?? RelistenTls("bind", "Failed to bind to specified addresses."));
        _server.Config.RegisterApplier("maxclients", () => OpenFilesLimit.Raise(_server.Config, _server.Logger));
        _server.Acl.DefaultUserChanging += AdmitWaitingClients;
        // TLS first: a client that finds the plain port answering finds the TLS one too.
        StartTls();
        Listen(sockets);
        if (_server.Config.UnixSocket is { } path) ListenUnix(path);
    }

    /// <summary>
    /// Binds a listening socket on <paramref name="port"/> for every configured address. A failure on an
    /// optional address ("-" prefix) is logged and skipped; any other closes what was opened and returns null.
    /// </summary>
    List<Socket>? Open(int port, out (string Address, SocketException Error)? failure)
    {
        failure = null;
        var sockets = new List<Socket>();
        foreach (var address in _server.Config.Bind)
        {
            // A leading '-' marks an address that may be unavailable (Redis's "-::1").
            bool optional = address.StartsWith('-');
            string name = optional ? address[1..] : address;
            var ip = ParseBindAddress(name);
            var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                SetReuseAddress(socket);
                if (ip.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = false;
                // With port 0, every address shares the port the first one was given.
                int bound = port == 0 && sockets.Count > 0 ? ((IPEndPoint)sockets[0].LocalEndPoint!).Port : port;
                socket.Bind(new IPEndPoint(ip, bound));
                socket.Listen(_server.Config.TcpBacklog);
                sockets.Add(socket);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                _server.Logger.LogWarning("Warning: Could not create server TCP listening socket {Address}:{Port}: bind: {Error}", name, port, e.Message);
                if (optional) continue;
                foreach (var opened in sockets) opened.Dispose();
                failure = (address, e);
                return null;
            }
        }
        return sockets;
    }

    void Listen(List<Socket> sockets)
    {
        _sockets = sockets;
        _boundPort = _server.Config.Port;
        _boundBind = _server.Config.Bind;
        _acceptLoops = [.. sockets.Select(socket => StartAcceptLoop(socket, tls: false))];
        if (sockets.Count > 0) _server.TcpPort = Endpoints[0].Port;
    }

    /// <summary>
    /// As Redis's anetUnixServer: a stale socket file from an earlier run is replaced, and
    /// <c>unixsocketperm</c> (when set) is applied to the new one before clients can connect.
    /// </summary>
    void ListenUnix(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            File.Delete(path);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            if (_server.Config.UnixSocketPerm != 0 && !OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)_server.Config.UnixSocketPerm);
            socket.Listen(_server.Config.TcpBacklog);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            throw new InvalidOperationException($"Failed opening Unix socket: {e.Message}", e);
        }
        _unixSocket = socket;
        _unixAcceptLoop = StartAcceptLoop(socket, tls: false);
    }

    /// <summary>CONFIG SET applier: listens on the new port/addresses, then closes the old sockets.</summary>
    string? Relisten(string directive, string error)
    {
        // Undoing a failed CONFIG SET re-applies the old values, which are the ones still bound.
        if (_server.Config.Port == _boundPort && _server.Config.Bind.SequenceEqual(_boundBind)) return null;
        var sockets = Open(_server.Config.Port, out _);
        if (sockets is null)
        {
            _server.Logger.LogWarning("Failed applying new configuration. Possibly related to new {Directive} setting. Restoring previous settings.", directive);
            return error;
        }
        foreach (var socket in _sockets) CloseListening(socket);
        Listen(sockets);
        return null;
    }

    const int SolSocket = 1;
    const int SoReuseAddr = 2;

    /// <summary>
    /// SO_REUSEADDR alone, as Redis sets it (a port in TIME_WAIT can be bound again). On Linux .NET's
    /// ReuseAddress also sets SO_REUSEPORT, which let a second listener bind a port already listened
    /// on (CONFIG SET tls-port to the plain port succeeded, and the kernel then split clients between them).
    /// </summary>
    static void SetReuseAddress(Socket socket)
    {
        if (OperatingSystem.IsLinux()) socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
        else socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
    }

    /// <summary>Redis's bind syntax: "*" is every IPv4 address, "::*" every IPv6 one.</summary>
    static IPAddress ParseBindAddress(string address) => address switch
    {
        "*" => IPAddress.Any,
        "::*" => IPAddress.IPv6Any,
        _ => IPAddress.Parse(address),
    };

    static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Accepting is serialized with the password gate: a client the kernel had queued before a
    /// password change must get its session (authenticated by the setting of its connect) before
    /// the password takes effect, whichever thread gets there first. An awaited AcceptAsync cannot give
    /// that: the kernel hands the socket out before its continuation runs, and an admin's CONFIG SET on
    /// another thread could run in between (a client that connected just before it was refused).
    /// So a thread per listening socket waits for the socket to be readable and accepts under a lock
    /// that <see cref="AdmitWaitingClients"/> (before the default user's password may apply) also takes.
    /// </summary>
    /// <param name="tls">The tls-port's socket: connections start with a handshake under the TLS context of the moment.</param>
    Task StartAcceptLoop(Socket listenSocket, bool tls)
    {
        // Accepts never block: the socket was readable, but the client may have gone since.
        listenSocket.Blocking = false;
        _listening[listenSocket] = tls;
        return Task.Factory.StartNew(() => AcceptLoop(listenSocket, tls), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    void AcceptLoop(Socket listenSocket, bool tls)
    {
        var accepted = new List<ClientConnection>();
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                // Closing a listening socket shuts it down first (CloseListening), which wakes this poll.
                if (!listenSocket.Poll(-1, SelectMode.SelectRead)) continue;
                lock (_acceptLock) Accept(listenSocket, tls, accepted);
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                // Stopping, or this socket was replaced by CONFIG SET port/bind.
                _listening.TryRemove(listenSocket, out _);
                StartAccepted(accepted);
                return;
            }
            // Started together once all waiting are accepted: a client's commands may run at once on this thread.
            StartAccepted(accepted);
        }
    }

    /// <summary>Before the default user's password may apply (CONFIG SET requirepass, ACL SETUSER/LOAD): clients already waiting to be accepted get their sessions first.</summary>
    void AdmitWaitingClients()
    {
        var accepted = new List<ClientConnection>();
        lock (_acceptLock)
        {
            foreach (var (listenSocket, tls) in _listening)
            {
                try { Accept(listenSocket, tls, accepted); }
                catch (Exception e) when (e is ObjectDisposedException or SocketException) { }
            }
        }
        // Not run here, on the executor: their first reads wait for data on the thread pool.
        foreach (var connection in accepted) _ = Task.Run(() => RunConnectionAsync(connection));
    }

    void StartAccepted(List<ClientConnection> accepted)
    {
        foreach (var connection in accepted) _ = RunConnectionAsync(connection);
        accepted.Clear();
    }

    /// <summary>Accepts every client waiting on <paramref name="listenSocket"/> (under the accept lock).</summary>
    void Accept(Socket listenSocket, bool tls, List<ClientConnection> accepted)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = listenSocket.Accept();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is not (SocketError.OperationAborted or SocketError.Interrupted or SocketError.InvalidArgument))
            {
                _server.Logger.LogWarning("Accepting client connection: {Error}", e.Message);
                // Out of file descriptors, the error repeats until a client leaves: don't spin.
                if (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable) Thread.Sleep(AcceptRetryDelay);
                return;
            }
            if (_server.Logger.IsEnabled(LogLevel.Debug))
            {
                if (client.AddressFamily == AddressFamily.Unix) _server.Logger.LogDebug("Accepted connection to {Path}", _server.Config.UnixSocket);
                else if (client.RemoteEndPoint is IPEndPoint remote) _server.Logger.LogDebug("Accepted {Address}:{Port}", AddressText(remote.Address), remote.Port);
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
            client.Blocking = true;
            var connection = tls ? new ClientConnection(_server, client, _tlsContext) : new ClientConnection(_server, client, events: _events);
            lock (_connections) _connections.Add(connection);
            accepted.Add(connection);
        }
    }

    /// <summary>Stops listening on a socket: shut down first, which wakes its accept loop's poll and refuses new clients at once.</summary>
    static void CloseListening(Socket socket)
    {
        try { socket.Shutdown(SocketShutdown.Both); }
        catch (SocketException) { }
        socket.Dispose();
    }

    static IPAddress AddressText(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    string? Rejection(Socket client)
    {
        int count;
        lock (_connections) count = _connections.Count;
        if (count >= _server.Config.MaxClients) return "-ERR max number of clients reached\r\n";
        var remote = (client.RemoteEndPoint as IPEndPoint)?.Address;
        if (_server.Config.ProtectedMode && _server.Acl.Default.NoPass && remote is not null && !IPAddress.IsLoopback(remote))
        {
            return ProtectedModeMessage;
        }
        return null;
    }

    async Task RunConnectionAsync(ClientConnection connection)
    {
        try
        {
            // No hop to the thread pool first (it cost ~30% of the server's CPU per connect/PING/close
            // cycle): the accept loop starts the connection, whose reads then go to the event loop's
            // thread; a TLS client's handshake and reads run here until they first wait.
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
        _server.Acl.DefaultUserChanging -= AdmitWaitingClients;
        foreach (var socket in _sockets) CloseListening(socket);
        foreach (var socket in _tlsSockets) CloseListening(socket);
        if (_unixSocket is not null) CloseListening(_unixSocket);
        await Task.WhenAll([.. _acceptLoops, .. _tlsAcceptLoops, _unixAcceptLoop]).ConfigureAwait(false);
        if (_unixSocket is not null)
        {
            _server.Logger.LogInformation("Removing the unix socket file.");
            try { File.Delete(_server.Config.UnixSocket!); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _server.Logger.LogWarning("Error removing the unix socket file: {Error}", e.Message);
            }
        }
        List<ClientConnection> open;
        lock (_connections) open = [.. _connections];
        foreach (var connection in open) connection.Close();
        _events?.Dispose();
    }
}
