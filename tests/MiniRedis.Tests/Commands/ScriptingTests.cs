using System.Text.RegularExpressions;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// What EVAL hands to the AOF stream (the commands the script ran, wrapped in MULTI/EXEC when more
/// than one, never the EVAL itself: the records real Redis 7.0.15 wrote to its AOF for the same
/// scripts), the INFO fields of the script cache, and scripts that misbehave.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ScriptingTests : IDisposable
{
    readonly PropagationRecorder _recorder = new();

    InProcessClient _client => _recorder.Client;

    public void Dispose() => _recorder.Dispose();

    List<string> Logged(string command) => _recorder.Logged(command);

    [Fact]
    public void Script_with_two_writes_is_logged_as_its_commands_inside_multi_exec()
    {
        Assert.Equal(["0: MULTI", "0: set a 1", "0: set b 2", "-1: EXEC"], Logged("EVAL \"redis.call('set','a','1') redis.call('set','b','2')\" 0"));
    }

    [Fact]
    public void Script_with_one_write_is_logged_as_that_command_alone()
    {
        Assert.Equal(["0: set c 3"], Logged("EVAL \"return redis.call('set',KEYS[1],ARGV[1])\" 1 c 3"));
    }

    [Fact]
    public void Script_that_only_reads_logs_nothing()
    {
        _client.Run("SET c 3");
        Assert.Empty(Logged("EVAL \"return redis.call('get','c')\" 0"));
        Assert.Empty(Logged("EVAL_RO \"return redis.call('set','c','4')\" 0"));
        Assert.Equal("$1\r\n3\r\n", _client.Run("GET c"));
    }

    [Fact]
    public void Script_switching_databases_logs_each_write_in_its_database()
    {
        Assert.Equal(
            ["5: MULTI", "5: set d 4", "0: incr e", "-1: EXEC"],
            Logged("EVAL \"redis.call('select','5') redis.call('set','d','4') redis.call('select','0') redis.call('incr','e')\" 0"));
        Assert.Equal("$1\r\n1\r\n", _client.Run("GET e"));
    }

    [Fact]
    public void Writes_before_a_failing_command_stay_applied_and_logged()
    {
        var reply = _client.Run("SET f x");
        Assert.Equal("+OK\r\n", reply);
        var records = Logged("EVAL \"redis.call('set','f','5') redis.call('incr','f') redis.call('lpush','f','x')\" 0");
        Assert.Equal(["0: MULTI", "0: set f 5", "0: incr f", "-1: EXEC"], records);
        Assert.Equal("$1\r\n6\r\n", _client.Run("GET f"));
    }

    [Fact]
    public void A_command_logging_its_own_effect_keeps_it_inside_a_script()
    {
        var records = Logged("EVAL \"redis.call('set','g','6','EX',100)\" 0");
        Assert.Single(records);
        Assert.Matches(new Regex("^0: SET g 6 PXAT [0-9]{13}$"), records[0]);
    }

    [Fact]
    public void Scripts_queued_in_multi_log_once_inside_the_transaction()
    {
        var records = _recorder.Logged(() =>
        {
            _client.Run("MULTI");
            _client.Run("EVAL \"redis.call('set','h','1')\" 0");
            _client.Run("EVAL \"redis.call('incr','h') redis.call('incr','h')\" 0");
            Assert.Equal("*2\r\n$-1\r\n$-1\r\n", _client.Run("EXEC"));
        });
        Assert.Equal(["0: MULTI", "0: set h 1", "0: incr h", "0: incr h", "-1: EXEC"], records);
    }

    [Fact]
    public void Info_counts_cached_scripts_and_flush_gives_their_memory_back()
    {
        _client.Run("EVAL \"return 1\" 0");
        long cacheBefore = InfoField("used_memory_scripts_eval");
        long luaBefore = InfoField("used_memory_lua");
        Assert.Equal(1, InfoField("number_of_cached_scripts"));
        Assert.True(luaBefore > 0);

        for (int i = 0; i < 10_000; i++) Assert.Equal(47, _client.Run($"SCRIPT LOAD \"return 'v{i}'\"").Length); // $40 and the SHA
        Assert.Equal(10_001, InfoField("number_of_cached_scripts"));
        long cacheLoaded = InfoField("used_memory_scripts_eval");
        long luaLoaded = InfoField("used_memory_lua");
        Assert.True(cacheLoaded > cacheBefore + 10_000 * 40, $"script cache {cacheBefore} -> {cacheLoaded}");
        Assert.True(luaLoaded > luaBefore + 1_000_000, $"Lua memory {luaBefore} -> {luaLoaded}");

        Assert.Equal("+OK\r\n", _client.Run("SCRIPT FLUSH"));
        Assert.Equal(0, InfoField("number_of_cached_scripts"));
        Assert.Equal(0, InfoField("used_memory_scripts_eval"));
        Assert.True(InfoField("used_memory_lua") <= luaBefore, $"Lua memory after flush {InfoField("used_memory_lua")}, before {luaBefore}");
        Assert.Equal("*1\r\n:0\r\n", _client.Run("SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db"));
        Assert.Equal(":7\r\n", _client.Run("EVAL \"return 7\" 0"));
    }

    [Theory]
    [InlineData("local function f() return f() + 1 end return f()")]
    [InlineData("local function f(n) return 1 + f(n + 1) end return f(1)")]
    [InlineData("return string.rep('x', -1, 'y') .. nil")]
    [InlineData("return coroutine.wrap(function() error({err='inside a coroutine'}) end)()")]
    [InlineData("return redis.call(string.rep('x', 100000))")]
    public void Runaway_scripts_fail_with_an_error_and_the_server_keeps_serving(string script)
    {
        var reply = _client.Run($"EVAL \"{script}\" 0");
        Assert.StartsWith("-", reply, StringComparison.Ordinal);
        Assert.Equal("+PONG\r\n", _client.Run("PING"));
        Assert.Equal(":3\r\n", _client.Run("EVAL \"return 3\" 0"));
    }

    [Fact]
    public void Huge_results_come_back_whole()
    {
        var reply = _client.Run("EVAL \"local t = {} for i = 1, 100000 do t[i] = i end return t\" 0");
        Assert.StartsWith("*100000\r\n:1\r\n:2\r\n", reply, StringComparison.Ordinal);
        Assert.EndsWith(":100000\r\n", reply, StringComparison.Ordinal);
    }

    long InfoField(string name)
    {
        var info = _client.Run("INFO memory");
        var match = Regex.Match(info, $"\r\n{name}:([0-9]+)\r\n");
        Assert.True(match.Success, $"INFO has no {name}");
        return long.Parse(match.Groups[1].Value);
    }
}
