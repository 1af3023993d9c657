using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// Redis 7.0 runs a script or function that declares flags as a command of those flags: out of memory
/// under noeviction one that may write is refused with -OOM before it runs unless it declares
/// allow-oom (whose writes then go through), and after a failed background save one that may write
/// gets -MISCONF. Inside MULTI they are checked when queued, with the flags they declare (out of
/// memory every queued command is refused; after a failed save a declared writing script is, and
/// EXEC aborts). Compared reply for reply with real Redis 7.0.15.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ScriptFlagRefusalTests
{
    const string Library = "#!lua name=lib\n" +
        "redis.register_function('writer', function(keys, args) return redis.call('SET', 'fw', '1') end)\n" +
        "redis.register_function{function_name='ro', callback=function(keys, args) return 'ro' end, flags={'no-writes'}}\n" +
        "redis.register_function{function_name='oom', callback=function(keys, args) return redis.call('SET', 'fo', '1') end, flags={'allow-oom'}}\n";

    static readonly string[][] Scripts =
    [
        ["EVAL", "return 1", "0"],
        ["EVAL", "return redis.call('SET', 'plain', '1')", "0"],
        ["EVAL", "#!lua\nreturn 1", "0"],
        ["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
        ["EVAL", "#!lua flags=allow-oom\nreturn redis.call('SET', 'x', '1')", "0"],
        ["EVAL_RO", "#!lua\nreturn 1", "0"],
        ["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"],
        ["FCALL", "writer", "0"],
        ["FCALL", "ro", "0"],
        ["FCALL", "oom", "0"],
        ["FCALL_RO", "writer", "0"],
        ["MULTI"],
        ["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
        ["FCALL", "ro", "0"],
        ["EXEC"],
        ["MULTI"],
        ["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
        ["EVAL", "#!lua\nreturn 1", "0"],
        ["EXEC"],
        ["MULTI"],
        ["FCALL", "writer", "0"],
        ["EXEC"],
        ["MULTI"],
        ["EVAL", "return redis.call('SET', 'plain', '1')", "0"],
        ["EXEC"],
    ];

    [Fact]
    public void OutOfMemoryAndMisconfRefuseScriptsThatMayWrite()
    {
        using var real = new RealRedisProcess("--save", "3600 1", "--maxmemory-policy", "noeviction");
        using var mini = new MiniRedisProcess("--save", "3600 1", "--maxmemory-policy", "noeviction");
        var expected = Observe(real);
        Assert.Equal(expected, Observe(mini));
        // What the comparison covers: refusals before the script runs, and allow-oom's write going through.
        Assert.Contains("OOM EVAL #!lua\\nreturn 1 0 => -OOM command not allowed when used memory > 'maxmemory'.", expected);
        Assert.Contains("OOM EVAL #!lua flags=allow-oom\\nreturn redis.call('SET', 'x', '1') 0 => +OK", expected);
        Assert.Contains("MISCONF FCALL writer 0 => " + Misconf, expected);
        // Queued with its declared flags: refused when queued, and the EXEC aborts.
        Assert.Equal(2, expected.Count(line => line == "MISCONF EXEC => -EXECABORT Transaction discarded because of previous errors."));
    }

    const string Misconf = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

    static List<string> Observe(ServerProcess server)
    {
        using var connection = server.Connect();
        Assert.StartsWith("$3\r\nlib", Text(connection.Call("FUNCTION", "LOAD", Library)));
        var seen = new List<string>();
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "maxmemory", "1")));
        seen.AddRange(Scripts.Select(call => "OOM " + Shown(call) + " => " + Text(connection.Call(call)).Trim()));
        Assert.Equal("+OK\r\n", Text(connection.Call("CONFIG", "SET", "maxmemory", "0")));

        // A dump.rdb that is a directory: the rename fails after the whole image is written.
        string dir = Text(connection.Call("CONFIG", "GET", "dir")).Split("\r\n")[4];
        Directory.CreateDirectory(Path.Combine(dir, "dump.rdb"));
        Assert.Equal("+Background saving started\r\n", Text(connection.Call("BGSAVE")));
        Assert.True(Wait.Until(() => connection.InfoField("persistence", "rdb_last_bgsave_status") == "err"), server.Output);
        seen.AddRange(Scripts.Select(call => "MISCONF " + Shown(call) + " => " + Text(connection.Call(call)).Trim()));
        return seen;
    }

    static string Shown(string[] call) => string.Join(' ', call).Replace("\n", "\\n", StringComparison.Ordinal);

    static string Text(byte[] reply) => Encoding.Latin1.GetString(reply);
}
