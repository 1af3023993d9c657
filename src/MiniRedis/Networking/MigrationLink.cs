using System.Net.Sockets;

namespace MiniRedis.Networking;

/// <summary>
/// MIGRATE's connection to the target server (Redis's migrateGetSocket and syncReadLine): a blocking
/// socket whose connect, writes and reads each give up after the command's timeout. One per MIGRATE
/// (Redis caches it for 10 s; here each MIGRATE connects and selects the db again).
/// </summary>
public sealed class MigrationLink : IDisposable
{
    readonly Socket _socket;
    readonly byte[] _buffer = new byte[4096];
    int _start, _end;

    MigrationLink(Socket socket) => _socket = socket;

    /// <summary>
    /// Connects within <paramref name="timeoutMs"/>. Null on failure: <paramref name="connectFailed"/> when
    /// Redis's connect step itself fails (the time passed, or the host name does not resolve), false when
    /// the connection failed at once (refused, or a port no socket can have), which Redis's non-blocking
    /// connect only finds when it writes.
    /// </summary>
    public static MigrationLink? Connect(string host, int port, int timeoutMs, out bool connectFailed)
    {
        connectFailed = true;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendTimeout = timeoutMs, ReceiveTimeout = timeoutMs };
        try
        {
            if (socket.ConnectAsync(host, port).Wait(timeoutMs)) return new MigrationLink(socket);
        }
        catch (Exception e) when (e is AggregateException or SocketException or ArgumentException)
        {
            connectFailed = IsNameResolutionFailure(e);
        }
        socket.Dispose();
        return null;
    }

    static bool IsNameResolutionFailure(Exception e) =>
        (e is AggregateException { InnerException: { } inner } ? inner : e) is SocketException
        {
            SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData or SocketError.NoRecovery,
        };

    /// <summary>Sends all of <paramref name="bytes"/>; false on an error or timeout.</summary>
    public bool TrySend(ReadOnlySpan<byte> bytes)
    {
        try
        {
            while (!bytes.IsEmpty) bytes = bytes[_socket.Send(bytes)..];
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>One reply line without its CRLF (AUTH, SELECT and RESTORE answer in one line); null on an error, timeout or close.</summary>
    public string? ReadLine()
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                int end = newline > _start && _buffer[newline - 1] == '\r' ? newline - 1 : newline;
                var line = System.Text.Encoding.Latin1.GetString(_buffer, _start, end - _start);
                _start = newline + 1;
                return line;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            // A line longer than the buffer is cut there, as syncReadLine's 1 KB buffer does.
            if (_end == _buffer.Length) return System.Text.Encoding.Latin1.GetString(_buffer, 0, _end);
            try
            {
                int read = _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
                if (read == 0) return null;
                _end += read;
            }
            catch (SocketException)
            {
                return null;
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
