using System.Buffers;
using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>
/// The clients in MONITOR mode and what they are fed (Redis's replicationFeedMonitors): one status line
/// per executed command, <c>+&lt;unix seconds&gt;.&lt;micros&gt; [&lt;db&gt; &lt;addr&gt;] "arg" "arg"...</c>, each
/// argument quoted as sdscatrepr quotes it. Commands run by a script show <c>lua</c> as their address.
/// Nothing is fed while the AOF loads, as Redis feeds nothing while loading.
/// </summary>
public sealed class MonitorFeed
{
    static readonly byte[] Redacted = "(redacted)"u8.ToArray();

    readonly List<ClientSession> _monitors = [];
    readonly ArrayBufferWriter<byte> _line = new(256);
    readonly Keyspace _keyspace;
    readonly Action<ClientSession> _outputReady;

    /// <param name="keyspace">Whose loading flag stops the feed.</param>
    /// <param name="outputReady">Told of each monitor given a line, so its output is sent this round.</param>
    internal MonitorFeed(Keyspace keyspace, Action<ClientSession> outputReady)
    {
        _keyspace = keyspace;
        _outputReady = outputReady;
    }

    public int Count => _monitors.Count;

    public void Add(ClientSession client)
    {
        client.Monitor = true;
        _monitors.Add(client);
    }

    public void Remove(ClientSession client)
    {
        if (!client.Monitor) return;
        client.Monitor = false;
        _monitors.Remove(client);
    }

    /// <summary>
    /// Feeds one command. Arguments whose bit is set in <paramref name="redacted"/> (AUTH and HELLO
    /// passwords) show as <c>(redacted)</c>, as Redis's redactClientCommandArgument makes them.
    /// </summary>
    public void Feed(ClientSession client, int db, ArgVector args, ulong redacted)
    {
        if (_monitors.Count == 0 || _keyspace.Loading) return;
        _line.Clear();
        long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        long seconds = ticks / TimeSpan.TicksPerSecond;
        long micros = ticks % TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond;
        string address = client.IsScriptClient ? "lua" : client.Connection?.RemoteAddress ?? "";
        Ascii($"+{seconds}.{micros:D6} [{db} {address}] ");
        for (int i = 0; i < args.Count; i++)
        {
            if (i > 0) Ascii(" ");
            Quote(i < 64 && (redacted & (1UL << i)) != 0 ? Redacted : args[i]);
        }
        Ascii("\r\n");
        foreach (var monitor in _monitors)
        {
            monitor.Reply.Raw(_line.WrittenSpan);
            _outputReady(monitor);
        }
    }

    void Ascii(string text)
    {
        var span = _line.GetSpan(text.Length);
        for (int i = 0; i < text.Length; i++) span[i] = (byte)text[i];
        _line.Advance(text.Length);
    }

    /// <summary>Redis's sdscatrepr: printable ASCII as is, C escapes for the usual controls, \xHH for the rest.</summary>
    void Quote(ReadOnlySpan<byte> value)
    {
        var span = _line.GetSpan(value.Length * 4 + 2);
        int n = 0;
        span[n++] = (byte)'"';
        foreach (byte b in value)
        {
            byte escape = b switch
            {
                (byte)'\\' => (byte)'\\',
                (byte)'"' => (byte)'"',
                (byte)'\n' => (byte)'n',
                (byte)'\r' => (byte)'r',
                (byte)'\t' => (byte)'t',
                0x07 => (byte)'a',
                0x08 => (byte)'b',
                _ => 0,
            };
            if (escape != 0)
            {
                span[n++] = (byte)'\\';
                span[n++] = escape;
            }
            else if (b is >= 0x20 and <= 0x7e) span[n++] = b;
            else
            {
                span[n++] = (byte)'\\';
                span[n++] = (byte)'x';
                span[n++] = (byte)"0123456789abcdef"[b >> 4];
                span[n++] = (byte)"0123456789abcdef"[b & 15];
            }
        }
        span[n++] = (byte)'"';
        _line.Advance(n);
    }
}
