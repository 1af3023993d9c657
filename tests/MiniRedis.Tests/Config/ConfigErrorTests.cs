using MiniRedis.Config;

namespace MiniRedis.Tests.Config;

/// <summary>Every text here was captured from redis-server 7.0.15 given the same input.</summary>
[Trait("Category", "Differential")]
public sealed class ConfigErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("miniredis-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fatal(int line, string text, string error) =>
        $"\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{error}\n";

    [Theory]
    [InlineData("foo \"bar\"", "Bad directive or wrong number of arguments")]
    [InlineData("port abc", "argument couldn't be parsed into an integer")]
    [InlineData("port +5", "argument couldn't be parsed into an integer")]
    [InlineData("port 05", "argument couldn't be parsed into an integer")]
    [InlineData("timeout -0", "argument couldn't be parsed into an integer")]
    [InlineData("timeout 99999999999999999999", "argument couldn't be parsed into an integer")]
    [InlineData("port 70000", "argument must be between 0 and 65535 inclusive")]
    [InlineData("PORT 99999", "argument must be between 0 and 65535 inclusive")]
    [InlineData("timeout -1", "argument must be between 0 and 2147483647 inclusive")]
    [InlineData("databases 0", "argument must be between 1 and 2147483647 inclusive")]
    [InlineData("maxclients 0", "argument must be between 1 and 4294967295 inclusive")]
    [InlineData("maxclients -1", "argument must be between 1 and 4294967295 inclusive")]
    [InlineData("active-expire-effort 11", "argument must be between 1 and 10 inclusive")]
    [InlineData("port 1 2", "wrong number of arguments")]
    [InlineData("port", "wrong number of arguments")]
    [InlineData("requirepass", "wrong number of arguments")]
    [InlineData("port 7199 # comment", "wrong number of arguments")]
    [InlineData("protected-mode maybe", "argument must be 'yes' or 'no'")]
    [InlineData("daemonize maybe", "argument must be 'yes' or 'no'")]
    [InlineData("supervised foo", "argument(s) must be one of the following: upstart, systemd, auto, no")]
    [InlineData("syslog-facility foo", "argument(s) must be one of the following: user, local0, local1, local2, local3, local4, local5, local6, local7")]
    [InlineData("unixsocketperm 999", "argument couldn't be parsed as an octal number")]
    [InlineData("unixsocketperm 1777", "argument must be between 0 and 777 inclusive")]
    [InlineData("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning")]
    [InlineData("appendfsync sometimes", "argument(s) must be one of the following: everysec, always, no")]
    [InlineData("proto-max-bulk-len 12x", "argument must be a memory value")]
    [InlineData("proto-max-bulk-len -1", "argument must be a memory value")]
    [InlineData("proto-max-bulk-len 100", "argument must be between 1048576 and 9223372036854775807 inclusive")]
    [InlineData("proto-max-bulk-len 99999999999999999999", "argument must be between 1048576 and 9223372036854775807 inclusive")]
    [InlineData("client-query-buffer-limit 1k", "argument must be between 1048576 and 9223372036854775807 inclusive")]
    [InlineData("requirepass \"abc", "Unbalanced quotes in configuration line")]
    [InlineData("requirepass \"abc\"x", "Unbalanced quotes in configuration line")]
    [InlineData("requirepass 'abc'x", "Unbalanced quotes in configuration line")]
    [InlineData("requirepass 'abc", "Unbalanced quotes in configuration line")]
    [InlineData("save 1", "Invalid save parameters")]
    [InlineData("save 0 1", "Invalid save parameters")]
    [InlineData("save 1 -1", "Invalid save parameters")]
    [InlineData("save 1 x", "Invalid save parameters")]
    [InlineData("dir /nonexistent-miniredis", "No such file or directory")]
    [InlineData("dir /etc/passwd", "Not a directory")]
    [InlineData("appendfilename a/b", "appendfilename can't be a path, just a filename")]
    [InlineData("appendfilename \"\"", "appendfilename can't be empty")]
    [InlineData("dbfilename a/b", "dbfilename can't be a path, just a filename")]
    [InlineData("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified.")]
    [InlineData("include", "Bad directive or wrong number of arguments")]
    [InlineData("include a b", "Bad directive or wrong number of arguments")]
    [InlineData("rename-command nosuch x", "No such command in rename-command")]
    [InlineData("rename-command get set", "Target command name already exists")]
    [InlineData("rename-command get", "Bad directive or wrong number of arguments")]
    [InlineData("lua-replicate-commands", "Bad directive or wrong number of arguments")]
    [InlineData("maxmemory-policy x", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")]
    [InlineData("io-threads 129", "argument must be between 1 and 128 inclusive")]
    [InlineData("oom-score-adj-values 1 2", "wrong number of arguments")]
    [InlineData("replicaof 127.0.0.1", "wrong number of arguments")]
    [InlineData("replicaof 127.0.0.1 99999", "Invalid master port")]
    [InlineData("activedefrag yes", "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution")]
    [InlineData("unixsocketgroup x", "Bad directive or wrong number of arguments")]
    public void BadLine_ReportsRedisText(string line, string error)
    {
        var e = Assert.Throws<ConfigException>(() => ServerConfig.Parse("# first\n" + line + "\nport 1\n"));
        Assert.Equal(Fatal(2, line, error), e.Message);
    }

    [Fact]
    public void BadLine_IsEchoedTrimmed()
    {
        var e = Assert.Throws<ConfigException>(() => ServerConfig.Parse("  port 99999  \r\n"));
        Assert.Equal(Fatal(1, "port 99999", "argument must be between 0 and 65535 inclusive"), e.Message);
    }

    [Fact]
    public void ProcessDirectives_AreReadAndShownAsRedisShowsThem()
    {
        var config = ServerConfig.Parse("daemonize yes\nsupervised SYSTEMD\nunixsocket /tmp/r.sock\nunixsocketperm 0755\nsyslog-enabled yes\nsyslog-ident mini\nsyslog-facility local7");
        Assert.Equal(("daemonize", "yes"), config.Get("daemonize")[0]);
        Assert.Equal(("supervised", "systemd"), config.Get("supervised")[0]);
        Assert.Equal(("unixsocket", "/tmp/r.sock"), config.Get("unixsocket")[0]);
        // Octal in, octal out, without the leading zero (as redis-server 7.0.15 shows it).
        Assert.Equal(("unixsocketperm", "755"), config.Get("unixsocketperm")[0]);
        Assert.Equal(0b111_101_101, config.UnixSocketPerm);
        Assert.Equal(("syslog-enabled", "yes"), config.Get("syslog-enabled")[0]);
        Assert.Equal(("syslog-ident", "mini"), config.Get("syslog-ident")[0]);
        Assert.Equal(("syslog-facility", "local7"), config.Get("syslog-facility")[0]);
        var defaults = new ServerConfig();
        Assert.Equal([("unixsocketperm", "0")], defaults.Get("unixsocketperm"));
        Assert.Equal([("syslog-ident", "redis")], defaults.Get("syslog-ident"));
        Assert.Equal([("supervised", "no")], defaults.Get("supervised"));
    }

    [Fact]
    public void CommandLineOption_ReportsItsLineAfterTheFile()
    {
        string file = Path.Combine(_dir, "a.conf");
        File.WriteAllText(file, "port 7199\n");
        var e = Assert.Throws<ConfigException>(() => ServerConfig.Load(CommandLine.Parse([file, "--hz", "x"])));
        Assert.Equal(Fatal(3, "hz \"x\"", "argument couldn't be parsed into an integer"), e.Message);

        e = Assert.Throws<ConfigException>(() => ServerConfig.Load(CommandLine.Parse(["--port", "7199", "x y"])));
        Assert.Equal(Fatal(2, "port \"7199\" \"x y\"", "wrong number of arguments"), e.Message);

        e = Assert.Throws<ConfigException>(() => ServerConfig.Load(CommandLine.Parse(["-x"])));
        Assert.Equal(Fatal(2, "\"-x\"", "Bad directive or wrong number of arguments"), e.Message);
    }

    [Fact]
    public void IncludedFile_ReportsItsOwnLineNumbers()
    {
        string included = Path.Combine(_dir, "b.conf");
        File.WriteAllText(included, "\n\nport x\n");
        var e = Assert.Throws<ConfigException>(() => ServerConfig.Parse($"include {included}\n"));
        Assert.Equal(Fatal(3, "port x", "argument couldn't be parsed into an integer"), e.Message);
    }

    [Fact]
    public void MissingFiles_AreFatal()
    {
        var e = Assert.Throws<ConfigException>(() => ServerConfig.Parse("include /nonexistent-miniredis.conf"));
        Assert.Equal("Fatal error, can't open config file '/nonexistent-miniredis.conf': No such file or directory\n", e.Message);

        e = Assert.Throws<ConfigException>(() => ServerConfig.Load(CommandLine.Parse(["/nonexistent-miniredis.conf"])));
        Assert.Equal("Fatal error, can't open config file '/nonexistent-miniredis.conf': No such file or directory\n", e.Message);
    }

    [Fact]
    public void UnopenableLogFile_IsFatalWithoutLineNumber()
    {
        var e = Assert.Throws<ConfigException>(() => ServerConfig.Parse("logfile /nonexistent-miniredis/x.log"));
        Assert.Equal("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nCan't open the log file: No such file or directory\n", e.Message);
    }
}
