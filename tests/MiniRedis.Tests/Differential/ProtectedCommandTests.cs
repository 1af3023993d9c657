using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// The enable-debug-command, enable-module-command and enable-protected-configs switches, compared
/// byte for byte with Redis 7.0.15: by default DEBUG, MODULE LOAD/LOADEX/UNLOAD and CONFIG SET of
/// dir/dbfilename are refused (before authentication, and queued as errors in MULTI); with "local" a
/// client on 127.0.0.1 or the Unix socket may, one from another address may not.
/// </summary>
public sealed class ProtectedCommandTests(ProtectedCommandTests.DefaultsPair servers) : IClassFixture<ProtectedCommandTests.DefaultsPair>
{
    /// <summary>Redis's defaults (the test infrastructure enables DEBUG on MiniRedis; this turns it off again).</summary>
    public sealed class DefaultsPair() : ServerPairFixture("--enable-debug-command", "no");

    static readonly string[][] s_commands =
    [
        ["DEBUG", "SLEEP", "0"], ["DEBUG", "HELP"], ["debug", "jmap"], ["DEBUG"],
        ["MODULE", "LIST"], ["MODULE", "HELP"], ["MODULE", "LOAD", "/nonexistent/mod.so"], ["MODULE", "LOADEX", "/nonexistent/mod.so"],
        ["MODULE", "UNLOAD", "mod"], ["MODULE"], ["MODULE", "nosuch"], ["MODULE", "LIST", "extra"],
        ["CONFIG", "SET", "dir", "/tmp"], ["CONFIG", "SET", "dbfilename", "x.rdb"], ["CONFIG", "SET", "enable-debug-command", "yes"],
        ["CONFIG", "SET", "enable-module-command", "yes"], ["CONFIG", "SET", "enable-protected-configs", "yes"],
        ["MULTI"], ["DEBUG", "SLEEP", "0"], ["SET", "k", "v"], ["EXEC"],
        ["EVAL", "return redis.call('debug', 'sleep', '0')", "0"],
        ["CONFIG", "GET", "enable-debug-command"], ["CONFIG", "GET", "enable-module-command"], ["CONFIG", "GET", "enable-protected-configs"],
    ];

    static string Replies(ServerProcess server, string[][] commands, Func<RespConnection>? connect = null)
    {
        using var connection = connect?.Invoke() ?? server.Connect();
        var text = new StringBuilder();
        foreach (var command in commands)
            text.Append(string.Join(' ', command)).Append(" -> ").AppendLine(RespConnection.Escape(connection.Call(command)));
        return text.ToString();
    }

    [Fact]
    public void Defaults_refuse_debug_module_loading_and_protected_configs_with_redis_texts()
    {
        string expected = Replies(servers.Redis, s_commands);
        Assert.Contains("ERR DEBUG command not allowed.", expected, StringComparison.Ordinal);
        Assert.Equal(expected, Replies(servers.Mini, s_commands));
    }

    [Fact]
    public void The_refusal_comes_before_authentication()
    {
        string[][] commands = [["DEBUG", "SLEEP", "0"], ["MODULE", "LOAD", "/nonexistent/mod.so"], ["MODULE", "LIST"], ["CONFIG", "SET", "dir", "/tmp"]];
        Assert.Equal(WithPassword(servers.Redis, commands), WithPassword(servers.Mini, commands));
    }

    static string WithPassword(ServerProcess server, string[][] commands)
    {
        using var admin = server.Connect();
        Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(admin.Call("CONFIG", "SET", "requirepass", "secret")));
        try
        {
            return Replies(server, commands);
        }
        finally
        {
            admin.Call("CONFIG", "SET", "requirepass", "");
        }
    }

    static readonly string[][] s_localCommands =
    [
        ["DEBUG", "SLEEP", "0"], ["MODULE", "LOAD", "/nonexistent/mod.so"], ["MODULE", "LOADEX", "/nonexistent/mod.so", "bad"],
        ["MODULE", "UNLOAD", "mod"], ["CONFIG", "SET", "dbfilename", "local.rdb"], ["CONFIG", "GET", "dbfilename"], ["CONFIG", "SET", "dbfilename", "dump.rdb"],
    ];

    static readonly string[] s_localDirectives =
        ["--enable-debug-command", "local", "--enable-module-command", "local", "--enable-protected-configs", "local", "--protected-mode", "no"];

    /// <summary>Redis's islocalClient: the loopback and the Unix socket are local, an outside address is not.</summary>
    [Fact]
    public void Local_allows_loopback_and_unix_socket_clients_only()
    {
        var outside = ConnectionGateTests.ExternalAddress();
        string redisSocket = Path.Combine(Path.GetTempPath(), $"protected-redis-{Environment.ProcessId}.sock");
        string miniSocket = Path.Combine(Path.GetTempPath(), $"protected-mini-{Environment.ProcessId}.sock");
        using var redis = new RealRedisProcess([.. s_localDirectives, "--unixsocket", redisSocket]);
        using var mini = new MiniRedisProcess([.. s_localDirectives, "--unixsocket", miniSocket]);
        string ThreeWays(ServerProcess server, string socket) =>
            "loopback:\n" + Replies(server, s_localCommands)
            + "unix socket:\n" + Replies(server, s_localCommands, () => RespConnection.OpenUnix(socket))
            + "outside:\n" + Replies(server, s_localCommands, () => RespConnection.Open(outside, server.Port));
        string expected = ThreeWays(redis, redisSocket);
        Assert.Contains("ERR DEBUG command not allowed.", expected, StringComparison.Ordinal);
        Assert.Equal(expected, ThreeWays(mini, miniSocket));
    }
}
