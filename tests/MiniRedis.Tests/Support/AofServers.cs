using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>A server process with the AOF on, in a directory the test owns (kept across restarts).</summary>
public sealed class AofServerProcess : ServerProcess
{
    AofServerProcess() { }

    /// <summary>MiniRedis with <c>appendonly yes</c> in <paramref name="dir"/>; ready once the AOF loaded (PING answers PONG).</summary>
    public static AofServerProcess MiniRedis(string dir, params string[] directives)
    {
        var server = new AofServerProcess();
        server.Start("dotnet", port => [RepoPaths.ServerDll, "--port", port.ToString(), "--appendonly", "yes", "--dir", dir, .. directives]);
        return server;
    }

    /// <summary>Real Redis 7.0 with <c>appendonly yes</c> in <paramref name="dir"/> (appendonlydir/ inside, or an old appendonly.aof upgraded).</summary>
    public static AofServerProcess Redis(string dir, params string[] directives)
    {
        var server = new AofServerProcess();
        var executable = RealRedisProcess.ExecutablePath("redis-server");
        server.Start(executable, port => ["--port", port.ToString(), "--save", "", "--appendonly", "yes", "--daemonize", "no", "--dir", dir, .. directives], dir);
        return server;
    }
}

/// <summary>Helpers for comparing datasets and files.</summary>
public static class AofTestData
{
    public static string NewDirectory(string prefix) => Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The bytes of a bulk string reply node.</summary>
    public static byte[] Bulk(RespNode node)
    {
        int header = node.Raw.AsSpan().IndexOf("\r\n"u8) + 2;
        return node.Raw[header..^2];
    }

    /// <summary>
    /// Every key of every database as "db key → type, value, absolute expire time", read with
    /// plain commands (no DUMP), so two servers' datasets compare as dictionaries.
    /// </summary>
    public static SortedDictionary<string, string> Snapshot(RespConnection connection, int databases = 16)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int db = 0; db < databases; db++)
        {
            connection.Call("SELECT", db.ToString());
            connection.Send(RespConnection.EncodeCommand([.. new[] { "KEYS", "*" }.Select(Encoding.UTF8.GetBytes)]));
            foreach (var child in connection.ReadReply().Children)
            {
                var key = Bulk(child);
                string type = Encoding.Latin1.GetString(connection.Call([Encoding.ASCII.GetBytes("TYPE"), key]))[1..^2];
                connection.Send(RespConnection.EncodeCommand([Encoding.ASCII.GetBytes(ValueCommand(type)), key, .. ValueArguments(type)]));
                string value = Canonical(type, connection.ReadReply());
                string expire = Text(connection.Call([Encoding.ASCII.GetBytes("PEXPIRETIME"), key]));
                result[$"{db} {RespConnection.Escape(key)}"] = $"{type} {value} {expire}";
            }
        }
        connection.Call("SELECT", "0");
        return result;
    }

    static string Text(byte[] raw) => RespConnection.Escape(raw);

    /// <summary>A value reply as text; set members and hash fields sorted, since their order is the server's own.</summary>
    static string Canonical(string type, RespNode reply)
    {
        var items = reply.Children.Select(c => Text(c.Raw)).ToList();
        if (type == "set") items.Sort(StringComparer.Ordinal);
        else if (type == "hash") items = [.. items.Chunk(2).Select(pair => string.Join(" ", pair)).Order(StringComparer.Ordinal)];
        else return Text(reply.Raw);
        return string.Join(",", items);
    }

    static string ValueCommand(string type) => type switch
    {
        "string" => "GET",
        "list" => "LRANGE",
        "set" => "SMEMBERS",
        "zset" => "ZRANGE",
        "hash" => "HGETALL",
        _ => throw new InvalidOperationException($"unexpected type {type}"),
    };

    static byte[][] ValueArguments(string type) => type switch
    {
        "list" => [.. new[] { "0", "-1" }.Select(Encoding.ASCII.GetBytes)],
        "zset" => [.. new[] { "0", "-1", "WITHSCORES" }.Select(Encoding.ASCII.GetBytes)],
        _ => [],
    };
}
