using System.Text;
using System.Text.RegularExpressions;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Integration;

/// <summary>
/// What scripts cost and what SCRIPT FLUSH gives back, on a MiniRedis process: the Lua state's
/// memory (INFO used_memory_lua / used_memory_vm_eval), the cache's accounting, and the process's
/// resident size over repeated rounds; and scripts that build huge values or return too deeply
/// nested ones, which must work or fail with a clear error and leave the server serving.
/// </summary>
[Trait("Category", "Process")]
public sealed class ScriptMemoryTests : IDisposable
{
    const int Scripts = 10_000;
    readonly MiniRedisProcess _server = new();
    readonly RespConnection _connection;

    public ScriptMemoryTests() => _connection = _server.Connect();

    public void Dispose()
    {
        _connection.Dispose();
        _server.Dispose();
    }

    long Info(string field)
    {
        var info = Encoding.ASCII.GetString(_connection.Call("INFO"));
        return long.Parse(Regex.Match(info, $"\r\n{field}:(\\d+)\r\n").Groups[1].Value);
    }

    /// <summary>Loads <see cref="Scripts"/> distinct scripts of about 2 KB each (pipelined), checking every reply is a SHA.</summary>
    void LoadScripts(int round)
    {
        var padding = new string('x', 2000);
        var commands = new MemoryStream();
        for (int i = 0; i < Scripts; i++)
            commands.Write(RespConnection.EncodeCommand([.. new[] { "SCRIPT", "LOAD", $"return '{round}:{i}:{padding}' .. redis.call('get', KEYS[1])" }.Select(Encoding.UTF8.GetBytes)]));
        _connection.Send(commands.ToArray());
        for (int i = 0; i < Scripts; i++) Assert.Equal((byte)'$', _connection.ReadReply().Type);
    }

    [Fact]
    public void Flushing_ten_thousand_scripts_gives_their_memory_back()
    {
        // A fresh Lua state (the engine starts it on first use, and a flush replaces it by a fresh one).
        _connection.Call("EVAL", "return 1", "0");
        _connection.Call("SCRIPT", "FLUSH");
        long freshLua = Info("used_memory_lua");
        long firstRoundResident = 0;
        for (int round = 0; round < 5; round++)
        {
            LoadScripts(round);
            Assert.Equal(Scripts, Info("number_of_cached_scripts"));
            // 10,000 compiled functions with their 2 KB constants are well over 20 MB of Lua memory.
            Assert.True(Info("used_memory_vm_eval") > freshLua + 20_000_000, $"used_memory_vm_eval {Info("used_memory_vm_eval")}");
            Assert.True(Info("used_memory_scripts_eval") > (long)Scripts * 2000);

            Assert.Equal("+OK\r\n", Encoding.ASCII.GetString(_connection.Call("SCRIPT", "FLUSH")));
            Assert.Equal(0, Info("number_of_cached_scripts"));
            Assert.Equal(0, Info("used_memory_scripts_eval"));
            Assert.Equal(freshLua, Info("used_memory_lua"));
            Assert.Equal(freshLua, Info("used_memory_vm_eval"));
            if (round == 0) firstRoundResident = _server.ResidentBytes();
        }
        // Each round allocates over 20 MB in Lua: had a flush kept any of it, four more rounds would show.
        long growth = _server.ResidentBytes() - firstRoundResident;
        Assert.True(growth < 40_000_000, $"resident size grew by {growth} bytes over four load/flush rounds");
    }

    [Fact]
    public void Too_deeply_nested_and_huge_results_are_clear_and_the_server_keeps_serving()
    {
        // A reply nested deeper than the stack allows ends in Redis's error where the nesting stops.
        var nested = _connection.Call("EVAL", "local t = {} local c = t for i = 1, 100000 do c[1] = {} c = c[1] end return t", "0");
        Assert.EndsWith("*1\r\n-ERR reached lua stack limit\r\n", Encoding.Latin1.GetString(nested), StringComparison.Ordinal);

        var huge = Encoding.Latin1.GetString(_connection.Call("EVAL", "local s = string.rep('x', 64 * 1024 * 1024) return {#s, s:sub(-3)}", "0"));
        Assert.Equal("*2\r\n:67108864\r\n$3\r\nxxx\r\n", huge);

        Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(_connection.Call("PING")));
    }
}
