using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Integration;

/// <summary>
/// A script running past busy-reply-threshold (100 ms here), on MiniRedis and on real Redis 7.0.15
/// side by side: what other clients get meanwhile (BUSY, the allow-busy commands), SCRIPT KILL of a
/// script that did not write, UNKILLABLE and SHUTDOWN NOSAVE for one that did, and the script's
/// own result when the server served others in the middle of it.
/// </summary>
[Trait("Category", "Differential")]
public sealed class BusyScriptTests
{
    const string Spin = "while true do end";

    static ServerProcess[] Servers() => [new RealRedisProcess("--busy-reply-threshold", "100"), new MiniRedisProcess("--busy-reply-threshold", "100")];

    static byte[] Command(params string[] args) => RespConnection.EncodeCommand(args.Select(Encoding.UTF8.GetBytes).ToArray());

    /// <summary>
    /// Sends <paramref name="commands"/> from a caller connection, then PING from another until the
    /// server answers BUSY (the script started and timed out); the transcript starts with that reply.
    /// </summary>
    static BusyRun StartBusy(ServerProcess server, byte[] commands, params string[] callerSetup) => StartBusy(server, commands, null, callerSetup);

    /// <summary>As above, with <paramref name="release"/> sent by the other connection first (what lets the caller's script start).</summary>
    static BusyRun StartBusy(ServerProcess server, byte[] commands, string[]? release, params string[] callerSetup)
    {
        var caller = server.Connect();
        var other = server.Connect();
        if (callerSetup.Length > 0)
        {
            caller.Call(callerSetup);
            other.Call(callerSetup);
        }
        caller.Send(commands);
        if (release is not null) other.Call(release);
        for (int attempt = 0; attempt < 200; attempt++)
        {
            var reply = Encoding.Latin1.GetString(other.Call("PING"));
            if (reply.StartsWith("-BUSY", StringComparison.Ordinal)) return new BusyRun(caller, other, [reply]);
            Thread.Sleep(20);
        }
        throw new TimeoutException("the script never made the server busy");
    }

    /// <summary>Runs <paramref name="scenario"/> on both servers and requires the same transcript.</summary>
    static void SameOnBoth(Func<ServerProcess, List<string>> scenario)
    {
        var transcripts = new List<List<string>>();
        foreach (var server in Servers())
        {
            using (server) transcripts.Add(scenario(server));
        }
        Assert.Equal(transcripts[0], transcripts[1]);
    }

    sealed record BusyRun(RespConnection Caller, RespConnection Other, List<string> Transcript) : IDisposable
    {
        public void Dispose()
        {
            Caller.Dispose();
            Other.Dispose();
        }
    }

    [Fact]
    public void Spinning_function_makes_others_busy_until_function_kill_ends_it()
    {
        SameOnBoth(server =>
        {
            using (var setup = server.Connect()) setup.Call("FUNCTION", "LOAD", "#!lua name=spinlib\nredis.register_function('spin', function() while true do end end)");
            using var run = StartBusy(server, Command("FCALL", "spin", "0"));
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("SCRIPT", "KILL")));
            // FUNCTION STATS is allow-busy: the running function's name and command (its duration varies).
            var stats = Encoding.Latin1.GetString(run.Other.Call("FUNCTION", "STATS"));
            run.Transcript.Add(stats[..stats.IndexOf("duration_ms", StringComparison.Ordinal)]);
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("FUNCTION", "KILL")));
            run.Transcript.Add(run.Caller.ReadReply().Text);
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("FUNCTION", "KILL")));
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("FUNCTION", "STATS")));
            Assert.StartsWith("-BUSY Redis is busy running a script. You can only call FUNCTION KILL", run.Transcript[0], StringComparison.Ordinal);
            return run.Transcript;
        });
    }

    [Fact]
    public void Spinning_script_makes_others_busy_until_script_kill_ends_it()
    {
        SameOnBoth(server =>
        {
            // The caller's pipelined PING waits for its script: the server does not serve the caller meanwhile.
            using var run = StartBusy(server, [.. Command("EVAL", Spin, "0"), .. Command("PING")]);
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("GET", "k")));
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("SCRIPT", "KILL")));
            run.Transcript.Add(run.Caller.ReadReply().Text);
            run.Transcript.Add(run.Caller.ReadReply().Text);
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("SCRIPT", "KILL")));
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("SET", "k", "v")));
            run.Transcript.Add(Encoding.Latin1.GetString(run.Caller.Call("GET", "k")));
            Assert.StartsWith("-BUSY Redis is busy running a script.", run.Transcript[0], StringComparison.Ordinal);
            return run.Transcript;
        });
    }

    /// <summary>
    /// The script follows a blocking command in the caller's pipeline, so it starts inside the round of
    /// the client that serves the wait. MiniRedis runs that round on the server's socket thread; the
    /// script must still leave it free, or no other client is read while it spins and SCRIPT KILL never arrives.
    /// </summary>
    [Fact]
    public void Spinning_script_started_by_another_clients_push_still_lets_others_in()
    {
        SameOnBoth(server =>
        {
            using var run = StartBusy(server, [.. Command("BLPOP", "q", "0"), .. Command("EVAL", Spin, "0")], ["LPUSH", "q", "x"]);
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("SCRIPT", "KILL")));
            run.Transcript.Add(run.Caller.ReadReply().Text);
            run.Transcript.Add(run.Caller.ReadReply().Text);
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("PING")));
            return run.Transcript;
        });
    }

    [Fact]
    public void Allow_busy_commands_run_while_the_script_is_busy_and_others_are_refused()
    {
        SameOnBoth(server =>
        {
            using var run = StartBusy(server, Command("EVAL", Spin, "0"));
            foreach (var command in new[] { "MULTI", "SET a 1", "EXEC", "MULTI", "DISCARD", "WATCH a", "UNWATCH", "AUTH x", "CONFIG GET hz", "INFO", "EVALSHA 0000 0", "SCRIPT FLUSH", "SHUTDOWN", "CLIENT LIST" })
                run.Transcript.Add(command + " -> " + Encoding.Latin1.GetString(run.Other.Call(command.Split(' '))));
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("SCRIPT", "KILL")));
            run.Transcript.Add(run.Caller.ReadReply().Text);
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("EXISTS", "a")));
            return run.Transcript;
        });
    }

    [Fact]
    public void Script_that_wrote_is_unkillable_and_shutdown_nosave_ends_the_server()
    {
        SameOnBoth(server =>
        {
            using var run = StartBusy(server, Command("EVAL", "redis.call('set', 'k', 'v') " + Spin, "0"));
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("SCRIPT", "KILL")));
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("SHUTDOWN")));
            run.Other.Send(Command("SHUTDOWN", "NOSAVE"));
            run.Transcript.Add("after SHUTDOWN NOSAVE: " + RespConnection.Escape(run.Other.ReadUntilClosed()));
            run.Transcript.Add("caller: " + RespConnection.Escape(run.Caller.ReadUntilClosed()));
            run.Transcript.Add("exit code: " + server.WaitForExit(TimeSpan.FromSeconds(30)));
            return run.Transcript;
        });
    }

    [Fact]
    public void Script_served_others_in_its_middle_and_finished_with_its_own_state()
    {
        // The script outlives the threshold by waiting on TIME, then goes on with what it read
        // before: its context, database and later writes must be its own after the busy serving.
        // It stays busy for 1 s so that the other client's PING lands inside that time even on a loaded machine.
        const string script = """
            redis.call('select', '3')
            local before = redis.call('get', KEYS[1])
            local t0 = redis.call('time')
            repeat local t = redis.call('time') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 1000000
            redis.call('set', KEYS[2], before .. '!')
            return {before, redis.call('get', KEYS[2]), KEYS[1], ARGV[1]}
            """;
        SameOnBoth(server =>
        {
            using var run = StartBusy(server, [.. Command("SET", "in", "value"), .. Command("EVAL", script, "2", "in", "out", "arg")], "SELECT", "3");
            Assert.Equal("+OK\r\n", run.Caller.ReadReply().Text);
            run.Transcript.Add(run.Caller.ReadReply().Text);
            run.Transcript.Add(Encoding.Latin1.GetString(run.Caller.Call("GET", "out")));
            run.Transcript.Add(Encoding.Latin1.GetString(run.Other.Call("GET", "out")));
            return run.Transcript;
        });
    }
}
