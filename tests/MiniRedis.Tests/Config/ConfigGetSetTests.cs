using MiniRedis.Config;

namespace MiniRedis.Tests.Config;

/// <summary>Replies and error texts checked against redis-server 7.0.15.</summary>
[Trait("Category", "Differential")]
public sealed class ConfigGetSetTests
{
    private readonly ServerConfig _config = new();

    private string? Set(params (string, string)[] pairs) => _config.Set(pairs);

    private string Value(string name) => Assert.Single(_config.Get(name)).Value;

    private static string Failed(string name, string error) =>
        $"ERR CONFIG SET failed (possibly related to argument '{name}') - {error}";

    [Fact]
    public void Get_FormatsValuesLikeRedis()
    {
        var values = _config.Get("port", "bind", "protected-mode", "proto-max-bulk-len", "requirepass", "pidfile",
            "save", "loglevel", "appendfsync", "client-query-buffer-limit", "daemonize");
        Assert.Equal(
        [
            ("port", "6379"), ("bind", "* -::*"), ("protected-mode", "yes"), ("proto-max-bulk-len", "536870912"),
            ("requirepass", ""), ("pidfile", ""), ("save", "3600 1 300 100 60 10000"), ("loglevel", "notice"),
            ("appendfsync", "everysec"), ("client-query-buffer-limit", "1073741824"), ("daemonize", "no"),
        ], values);
    }

    [Fact]
    public void Get_PatternsAreCaseInsensitiveGlobs()
    {
        Assert.Equal(["lazyfree-lazy-user-flush", "lazyfree-lazy-user-del", "lazyfree-lazy-expire", "lazyfree-lazy-server-del", "lazyfree-lazy-eviction"],
            _config.Get("lazyfree*").Select(p => p.Name));
        Assert.Equal(["proto-max-bulk-len"], _config.Get("PrOtO*").Select(p => p.Name));
        Assert.Equal(["port"], _config.Get("[pq]ort").Select(p => p.Name));
        Assert.Equal(["pidfile", "port", "proc-title-template", "propagation-error-behavior", "protected-mode", "proto-max-bulk-len"],
            _config.Get("p*").Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(NamesWithAliases, _config.Get("*").Count);
    }

    /// <summary>CONFIG GET * lists an aliased directive under both names, as Redis does, and leaves hidden ones out.</summary>
    static int NamesWithAliases =>
        ServerConfig.Directives.Where(d => !d.Flags.HasFlag(ConfigFlags.Hidden)).Sum(d => d.Alias is null ? 1 : 2);

    [Fact]
    public void Get_ExactNameKeepsCallerSpellingAndEachDirectiveAppearsOnce()
    {
        Assert.Equal([("PORT", "6379")], _config.Get("PORT"));
        Assert.Equal([("port", "6379")], _config.Get("port", "PORT", "po*"));
        Assert.Equal(NamesWithAliases, _config.Get("*", "port", "*").Count);
    }

    [Fact]
    public void Get_UnknownAndFileOnlyNamesReturnNothing() => Assert.Empty(_config.Get("nonexist", "include", "x*"));

    [Fact]
    public void Get_AliasesAreListedUnderBothNames()
    {
        var config = new ServerConfig([.. ServerConfig.Directives.Select(d => d.Name == "hz" ? d.WithAlias("server-hz") : d)]);
        Assert.Null(config.Set([("server-hz", "20")]));
        Assert.Equal([("hz", "20"), ("server-hz", "20")], config.Get("*hz").Where(p => p.Name != "dynamic-hz"));
        Assert.Equal(20, config.Hz);
    }

    [Fact]
    public void Set_StoresTypedValues()
    {
        Assert.Null(Set(("timeout", "30"), ("loglevel", "WARNING"), ("appendonly", "YES"), ("proto-max-bulk-len", "2MB")));
        Assert.Equal(30, _config.Timeout);
        Assert.Equal(ServerLogLevel.Warning, _config.LogLevel);
        Assert.Equal("warning", Value("loglevel"));
        Assert.True(_config.AppendOnly);
        Assert.Equal("2097152", Value("proto-max-bulk-len"));

        Assert.Null(Set(("proto-max-bulk-len", "2m")));
        Assert.Equal(2_000_000, _config.ProtoMaxBulkLen);
    }

    [Fact]
    public void Set_SaveAndBindSplitOnSpacesAndEmptyClears()
    {
        Assert.Null(Set(("save", "100 5 200 6")));
        Assert.Equal([new SaveRule(100, 5), new SaveRule(200, 6)], _config.SaveRules);
        Assert.Null(Set(("save", "")));
        Assert.Empty(_config.SaveRules);
        Assert.Equal("", Value("save"));

        Assert.Null(Set(("bind", "127.0.0.1 ::1")));
        Assert.Equal(["127.0.0.1", "::1"], _config.Bind);
        Assert.Null(Set(("bind", "")));
        Assert.Empty(_config.Bind);
    }

    [Fact]
    public void Set_RequirepassEmptyMeansNoPassword()
    {
        Assert.Null(Set(("requirepass", "secret")));
        Assert.Equal("secret", _config.RequirePass);
        Assert.Null(Set(("requirepass", "")));
        Assert.Null(_config.RequirePass);
    }

    [Fact]
    public void Set_HzIsClamped()
    {
        Assert.Null(Set(("hz", "1000")));
        Assert.Equal("500", Value("hz"));
        Assert.Null(Set(("hz", "0")));
        Assert.Equal(1, _config.Hz);
    }

    [Theory]
    [InlineData("nonexist", "1", "ERR Unknown option or number of arguments for CONFIG SET - 'nonexist'")]
    [InlineData("daemonize", "yes", "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config")]
    [InlineData("Daemonize", "no", "ERR CONFIG SET failed (possibly related to argument 'Daemonize') - can't set immutable config")]
    [InlineData("appendfilename", "x", "ERR CONFIG SET failed (possibly related to argument 'appendfilename') - can't set immutable config")]
    [InlineData("logfile", "x", "ERR CONFIG SET failed (possibly related to argument 'logfile') - can't set immutable config")]
    [InlineData("pidfile", "x", "ERR CONFIG SET failed (possibly related to argument 'pidfile') - can't set immutable config")]
    [InlineData("dir", "/tmp", "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config")]
    [InlineData("dbfilename", "x.rdb", "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config")]
    [InlineData("HZ", "abc", "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer")]
    [InlineData("timeout", " 5", "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer")]
    [InlineData("timeout", "0x10", "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer")]
    [InlineData("timeout", "99999999999", "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive")]
    [InlineData("loglevel", "loud", "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning")]
    [InlineData("protected-mode", "maybe", "ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'")]
    [InlineData("proto-max-bulk-len", "12x", "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value")]
    [InlineData("proto-max-bulk-len", "kb", "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive")]
    [InlineData("save", "1", "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters")]
    [InlineData("save", "1 2  3 4", "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters")]
    [InlineData("save", " ", "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters")]
    [InlineData("maxclients", "-1", "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive")]
    [InlineData("active-expire-effort", "11", "ERR CONFIG SET failed (possibly related to argument 'active-expire-effort') - argument must be between 1 and 10 inclusive")]
    [InlineData("bind", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "ERR CONFIG SET failed (possibly related to argument 'bind') - Too many bind addresses specified.")]
    public void Set_ErrorsMatchRedis(string name, string value, string error) => Assert.Equal(error, Set((name, value)));

    [Theory]
    [InlineData("ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter", "hz", "5", "hz", "6")]
    [InlineData("ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter", "hz", "5", "HZ", "6")]
    [InlineData("ERR Unknown option or number of arguments for CONFIG SET - 'nonexist'", "port", "7100", "nonexist", "1")]
    [InlineData("ERR Unknown option or number of arguments for CONFIG SET - 'nonexist'", "nonexist", "1", "hz", "5", "hz", "6")]
    [InlineData("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config", "hz", "5", "daemonize", "yes", "nonexist", "1")]
    public void Set_FirstRejectionWins(string error, params string[] args)
    {
        var pairs = args.Chunk(2).Select(pair => (pair[0], pair[1])).ToList();
        Assert.Equal(error, _config.Set(pairs));
        Assert.Equal(10, _config.Hz);
    }

    [Fact]
    public void Set_IsAtomicWhenAValueIsBad()
    {
        var changed = new List<string>();
        _config.Changed += changed.Add;
        Assert.Equal(Failed("port", "argument couldn't be parsed into an integer"),
            Set(("hz", "5"), ("save", "1 1"), ("bind", "127.0.0.1"), ("port", "abc")));
        Assert.Equal(10, _config.Hz);
        Assert.Equal("3600 1 300 100 60 10000", Value("save"));
        Assert.Equal("* -::*", Value("bind"));
        Assert.Empty(changed);
    }

    [Fact]
    public void Set_RollsBackEverythingWhenAnApplierFails()
    {
        var applied = new List<string>();
        _config.RegisterApplier("hz", () => { applied.Add($"hz={_config.Hz}"); return null; });
        _config.RegisterApplier("port", () =>
        {
            applied.Add($"port={_config.Port}");
            return _config.Port == 7100 ? "Unable to listen on this port. Check server logs." : null;
        });
        var changed = new List<string>();
        _config.Changed += changed.Add;

        Assert.Equal(Failed("port", "Unable to listen on this port. Check server logs."),
            Set(("hz", "5"), ("port", "7100"), ("timeout", "3")));
        Assert.Equal((10, 6379, 0), (_config.Hz, _config.Port, _config.Timeout));
        Assert.Equal(["hz=5", "port=7100", "hz=10", "port=6379"], applied);
        Assert.Empty(changed);
    }

    [Fact]
    public void Set_NotifiesOnlyChangedDirectivesAfterSuccess()
    {
        var applied = new List<string>();
        _config.RegisterApplier("timeout", () => { applied.Add("timeout"); return null; });
        var changed = new List<string>();
        _config.Changed += changed.Add;

        Assert.Null(Set(("HZ", "20"), ("timeout", "0"), ("LOGLEVEL", "debug")));
        Assert.Equal(["hz", "loglevel"], changed);
        Assert.Empty(applied);
    }

    [Fact]
    public void Set_ProtectedDirectivesFollowEnableProtectedConfigs()
    {
        var local = ServerConfig.Parse("enable-protected-configs local");
        Assert.Equal(Failed("dbfilename", "can't set protected config"), local.Set([("dbfilename", "x.rdb")]));
        Assert.Null(local.Set([("dbfilename", "x.rdb")], fromLocalClient: true));
        Assert.Equal("x.rdb", local.DbFilename);

        var open = ServerConfig.Parse("enable-protected-configs yes");
        Assert.Equal(Failed("dbfilename", "dbfilename can't be a path, just a filename"), open.Set([("dbfilename", "a/b")]));
        Assert.Equal(Failed("dir", "No such file or directory"), open.Set([("dir", "/nonexistent-miniredis")]));
        Assert.Equal(Failed("dir", "Not a directory"), open.Set([("dir", "/etc/passwd")]));
        string target = Directory.CreateTempSubdirectory("miniredis-dir-").FullName;
        try
        {
            Assert.Null(open.Set([("dir", target)]));
            Assert.Null(open.Set([("dir", "..")]));
            Assert.Equal(Path.GetDirectoryName(target), open.Dir);
        }
        finally
        {
            Directory.Delete(target);
        }
    }

    [Fact]
    public void ClientOutputBufferLimit_SetsOnlyTheNamedClasses_AndFormatsLikeRedis()
    {
        Assert.Equal("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", Value("client-output-buffer-limit"));
        Assert.Null(Set(("client-output-buffer-limit", "normal 10mb 5mb 10")));
        Assert.Equal("normal 10485760 5242880 10 slave 268435456 67108864 60 pubsub 33554432 8388608 60", Value("client-output-buffer-limit"));
        Assert.Equal(new OutputBufferLimit(10 * 1024 * 1024, 5 * 1024 * 1024, 10), _config.NormalOutputBufferLimit);
        Assert.Null(Set(("client-output-buffer-limit", "REPLICA 1k 2kb 3")));
        Assert.Equal("normal 10485760 5242880 10 slave 1000 2048 3 pubsub 33554432 8388608 60", Value("client-output-buffer-limit"));
        Assert.Null(Set(("client-output-buffer-limit", "")));
        Assert.Equal("normal 10485760 5242880 10 slave 1000 2048 3 pubsub 33554432 8388608 60", Value("client-output-buffer-limit"));
    }

    [Theory]
    [InlineData("normal 10mb 5mb", "Wrong number of arguments in buffer limit configuration.")]
    [InlineData("foo 10mb 5mb 1", "Invalid client class specified in buffer limit configuration.")]
    [InlineData("normal 0 0 0 master 1 1 1", "Invalid client class specified in buffer limit configuration.")]
    [InlineData("normal x 0 0", "Error in hard, soft or soft_seconds setting in buffer limit configuration.")]
    [InlineData("normal -1 0 0", "Error in hard, soft or soft_seconds setting in buffer limit configuration.")]
    [InlineData("normal 1 0 -1", "Error in hard, soft or soft_seconds setting in buffer limit configuration.")]
    public void ClientOutputBufferLimit_RejectsLikeRedis_AndChangesNothing(string value, string error)
    {
        Assert.Equal(Failed("client-output-buffer-limit", error), Set(("client-output-buffer-limit", value)));
        Assert.Equal(new OutputBufferLimit(0, 0, 0), _config.NormalOutputBufferLimit);
    }
}
