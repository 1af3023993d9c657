using MiniRedis.Config;

namespace MiniRedis.Tests.Config;

[Trait("Category", "Differential")]
public sealed class ConfigFileParsingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("miniredis-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Defaults_MatchRedis()
    {
        var config = new ServerConfig();
        Assert.Equal(6379, config.Port);
        Assert.Equal(["*", "-::*"], config.Bind);
        Assert.True(config.ProtectedMode);
        Assert.Equal(511, config.TcpBacklog);
        Assert.Equal(0, config.Timeout);
        Assert.Equal(300, config.TcpKeepAlive);
        Assert.Null(config.PidFile);
        Assert.Equal(ServerLogLevel.Notice, config.LogLevel);
        Assert.Equal("", config.LogFile);
        Assert.Equal(16, config.Databases);
        Assert.Equal(Path.TrimEndingDirectorySeparator(Environment.CurrentDirectory), config.Dir);
        Assert.Null(config.RequirePass);
        Assert.Equal(10000, config.MaxClients);
        Assert.Equal(512L * 1024 * 1024, config.ProtoMaxBulkLen);
        Assert.Equal(1024L * 1024 * 1024, config.ClientQueryBufferLimit);
        Assert.Equal(10, config.Hz);
        Assert.Equal(1, config.ActiveExpireEffort);
        Assert.False(config.LazyfreeLazyUserFlush || config.LazyfreeLazyUserDel || config.LazyfreeLazyExpire || config.LazyfreeLazyServerDel);
        Assert.Equal([new SaveRule(3600, 1), new SaveRule(300, 100), new SaveRule(60, 10000)], config.SaveRules);
        Assert.False(config.AppendOnly);
        Assert.Equal("dump.rdb", config.DbFilename);
        Assert.Equal("appendonly.aof", config.AppendFilename);
        Assert.Equal(AppendFsyncPolicy.EverySec, config.AppendFsync);
    }

    [Fact]
    public void Parse_CommentsBlankLinesCaseAndWhitespace()
    {
        var config = ServerConfig.Parse("# comment\n\n   \t\r\n  PORT 7000  \r\n   # indented comment\nLogLevel WARNING\nprotected-mode No\n");
        Assert.Equal(7000, config.Port);
        Assert.Equal(ServerLogLevel.Warning, config.LogLevel);
        Assert.False(config.ProtectedMode);
    }

    [Fact]
    public void Parse_LaterLinesOverrideEarlierOnes()
    {
        var config = ServerConfig.Parse("port 7000\nport 7001\nbind 127.0.0.1\nbind 127.0.0.1 ::1\n");
        Assert.Equal(7001, config.Port);
        Assert.Equal(["127.0.0.1", "::1"], config.Bind);
    }

    [Theory]
    [InlineData(@"requirepass ""a b""", "a b")]
    [InlineData(@"requirepass ""\n\r\t\b\a\\\""\q""", "\n\r\t\b\a\\\"q")]
    [InlineData(@"requirepass ""\x41\x7a\x4""", "Azx4")]
    [InlineData(@"requirepass ""\xc3\xa9""", "é")]
    [InlineData(@"requirepass 'it\'s \n'", @"it's \n")]
    [InlineData(@"requirepass foo""bar baz""", "foobar baz")]
    [InlineData("requirepass \"\"\t", null)]
    [InlineData("requirepass a\vb", "a\vb")]
    public void Parse_QuotingAndEscapes(string line, string? expected) =>
        Assert.Equal(expected, ServerConfig.Parse(line).RequirePass);

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("", 0UL)]
    [InlineData("kb", 0UL)]
    [InlineData("2k", 2000UL)]
    [InlineData("2kb", 2048UL)]
    [InlineData("2m", 2_000_000UL)]
    [InlineData("2MB", 2UL * 1024 * 1024)]
    [InlineData("1g", 1_000_000_000UL)]
    [InlineData("1Gb", 1024UL * 1024 * 1024)]
    [InlineData("7b", 7UL)]
    [InlineData("0002mb", 2UL * 1024 * 1024)]
    [InlineData("99999999999999999999", ulong.MaxValue)]
    public void MemorySizes_AcceptRedisUnits(string text, ulong expected)
    {
        Assert.True(NumberParsing.TryParseMemory(text, out ulong bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 mb")]
    [InlineData("2.5mb")]
    [InlineData("1tb")]
    [InlineData("99999999999999999999kb")]
    public void MemorySizes_RejectOtherForms(string text) => Assert.False(NumberParsing.TryParseMemory(text, out _));

    [Fact]
    public void Parse_MemoryDirectiveStoresBytes() =>
        Assert.Equal(3L * 1024 * 1024, ServerConfig.Parse("client-query-buffer-limit 3mb").ClientQueryBufferLimit);

    [Fact]
    public void Parse_SaveLinesAccumulateAndEmptyClears()
    {
        Assert.Equal([new SaveRule(900, 1), new SaveRule(300, 10)], ServerConfig.Parse("save 900 1\nsave 300 10").SaveRules);
        Assert.Empty(ServerConfig.Parse("save 900 1\nsave \"\"").SaveRules);
        Assert.Empty(ServerConfig.Parse("save").SaveRules);
        Assert.Equal([new SaveRule(5, 5)], ServerConfig.Parse("save 900 1\nsave \"\"\nsave 5 5").SaveRules);
        Assert.Equal([new SaveRule(10, 2), new SaveRule(30, 4)], ServerConfig.Parse("save 10 2 30 4").SaveRules);
        // One quoted argument is split again, as redis-server does for `--save "10 2 30 4"`.
        Assert.Equal([new SaveRule(10, 2), new SaveRule(30, 4)], ServerConfig.Parse("save \"10 2 30 4\"").SaveRules);
        Assert.Equal(["127.0.0.1", "::1"], ServerConfig.Parse("bind \"127.0.0.1 ::1\"").Bind);
    }

    [Fact]
    public void Parse_BindEmptyMeansNoAddresses() => Assert.Empty(ServerConfig.Parse("bind \"\"").Bind);

    [Fact]
    public void Parse_HzIsClampedToRunnableRange()
    {
        Assert.Equal(500, ServerConfig.Parse("hz 100000").Hz);
        Assert.Equal(1, ServerConfig.Parse("hz 0").Hz);
    }

    [Fact]
    public void Parse_DirIsResolvedAndLaterRelativePathsFollowIt()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "data"));
        File.WriteAllText(Path.Combine(_dir, "data", "extra.conf"), "port 7002\n");
        var config = ServerConfig.Parse($"dir {_dir}\ndir data\ninclude extra.conf\nlogfile server.log\n");
        Assert.Equal(Path.Combine(_dir, "data"), config.Dir);
        Assert.Equal(7002, config.Port);
        Assert.True(File.Exists(Path.Combine(_dir, "data", "server.log")));
    }

    [Fact]
    public void Include_LoadsInPlaceSoLaterLinesOverride()
    {
        File.WriteAllText(Path.Combine(_dir, "base.conf"), "port 7000\ntimeout 5\n");
        var config = ServerConfig.Parse($"port 6000\ninclude {Path.Combine(_dir, "base.conf")}\ntimeout 9\n");
        Assert.Equal(7000, config.Port);
        Assert.Equal(9, config.Timeout);
    }

    [Fact]
    public void Include_WildcardReadsMatchesInNameOrderAndToleratesNone()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "conf.d"));
        File.WriteAllText(Path.Combine(_dir, "conf.d", "b.conf"), "port 7002\n");
        File.WriteAllText(Path.Combine(_dir, "conf.d", "a.conf"), "port 7001\ntimeout 3\n");
        File.WriteAllText(Path.Combine(_dir, "conf.d", ".hidden.conf"), "timeout 4\n");
        File.WriteAllText(Path.Combine(_dir, "conf.d", "c.txt"), "port 7003\n");
        var config = ServerConfig.Parse($"include {_dir}/conf.d/*.conf\ninclude {_dir}/empty/*.conf\n");
        Assert.Equal(7002, config.Port);
        Assert.Equal(3, config.Timeout);
    }

    [Fact]
    public void Load_CommandLineOptionsOverrideFileAndStdin()
    {
        string file = Path.Combine(_dir, "redis.conf");
        File.WriteAllText(file, "port 7000\ntimeout 1\nsave 900 1\n");
        var commandLine = CommandLine.Parse([file, "--timeout", "2", "--save", "1", "1", "--requirepass", "--x y", "-"]);
        using var stdin = new MemoryStream("loglevel debug\ntimeout 3\n"u8.ToArray());
        var config = ServerConfig.Load(commandLine, stdin);
        Assert.Equal(file, config.ConfigFile);
        Assert.Equal(7000, config.Port);
        Assert.Equal(2, config.Timeout);
        Assert.Equal(ServerLogLevel.Debug, config.LogLevel);
        Assert.Equal("--x y", config.RequirePass);
        Assert.Equal([new SaveRule(900, 1), new SaveRule(1, 1)], config.SaveRules);
    }

    [Fact]
    public void Load_WithoutArgumentsUsesDefaults() =>
        Assert.Equal(6379, ServerConfig.Load(CommandLine.Parse([])).Port);

    [Fact]
    public void ExampleFile_ParsesToTheDefaultsAndCoversEveryDirectiveThatHasAnEffect()
    {
        string example = FindExampleFile();
        var parsed = ServerConfig.Load(CommandLine.Parse([example]));
        var defaults = new ServerConfig();
        Assert.Equal(defaults.Get("*"), parsed.Get("*"));

        var mentioned = File.ReadLines(example)
            .Select(line => line.TrimStart().TrimStart('#').TrimStart())
            .Select(line => line.Split(' ')[0]);
        // The ones without effect are in the README's table instead.
        var accepted = ServerConfig.Directives.Where(d => d.NoEffect is null).Select(d => d.Name).Append("include");
        Assert.Empty(accepted.Except(mentioned));
    }

    /// <summary>The README's "accepted, no effect" table is the one the directive table renders, row for row.</summary>
    [Fact]
    public void ReadmeNoEffectTable_IsTheDirectiveTables()
    {
        string readme = File.ReadAllText(Path.Combine(Support.RepoPaths.Root, "README.md"));
        string table = ServerConfig.NoEffectTable();
        Assert.Contains(table, readme, StringComparison.Ordinal);
        // Every row names a reason, including those of engine directives marked in the other file.
        Assert.Contains("| `tcp-keepalive` | not implemented", table, StringComparison.Ordinal);
        Assert.Equal(ServerConfig.Directives.Count(d => d.NoEffect is not null), table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 2);
    }

    private static string FindExampleFile()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "redis.conf.example");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException("redis.conf.example not found above the test output directory");
    }
}
