using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.PubSub;

/// <summary>Connections of one scenario run, and the frames they received, in order.</summary>
public sealed class Transcript(ServerProcess server) : IDisposable
{
    readonly Dictionary<string, RespConnection> _connections = [];
    readonly StringBuilder _text = new();
    int _clientsBefore = -1;

    public RespConnection this[string name]
    {
        get
        {
            if (!_connections.TryGetValue(name, out var connection))
            {
                if (_clientsBefore < 0) _clientsBefore = ConnectedClients();
                _connections[name] = connection = server.Connect();
            }
            return connection;
        }
    }

    /// <summary>connected_clients, counting the probe connection that asks.</summary>
    int ConnectedClients()
    {
        using var probe = server.Connect();
        return (int)probe.InfoNumber("clients", "connected_clients");
    }

    /// <summary>Sends an inline command on <paramref name="name"/>'s connection and records the next <paramref name="frames"/> frames.</summary>
    public void Send(string name, string inline, int frames = 1)
    {
        this[name].Send(inline + "\r\n");
        Read(name, frames, inline);
    }

    /// <summary>Records the next <paramref name="frames"/> frames <paramref name="name"/> receives (messages).</summary>
    public void Read(string name, int frames, string note = "(read)")
    {
        _text.Append(name).Append(" > ").Append(note).Append('\n');
        for (int i = 0; i < frames; i++) _text.Append("  ").Append(this[name].ReadReply()).Append('\n');
    }

    /// <summary>Sends a command whose one reply differs between servers by nature (HELLO's client id), unrecorded.</summary>
    public void Quietly(string name, string inline)
    {
        this[name].Send(inline + "\r\n");
        this[name].ReadReply();
    }

    readonly List<(string Value, string Mask)> _masks = [];

    /// <summary>Shows <paramref name="value"/> as <paramref name="mask"/> (a client id, which differs between servers).</summary>
    public void Mask(string value, string mask) => _masks.Add((value, mask));

    /// <summary>The client id of <paramref name="name"/>'s connection, masked in the transcript.</summary>
    public string ClientId(string name)
    {
        var id = Encoding.ASCII.GetString(this[name].Call("CLIENT", "ID"))[1..^2];
        Mask($":{id}\\r\\n", $":<{name}>\\r\\n");
        Mask($"REDIRECT {id}", $"REDIRECT <{name}>");
        return id;
    }

    /// <summary>Waits until the server counts <paramref name="count"/> blocked clients: a blocking command sent unrecorded is waiting.</summary>
    public void WaitForBlockedClients(int count) => Wait.ForBlockedClients(server, count);

    /// <summary>Waits until the server has let go of client <paramref name="id"/> (after its QUIT), so the next step finds it gone.</summary>
    public void WaitForGone(string id)
    {
        using var probe = server.Connect();
        Assert.True(Wait.Until(() => !Encoding.Latin1.GetString(probe.Call("CLIENT", "LIST", "ID", id)).Contains($"id={id} ", StringComparison.Ordinal)),
            $"client {id} is still connected");
    }

    public override string ToString() => _masks.Aggregate(_text.ToString(), (text, m) => text.Replace(m.Value, m.Mask, StringComparison.Ordinal));

    /// <summary>Runs <paramref name="scenario"/> on real Redis and on MiniRedis and compares what every connection received.</summary>
    public static void AssertSame(ServerPairFixture servers, Action<Transcript> scenario)
    {
        string Run(ServerProcess server)
        {
            using var transcript = new Transcript(server);
            scenario(transcript);
            return transcript.ToString();
        }
        Assert.Equal(Run(servers.Redis), Run(servers.Mini));
    }

    /// <summary>
    /// Closes the scenario's connections and waits until the server has let go of them: a subscriber
    /// still registered would receive the next scenario's messages (PUBLISH counted it once).
    /// </summary>
    public void Dispose()
    {
        foreach (var connection in _connections.Values) connection.Dispose();
        if (_clientsBefore >= 0) Assert.True(Wait.Until(() => ConnectedClients() <= _clientsBefore), "the scenario's connections are still open on the server");
    }
}
