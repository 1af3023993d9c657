using System.Text;
using System.Text.RegularExpressions;
using MiniRedis.Commands;
using MiniRedis.Config;
using MiniRedis.Networking;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// COMMAND, INFO, CLIENT, DEBUG, CONFIG, TIME and SHUTDOWN. Expected replies were taken from a
/// real Redis 7.0.15 given the same commands.
/// </summary>
[Trait("Category", "Process")]
public sealed class ServerCommandsTests : IDisposable
{
    const string Ok = "+OK\r\n";

    readonly RedisServer _server = InProcessClient.StartServer(ServerConfig.Load(MiniRedis.Config.CommandLine.Parse(["--port", "0", "--save", "", "--enable-debug-command", "yes"])));
    readonly InProcessClient _client;

    public ServerCommandsTests() => _client = new InProcessClient(_server);

    public void Dispose() => _server.Stop();

    string Run(string line) => _client.Run(line);

    static string Error(string message) => $"-{message}\r\n";

    static string Bulk(string value) => $"${Encoding.UTF8.GetByteCount(value)}\r\n{value}\r\n";

    static string Array(params string[] bulks) => $"*{bulks.Length}\r\n" + string.Concat(bulks.Select(Bulk));

    [Fact]
    public void Command_HelpCountAndUnknownSubcommand()
    {
        var help = Run("COMMAND HELP");
        Assert.StartsWith("*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+(no subcommand)\r\n", help);
        Assert.EndsWith("+HELP\r\n+    Prints this help.\r\n", help);
        Assert.Equal($":{_server.Commands.Count}\r\n", Run("COMMAND COUNT"));
        Assert.Equal(Error("ERR wrong number of arguments for 'command|count' command"), Run("COMMAND COUNT x"));
        Assert.Equal(Error("ERR unknown subcommand 'foo'. Try COMMAND HELP."), Run("COMMAND foo"));
        Assert.StartsWith($"*{_server.Commands.Count}\r\n*10\r\n", Run("COMMAND"));
    }

    [Fact]
    public void CommandInfo_RedisEntriesAndNullForUnknown()
    {
        const string get = "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n"
            + "*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n"
            + "$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
        Assert.Equal("*3\r\n" + get + "$-1\r\n$-1\r\n", Run("COMMAND INFO get nosuch get|x"));
        Assert.StartsWith("*1\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n", Run("COMMAND INFO config|get"));
        Run("HELLO 3");
        Assert.Equal("*1\r\n_\r\n", Run("COMMAND INFO nosuch"));
    }

    [Fact]
    public void CommandDocs_MapOfKnownNames()
    {
        Assert.Equal("*0\r\n", Run("COMMAND DOCS nosuch"));
        Assert.StartsWith("*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n", Run("COMMAND DOCS get nosuch"));
        Assert.StartsWith("*2\r\n$10\r\nconfig|get\r\n", Run("COMMAND DOCS config|get"));
        Run("HELLO 3");
        Assert.Equal("%0\r\n", Run("COMMAND DOCS nosuch"));
    }

    [Fact]
    public void CommandList_FiltersAndErrors()
    {
        var syntax = Error("ERR syntax error");
        Assert.Equal(syntax, Run("COMMAND LIST FILTERBY"));
        Assert.Equal(syntax, Run("COMMAND LIST FILTERBY PATTERN"));
        Assert.Equal(syntax, Run("COMMAND LIST FILTERBY foo x"));
        Assert.Equal(syntax, Run("COMMAND LIST x"));
        Assert.Equal("*0\r\n", Run("COMMAND LIST FILTERBY ACLCAT nosuch"));
        Assert.Equal("*0\r\n", Run("COMMAND LIST FILTERBY MODULE x"));
        var config = ParseArray(Run("COMMAND LIST FILTERBY PATTERN CONFIG*"));
        Assert.Equal(["config", "config|get", "config|help", "config|resetstat", "config|rewrite", "config|set"], config.Order(StringComparer.Ordinal));
        var connection = ParseArray(Run("COMMAND LIST FILTERBY ACLCAT CONNECTION"));
        Assert.Contains("client|list", connection);
        Assert.Contains("command", connection);
        Assert.DoesNotContain("client", connection);
        var all = ParseArray(Run("COMMAND LIST"));
        Assert.Contains("get", all);
        Assert.Contains("command|getkeys", all);
    }

    static string[] ParseArray(string reply)
    {
        var lines = reply.Split("\r\n");
        return [.. lines.Skip(1).Where((_, i) => i % 2 == 1)];
    }

    [Fact]
    public void CommandGetKeys_KeySpecsAndErrors()
    {
        Assert.Equal(Error("ERR wrong number of arguments for 'command|getkeys' command"), Run("COMMAND GETKEYS get"));
        Assert.Equal(Error("ERR Invalid command specified"), Run("COMMAND GETKEYS nosuch a"));
        Assert.Equal(Error("ERR Invalid command specified"), Run("COMMAND GETKEYS set|x k"));
        Assert.Equal(Error("ERR The command has no key arguments"), Run("COMMAND GETKEYS ping a b"));
        Assert.Equal(Error("ERR The command has no key arguments"), Run("COMMAND GETKEYS config get x"));
        Assert.Equal(Error("ERR Invalid number of arguments specified for command"), Run("COMMAND GETKEYS get a b"));
        Assert.Equal(Error("ERR Invalid number of arguments specified for command"), Run("COMMAND GETKEYS set k"));
        Assert.Equal(Array("k"), Run("COMMAND GETKEYS GET k"));
        Assert.Equal(Array("k"), Run("COMMAND GETKEYS set k v"));
        Assert.Equal(Array("a", "b"), Run("COMMAND GETKEYS mset a 1 b"));
        Assert.Equal(Array("a", "b"), Run("COMMAND GETKEYS mset a 1 b 2"));
        Assert.Equal("*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n", Run("COMMAND GETKEYSANDFLAGS set k v"));
        Assert.Equal("*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n", Run("COMMAND GETKEYSANDFLAGS set k v get"));
        Run("HELLO 3");
        Assert.Equal("*1\r\n*2\r\n$1\r\nk\r\n~2\r\n+OW\r\n+update\r\n", Run("COMMAND GETKEYSANDFLAGS set k v"));
    }

    [Fact]
    public void Info_DefaultSectionsInRedisOrder()
    {
        var info = ParseBulk(Run("INFO"));
        var headers = info.Split("\r\n").Where(l => l.StartsWith('#')).ToArray();
        Assert.Equal(["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Modules", "# Errorstats", "# Cluster", "# Keyspace"], headers);
        Assert.Contains("\r\n\r\n# Clients\r\n", info);
        Assert.Contains("redis_version:7.0.15\r\n", info);
        Assert.Contains("mem_allocator:dotnet-gc\r\n", info);
        Assert.Contains($"process_id:{Environment.ProcessId}\r\n", info);
        Assert.Contains("loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:0\r\n", info);
        Assert.Equal(info.Split("\r\n").Where(l => l.StartsWith('#')).ToArray(), ParseBulk(Run("INFO default")).Split("\r\n").Where(l => l.StartsWith('#')).ToArray());
    }

    static string ParseBulk(string reply)
    {
        int header = reply.IndexOf("\r\n", StringComparison.Ordinal);
        return reply[(header + 2)..^2];
    }

    [Fact]
    public void Info_SelectedSectionsKeyspaceAndUnknown()
    {
        Assert.Equal("$0\r\n\r\n", Run("INFO foo"));
        Assert.Equal(Bulk("# Keyspace\r\n"), Run("INFO keyspace"));
        Run("SET k v");
        Run("SET e v EX 100");
        var both = ParseBulk(Run("INFO KEYSPACE server"));
        Assert.StartsWith("# Server\r\n", both);
        // avg_ttl is 0 until the expire cycle samples the volatile key; the cron may have done so already.
        Assert.Matches(@"\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=\d+\r\n$", both);
        Run("HELLO 3");
        Assert.StartsWith("=", Run("INFO keyspace"));
        Assert.Contains("txt:# Keyspace\r\n", Run("INFO keyspace"));
    }

    [Fact]
    public void Info_CommandAndErrorStats()
    {
        Run("SET k v");
        Run("GET k");
        Run("GET");
        Run("CONFIG GET hz");
        Run("CLIENT foo");
        var stats = ParseBulk(Run("INFO commandstats"));
        Assert.Matches(@"cmdstat_set:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0\r\n", stats);
        Assert.Matches(@"cmdstat_get:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0\r\n", stats);
        Assert.Matches(@"cmdstat_config\|get:calls=1,", stats);
        Assert.DoesNotContain("cmdstat_client", stats);
        Assert.Equal(Bulk("# Errorstats\r\nerrorstat_ERR:count=2\r\n"), Run("INFO errorstats"));
        var all = ParseBulk(Run("INFO all"));
        Assert.Contains("# Commandstats\r\n", all);
        Assert.Contains("# Keyspace\r\n", all);
        Assert.Equal(Ok, Run("CONFIG RESETSTAT"));
        // RESETSTAT itself is counted once it returns, as in Redis.
        Assert.Matches(@"^\$\d+\r\n# Commandstats\r\ncmdstat_config\|resetstat:calls=1,[^\r]+\r\n\r\n$", Run("INFO commandstats"));
        Assert.Equal(Bulk("# Errorstats\r\n"), Run("INFO errorstats"));
    }

    [Theory]
    [InlineData(0, "0B")]
    [InlineData(1023, "1023B")]
    [InlineData(1024, "1.00K")]
    [InlineData(1213128, "1.16M")]
    [InlineData(7319552, "6.98M")]
    [InlineData(25276502016, "23.54G")]
    public void BytesToHuman_FormatsLikeRedis(long bytes, string expected) => Assert.Equal(expected, InfoCommand.BytesToHuman(bytes));

    [Fact]
    public void Client_NameIdAndErrors()
    {
        Assert.Equal($":{_client.Session.Id}\r\n", Run("CLIENT ID"));
        Assert.Equal(Error("ERR wrong number of arguments for 'client|id' command"), Run("CLIENT ID x"));
        Assert.Equal("$-1\r\n", Run("CLIENT GETNAME"));
        Assert.Equal(Ok, Run("CLIENT SETNAME foo"));
        Assert.Equal(Bulk("foo"), Run("CLIENT GETNAME"));
        Assert.Equal(Error(ClientCommands.InvalidNameError), Run("CLIENT SETNAME \"a b\""));
        Assert.Equal(Ok, Run("CLIENT SETNAME \"\""));
        Assert.Equal("$-1\r\n", Run("CLIENT GETNAME"));
        Assert.Equal(Error("ERR syntax error"), Run("CLIENT NO-EVICT maybe"));
        Assert.Equal(Ok, Run("CLIENT NO-EVICT ON"));
        Assert.Equal(Error("ERR Unknown client type 'foo'"), Run("CLIENT LIST TYPE foo"));
        Assert.Equal(Error("ERR Invalid client ID"), Run("CLIENT LIST ID abc"));
        Assert.Equal("$0\r\n\r\n", Run("CLIENT LIST ID 999"));
        Assert.Equal(Error("ERR syntax error"), Run("CLIENT LIST foo"));
        Assert.Equal(Error("ERR No such client"), Run("CLIENT KILL 1.2.3.4:5"));
        Assert.Equal(":0\r\n", Run("CLIENT KILL ID 99999"));
        Assert.Equal(Error("ERR client-id should be greater than 0"), Run("CLIENT KILL ID abc"));
        Assert.Equal(Error("ERR syntax error"), Run("CLIENT KILL foo bar"));
        Assert.Equal(Error("ERR syntax error"), Run("CLIENT KILL SKIPME x"));
        Assert.Equal(Error("ERR Unknown client type 'foo'"), Run("CLIENT KILL TYPE foo"));
        Assert.Equal(Error("ERR No such user 'x'"), Run("CLIENT KILL USER x"));
        Assert.Equal(Error("ERR unknown subcommand 'foo'. Try CLIENT HELP."), Run("CLIENT foo ON"));
        Assert.StartsWith("*48\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n", Run("CLIENT HELP"));
    }

    [Fact]
    public void ClientInfo_RedisFieldsWithTrueValues()
    {
        Run("CLIENT SETNAME me");
        Run("SELECT 2");
        Assert.Matches(@$"^\$\d+\r\nid={_client.Session.Id} addr= laddr= fd=-1 name=me age=\d+ idle=0 flags=N db=2 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=10 multi-mem=0 rbs=\d+ rbp=\d+ obl=0 oll=0 omem=0 tot-mem=\d+ events=r cmd=client\|info user=default redir=-1 resp=2\n\r\n$", Run("CLIENT INFO"));
        Run("CLIENT NO-EVICT on");
        Assert.Contains(" flags=e ", Run("CLIENT INFO"));
    }

    [Fact]
    public async Task ClientListAndKill_OverConnections()
    {
        await using var listener = new Listener(_server.Host);
        listener.Start();
        int port = listener.Endpoints[0].Port;
        using var first = RespConnection.Open(port);
        using var second = RespConnection.Open(port);
        long secondId = long.Parse(Encoding.ASCII.GetString(second.Call("CLIENT", "ID"))[1..^2]);
        first.Call("CLIENT", "SETNAME", "one");

        var list = Encoding.ASCII.GetString(first.Call("CLIENT", "LIST"));
        var lines = list[(list.IndexOf('\n') + 1)..^2].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        // Both connections register concurrently, so either may be listed first.
        var firstLine = Assert.Single(lines, l => l.Contains(" name=one ", StringComparison.Ordinal));
        Assert.Matches(@"^id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name=one age=\d+ idle=\d+ flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=10 multi-mem=0 rbs=\d+ rbp=\d+ obl=0 oll=0 omem=0 tot-mem=\d+ events=r cmd=client\|list user=default redir=-1 resp=2$", firstLine);
        Assert.Single(lines, l => l.StartsWith($"id={secondId} ", StringComparison.Ordinal));
        // argv-mem counts the caller's own running command, which differs between the two forms.
        static string WithoutArgv(string text) => Regex.Replace(text, @"(?<=argv-mem=)\d+|^\$\d+", "#");
        Assert.Equal(WithoutArgv(list), WithoutArgv(Encoding.ASCII.GetString(first.Call("CLIENT", "LIST", "TYPE", "normal"))));
        Assert.Equal("$0\r\n\r\n", Encoding.ASCII.GetString(first.Call("CLIENT", "LIST", "TYPE", "pubsub")));

        Assert.Equal(":0\r\n", Encoding.ASCII.GetString(first.Call("CLIENT", "KILL", "TYPE", "normal", "USER", "default", "ID", "999999")));
        Assert.Equal(":1\r\n", Encoding.ASCII.GetString(first.Call("CLIENT", "KILL", "ID", secondId.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Empty(second.ReadUntilClosed());

        var info = Encoding.ASCII.GetString(first.Call("CLIENT", "INFO"));
        var addr = Regex.Match(info, @"addr=(\S+)").Groups[1].Value;
        Assert.Equal(Ok, Encoding.ASCII.GetString(first.Call("CLIENT", "KILL", addr)));
        Assert.Empty(first.ReadUntilClosed());
    }

    [Fact]
    public void Debug_ObjectSleepAndErrors()
    {
        Run("SET small 123");
        Run("SET big 12345678");
        Run("SET text hello");
        Run("SET long 99999999999");
        Assert.Matches(@"^\+Value at:0x[0-9a-f]+ refcount:2147483647 encoding:int serializedlength:2 lru:\d+ lru_seconds_idle:\d+\r\n$", Run("DEBUG OBJECT small"));
        Assert.Matches(@"^\+Value at:0x[0-9a-f]+ refcount:1 encoding:int serializedlength:5 lru:\d+ lru_seconds_idle:0\r\n$", Run("DEBUG OBJECT big"));
        Assert.Matches(@"^\+Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:6 ", Run("DEBUG OBJECT text"));
        Assert.Matches(@"^\+Value at:0x[0-9a-f]+ refcount:1 encoding:int serializedlength:12 ", Run("DEBUG OBJECT long"));
        Assert.Equal(Error("ERR no such key"), Run("DEBUG OBJECT nosuch"));
        Assert.Equal(Ok, Run("DEBUG SLEEP 0"));
        Assert.Equal(Ok, Run("DEBUG SLEEP abc"));
        Assert.Equal(Error("ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP."), Run("DEBUG sleep"));
        Assert.Equal(Error("ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP."), Run("DEBUG foo"));
        Assert.Equal(Error("ERR wrong number of arguments for 'debug' command"), Run("DEBUG"));
    }

    [Fact]
    public void DebugSleep_BlocksTheExecutor()
    {
        var started = DateTime.UtcNow;
        Assert.Equal(Ok, Run("DEBUG SLEEP 0.2"));
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(190));
    }

    [Fact]
    public void Time_SecondsAndMicroseconds()
    {
        var parts = Run("TIME").Split("\r\n");
        Assert.Equal("*2", parts[0]);
        long seconds = long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
        long micros = long.Parse(parts[4], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 2, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.InRange(micros, 0, 999_999);
        Assert.Equal(Error("ERR wrong number of arguments for 'time' command"), Run("TIME x"));
    }

    [Fact]
    public void Shutdown_OptionsAndNoReplyOnSuccess()
    {
        int requests = 0;
        _server.ShutdownRequested += () => requests++;
        Assert.Equal(Error("ERR No shutdown in progress."), Run("SHUTDOWN ABORT"));
        Assert.Equal(Error("ERR syntax error"), Run("SHUTDOWN NOSAVE ABORT"));
        Assert.Equal(Error("ERR syntax error"), Run("SHUTDOWN SAVE NOSAVE"));
        Assert.Equal(Error("ERR syntax error"), Run("SHUTDOWN foo"));
        Assert.Equal(0, requests);
        Assert.Equal("", Run("SHUTDOWN NOSAVE"));
        Assert.Equal(1, requests);
        Assert.True(_client.Session.CloseAfterReply);
    }

    [Fact]
    public void Config_GetSetHelp()
    {
        Assert.Equal(Array("maxclients", "10000"), Run("CONFIG GET maxclients nosuch"));
        Assert.Equal(Ok, Run("CONFIG SET hz 20"));
        Assert.Equal(Array("hz", "20"), Run("CONFIG GET hz"));
        Assert.Equal(Error("ERR syntax error"), Run("CONFIG SET maxclients 10 hz"));
        Assert.Equal(Error("ERR wrong number of arguments for 'config|set' command"), Run("CONFIG SET maxclients"));
        Assert.Equal(Error("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"), Run("CONFIG SET nosuch 1"));
        Assert.StartsWith("*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET <pattern>\r\n", Run("CONFIG HELP"));
        Run("HELLO 3");
        Assert.Equal("%1\r\n$2\r\nhz\r\n$2\r\n20\r\n", Run("CONFIG GET hz"));
    }
}
