using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Replication;

/// <summary>
/// Scripts and functions on a replica, as Redis 7.0.15 runs them: with its link down and
/// <c>replica-serve-stale-data no</c> (only scripts flagged <c>allow-stale</c> run, and inside them only
/// commands with the stale flag), and on a read-only replica (a script without <c>no-writes</c> is
/// refused before it runs, or when MULTI queues it; one without a shebang fails at its first write).
/// </summary>
[Trait("Category", "Differential")]
public sealed class StaleScriptTests
{
    const string Library = "#!lua name=lib\n" +
        "redis.register_function('plain', function(keys, args) return 'plain' end)\n" +
        "redis.register_function{function_name='ro', callback=function(keys, args) return 'ro' end, flags={'no-writes'}}\n" +
        "redis.register_function{function_name='stale', callback=function(keys, args) return 'stale' end, flags={'no-writes', 'allow-stale'}}\n" +
        "redis.register_function{function_name='stale_get', callback=function(keys, args) return redis.call('GET', keys[1]) end, flags={'no-writes', 'allow-stale'}}\n" +
        "redis.register_function{function_name='stale_writer', callback=function(keys, args) return redis.call('SET', keys[1], 'v') end, flags={'allow-stale'}}\n";

    static readonly string[][] Calls =
    [
        ["EVAL", "return 1", "0"],
        ["EVAL", "return redis.call('GET', KEYS[1])", "1", "k"],
        ["EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", "k"],
        ["EVAL", "return redis.pcall('SET', KEYS[1], 'v')", "1", "k"],
        ["EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "k"],
        ["EVAL", "#!lua\nreturn 1", "0"],
        ["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
        ["EVAL", "#!lua flags=allow-stale\nreturn 1", "0"],
        ["EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"],
        ["EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('GET', KEYS[1])", "1", "k"],
        ["EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.pcall('GET', KEYS[1])", "1", "k"],
        ["EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('PING')", "0"],
        ["EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('ECHO', 'e')", "0"],
        ["EVAL", "#!lua flags=no-writes,allow-stale\nreturn redis.call('INFO', 'nosuchsection')", "0"],
        ["EVAL_RO", "#!lua flags=no-writes,allow-stale\nreturn 2", "0"],
        ["EVAL_RO", "#!lua flags=allow-stale\nreturn 2", "0"],
        ["SCRIPT", "LOAD", "return 3"],
        ["EVALSHA", "09d3822de862f46d784e6a36848b4f0736dda47a", "0"],
        ["FCALL", "plain", "0"],
        ["FCALL", "ro", "0"],
        ["FCALL_RO", "ro", "0"],
        ["FCALL", "stale", "0"],
        ["FCALL_RO", "stale", "0"],
        ["FCALL", "stale_get", "1", "k"],
        ["FCALL", "stale_writer", "1", "k"],
        // Queued scripts are checked with the flags they declare: a refusal when queued aborts the EXEC.
        ["MULTI"], ["EVAL", "#!lua\nreturn 1", "0"], ["EXEC"],
        ["MULTI"], ["EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"], ["FCALL", "stale", "0"], ["EXEC"],
        ["MULTI"], ["FCALL", "stale_writer", "1", "k"], ["EXEC"],
        ["MULTI"], ["FCALL", "ro", "0"], ["EXEC"],
        ["MULTI"], ["EVAL", "return 1", "0"], ["EXEC"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "nolib"],
        ["FUNCTION", "STATS"],
        ["FUNCTION", "DELETE", "nolib"],
        ["FUNCTION", "FLUSH"],
    ];

    [Fact]
    public void StaleReplicaRunsOnlyAllowStaleScriptsLikeRedis()
    {
        Assert.Equal(Replies(realRedis: true, serveStale: false), Replies(realRedis: false, serveStale: false));
    }

    [Fact]
    public void ReadOnlyReplicaRefusesWritingScriptsLikeRedis()
    {
        Assert.Equal(Replies(realRedis: true, serveStale: true), Replies(realRedis: false, serveStale: true));
    }

    /// <summary>A server with the library and a key turned into a replica of a port nobody listens on.</summary>
    static List<string> Replies(bool realRedis, bool serveStale)
    {
        using ServerProcess server = realRedis ? new RealRedisProcess() : new MiniRedisProcess();
        using var connection = server.Connect();
        connection.Call("SET", "k", "value");
        Assert.StartsWith("$3\r\nlib", connection.Text("FUNCTION", "LOAD", Library));
        connection.Call("CONFIG", "SET", "replica-serve-stale-data", serveStale ? "yes" : "no");
        Assert.Equal("+OK\r\n", connection.Text("REPLICAOF", "127.0.0.1", ServerProcess.FreePort().ToString()));
        return [.. Calls.Select(call => string.Join(' ', call) + " -> " + connection.Text(call))];
    }
}
