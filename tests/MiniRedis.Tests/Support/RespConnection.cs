using System.Net.Sockets;
using System.Text;

namespace MiniRedis.Tests.Support;

/// <summary>One reply as received: its type byte, its exact bytes, and its elements when it is an aggregate.</summary>
public sealed record RespNode(byte Type, byte[] Raw, IReadOnlyList<RespNode> Children)
{
    public bool IsAggregate => Type is (byte)'*' or (byte)'~' or (byte)'%' or (byte)'>' or (byte)'|';
    public string Text => Encoding.Latin1.GetString(Raw);
    public override string ToString() => RespConnection.Escape(Raw);
}

/// <summary>
/// A raw RESP client for byte-exact comparisons: sends whatever bytes it is given and reads back
/// exactly one complete reply at a time (RESP2 and RESP3 types), never interpreting it further.
/// </summary>
public sealed class RespConnection : IDisposable
{
    readonly Socket _socket;
    byte[] _buffer = new byte[64 * 1024];
    int _start;
    int _end;

    // The TLS session over the socket, when there is one: every byte goes through it.
    readonly System.Net.Security.SslStream? _tls;

    RespConnection(Socket socket, System.Net.Security.SslStream? tls = null)
    {
        _socket = socket;
        _tls = tls;
    }

    /// <summary>The TLS session of a connection made by <see cref="OpenTls"/> (its protocol, cipher suite...).</summary>
    public System.Net.Security.SslStream? Tls => _tls;

    /// <summary>A client of the server's <c>unixsocket</c>.</summary>
    public static RespConnection OpenUnix(string path, int receiveTimeoutMs = 10_000)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = receiveTimeoutMs };
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new RespConnection(socket);
    }

    /// <summary>A TLS client of <paramref name="port"/>; the handshake's failure is thrown (an AuthenticationException or IOException).</summary>
    public static RespConnection OpenTls(int port, System.Net.Security.SslClientAuthenticationOptions options, int receiveTimeoutMs = 10_000)
    {
        var connection = Open(port, receiveTimeoutMs);
        var tls = new System.Net.Security.SslStream(new NetworkStream(connection._socket, ownsSocket: false));
        try
        {
            tls.AuthenticateAsClient(options);
        }
        catch
        {
            tls.Dispose();
            connection.Dispose();
            throw;
        }
        return new RespConnection(connection._socket, tls);
    }

    public static RespConnection Open(int port, int receiveTimeoutMs = 10_000) => Open(System.Net.IPAddress.Loopback, port, receiveTimeoutMs);

    /// <summary>A client connecting to <paramref name="address"/> (a non-loopback one makes it an outside client).</summary>
    public static RespConnection Open(System.Net.IPAddress address, int port, int receiveTimeoutMs = 10_000)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = receiveTimeoutMs };
        try
        {
            socket.Connect(address, port);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new RespConnection(socket);
    }

    public void Send(ReadOnlySpan<byte> bytes)
    {
        if (_tls is not null) _tls.Write(bytes);
        else while (!bytes.IsEmpty) bytes = bytes[_socket.Send(bytes)..];
    }

    public void Send(string latin1) => Send(Encoding.Latin1.GetBytes(latin1));

    /// <summary>Sends one command as a multibulk and returns its reply's bytes.</summary>
    /// <summary>One field of <c>INFO <paramref name="section"/></c>, or null when the server has no such field.</summary>
    public string? InfoField(string section, string field)
    {
        string prefix = field + ":";
        foreach (var line in Encoding.Latin1.GetString(Call("INFO", section)).Split("\r\n"))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal)) return line[prefix.Length..];
        }
        return null;
    }

    /// <summary>An integer field of <c>INFO <paramref name="section"/></c>; throws when there is none.</summary>
    public long InfoNumber(string section, string field) =>
        long.Parse(InfoField(section, field) ?? throw new InvalidOperationException($"INFO {section} has no {field}"), System.Globalization.CultureInfo.InvariantCulture);

    public byte[] Call(params string[] args) => Call(args.Select(Encoding.UTF8.GetBytes).ToArray());

    public byte[] Call(IReadOnlyList<byte[]> args)
    {
        Send(EncodeCommand(args));
        return ReadReply().Raw;
    }

    public static byte[] EncodeCommand(IReadOnlyList<byte[]> args)
    {
        var output = new MemoryStream();
        void Write(string s) => output.Write(Encoding.ASCII.GetBytes(s));
        Write($"*{args.Count}\r\n");
        foreach (var arg in args)
        {
            Write($"${arg.Length}\r\n");
            output.Write(arg);
            Write("\r\n");
        }
        return output.ToArray();
    }

    /// <summary>Reads exactly one complete reply (an attribute is returned together with the reply it annotates).</summary>
    public RespNode ReadReply()
    {
        while (true)
        {
            var data = new ReadOnlySpan<byte>(_buffer, _start, _end - _start);
            if (TryParse(data, 0, out var node, out int end))
            {
                _start += end;
                return node;
            }
            if (!Fill()) throw new IOException($"Connection closed before a complete reply; received: {Escape(_buffer.AsSpan(_start, _end - _start))}");
        }
    }

    /// <summary>Half-closes: the server reads end of file while replies can still arrive.</summary>
    public void FinishSending() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>This end's TCP port (the server logs and lists the client by it).</summary>
    public int LocalPort => ((System.Net.IPEndPoint)_socket.LocalEndPoint!).Port;

    /// <summary>Everything the server sends until it closes the connection.</summary>
    public byte[] ReadUntilClosed()
    {
        while (Fill()) { }
        var all = _buffer.AsSpan(_start, _end - _start).ToArray();
        _start = _end;
        return all;
    }

    /// <summary>Reads more bytes; false when the peer has closed (or reset) the connection.</summary>
    bool Fill()
    {
        if (_start > 0 && _start == _end) _start = _end = 0;
        if (_end == _buffer.Length)
        {
            var bigger = new byte[_buffer.Length * 2];
            Array.Copy(_buffer, _start, bigger, 0, _end - _start);
            _end -= _start;
            _start = 0;
            _buffer = bigger;
        }
        int read;
        try
        {
            read = _tls?.Read(_buffer, _end, _buffer.Length - _end) ?? _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        }
        catch (IOException e) when (_tls is not null && e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
        {
            throw new TimeoutException($"No complete reply within {_socket.ReceiveTimeout} ms; received so far: {Escape(_buffer.AsSpan(_start, _end - _start))}");
        }
        catch (IOException e) when (_tls is not null && e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut || e.SocketErrorCode == SocketError.WouldBlock)
        {
            throw new TimeoutException($"No complete reply within {_socket.ReceiveTimeout} ms; received so far: {Escape(_buffer.AsSpan(_start, _end - _start))}");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return false;
        }
        if (read == 0) return false;
        _end += read;
        return true;
    }

    /// <summary>Parses one reply starting at <paramref name="pos"/>; false while it is incomplete.</summary>
    static bool TryParse(ReadOnlySpan<byte> data, int pos, out RespNode node, out int end)
    {
        node = null!;
        end = 0;
        int lineEnd = data[pos..].IndexOf("\r\n"u8);
        if (lineEnd < 0) return false;
        lineEnd += pos;
        byte type = data[pos];
        var header = data[(pos + 1)..lineEnd];
        int next = lineEnd + 2;
        var children = new List<RespNode>();
        switch (type)
        {
            case (byte)'+' or (byte)'-' or (byte)':' or (byte)',' or (byte)'(' or (byte)'_' or (byte)'#':
                break;
            case (byte)'$' or (byte)'!' or (byte)'=':
            {
                long length = long.Parse(Encoding.ASCII.GetString(header));
                if (length >= 0)
                {
                    if (data.Length < next + length + 2) return false;
                    next += (int)length + 2;
                }
                break;
            }
            case (byte)'*' or (byte)'~' or (byte)'>' or (byte)'%' or (byte)'|':
            {
                long count = long.Parse(Encoding.ASCII.GetString(header));
                if (type is (byte)'%' or (byte)'|') count *= 2;
                for (long i = 0; i < count; i++)
                {
                    if (!TryParse(data, next, out var child, out next)) return false;
                    children.Add(child);
                }
                if (type == (byte)'|')
                {
                    if (!TryParse(data, next, out var annotated, out next)) return false;
                    children.Add(annotated);
                }
                break;
            }
            default:
                throw new InvalidDataException($"Unknown RESP type byte in: {Escape(data[pos..])}");
        }
        node = new RespNode(type, data[pos..next].ToArray(), children);
        end = next;
        return true;
    }

    /// <summary>Printable form of raw bytes: \r \n \t \" \\ and \xHH for everything outside ASCII graphics.</summary>
    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length + 2);
        text.Append('"');
        foreach (byte b in bytes)
        {
            text.Append(b switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                (byte)'\t' => "\\t",
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => $"\\x{b:x2}",
            });
        }
        return text.Append('"').ToString();
    }

    public void Dispose()
    {
        _tls?.Dispose();
        _socket.Dispose();
    }
}
