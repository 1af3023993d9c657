using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// Blocking XREAD / XREADGROUP with several clients, each scenario run on real Redis 7.0.15 and on
/// MiniRedis: the replies (of the blocked clients and of the others) and the number of clients left
/// blocked must be the same on both, and the scenario's own checks hold on both.
/// </summary>
[Trait("Category", "Differential")]
public sealed class StreamBlockingTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    /// <summary>What a scenario saw, in order.</summary>
    sealed class Transcript(ServerProcess server)
    {
        public readonly List<string> Lines = [];
        readonly RespConnection _control = server.Connect();

        public string Call(params string[] command)
        {
            var reply = RespConnection.Escape(_control.Call(command));
            Lines.Add($"{string.Join(' ', command)} -> {reply}");
            return reply;
        }

        /// <summary>Sends a blocking command on a new connection and waits until the server counts <paramref name="blockedAfter"/> blocked clients.</summary>
        public RespConnection Block(int blockedAfter, params string[] command)
        {
            var connection = server.Connect();
            connection.Send(RespConnection.EncodeCommand(command.Select(Encoding.UTF8.GetBytes).ToArray()));
            WaitForBlocked(blockedAfter);
            return connection;
        }

        public string Reply(RespConnection blocked)
        {
            var reply = blocked.ReadReply().ToString();
            Lines.Add($"blocked client <- {reply}");
            return reply;
        }

        public int BlockedClients() => Wait.BlockedClients(_control);

        public void WaitForBlocked(int count)
        {
            Wait.ForBlockedClients(_control, count);
            Lines.Add($"blocked: {count}");
        }
    }

    void OnBoth(Action<Transcript> scenario)
    {
        var transcripts = new List<List<string>>();
        foreach (var server in new ServerProcess[] { servers.Redis, servers.Mini })
        {
            using (var connection = server.Connect()) connection.Call("FLUSHALL");
            var transcript = new Transcript(server);
            try
            {
                scenario(transcript);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidOperationException($"Scenario failed on {server.GetType().Name}: {e.Message}\n{string.Join("\n", transcript.Lines)}", e);
            }
            transcripts.Add(transcript.Lines);
        }
        Assert.Equal(string.Join("\n", transcripts[0]), string.Join("\n", transcripts[1]));
    }

    [Fact]
    public void Xread_with_dollar_is_served_only_entries_added_after_it_blocked()
    {
        OnBoth(t =>
        {
            t.Call("XADD", "s", "1-0", "old", "1");
            using var blocked = t.Block(1, "XREAD", "BLOCK", "0", "STREAMS", "other", "s", "$", "$");
            t.Call("XADD", "s", "2-0", "new", "2");
            Assert.Contains("new", t.Reply(blocked));
            t.WaitForBlocked(0);
        });
    }

    [Fact]
    public void Xread_is_served_from_the_stream_that_got_an_entry_with_its_count()
    {
        OnBoth(t =>
        {
            using var blocked = t.Block(1, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "a", "b", "0", "0");
            t.Call("MULTI");
            t.Call("XADD", "b", "1-0", "f", "1");
            t.Call("XADD", "b", "2-0", "f", "2");
            t.Call("EXEC");
            Assert.DoesNotContain("2-0", t.Reply(blocked));
        });
    }

    [Fact]
    public void Xread_times_out_with_a_null_array_and_a_wrong_type_key_keeps_it_waiting()
    {
        OnBoth(t =>
        {
            using var blocked = t.Block(1, "XREAD", "BLOCK", "200", "STREAMS", "s", "$");
            t.Call("SET", "s", "string");
            Assert.Contains("*-1", t.Reply(blocked));
            t.WaitForBlocked(0);
        });
    }

    [Fact]
    public void Xreadgroup_is_served_new_entries_and_they_become_pending()
    {
        OnBoth(t =>
        {
            t.Call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
            using var first = t.Block(1, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">");
            using var second = t.Block(2, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">");
            t.Call("XADD", "s", "1-0", "f", "1");
            Assert.Contains("1-0", t.Reply(first));
            t.Call("XADD", "s", "2-0", "f", "2");
            Assert.Contains("2-0", t.Reply(second));
            t.Call("XPENDING", "s", "g");
            t.Call("XINFO", "GROUPS", "s");
        });
    }

    [Fact]
    public void Xreadgroup_gets_nogroup_when_its_group_is_destroyed()
    {
        OnBoth(t =>
        {
            t.Call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
            using var blocked = t.Block(1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
            t.Call("XGROUP", "DESTROY", "s", "g");
            Assert.Contains("-NOGROUP the consumer group this client was blocked on no longer exists", t.Reply(blocked));
            t.WaitForBlocked(0);
        });
    }

    [Theory]
    [InlineData("DEL s")]
    [InlineData("SET s x")]
    [InlineData("RENAME s t")]
    [InlineData("MOVE s 1")]
    [InlineData("FLUSHALL")]
    [InlineData("SWAPDB 0 1")]
    [InlineData("PEXPIRE s 20")]
    public void Xreadgroup_is_unblocked_when_its_stream_goes_and_xread_keeps_waiting(string removal)
    {
        OnBoth(t =>
        {
            t.Call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
            using var reader = t.Block(1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
            using var plain = t.Block(2, "XREAD", "BLOCK", "0", "STREAMS", "s", "$");
            t.Call(removal.Split(' '));
            Assert.Contains("-UNBLOCKED the stream key no longer exists", t.Reply(reader));
            t.WaitForBlocked(1);
            t.Call("DEL", "s");
            t.Call("XADD", "s", "7-0", "f", "v");
            Assert.Contains("7-0", t.Reply(plain));
        });
    }

    [Fact]
    public void Xreadgroup_gets_nogroup_when_the_stream_is_recreated_without_its_group()
    {
        OnBoth(t =>
        {
            t.Call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
            using var blocked = t.Block(1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
            t.Call("MULTI");
            t.Call("DEL", "s");
            t.Call("XADD", "s", "1-0", "f", "v");
            t.Call("EXEC");
            Assert.Contains("-NOGROUP the consumer group this client was blocked on no longer exists", t.Reply(blocked));
        });
    }

    [Fact]
    public void Blocking_reads_inside_multi_answer_at_once()
    {
        OnBoth(t =>
        {
            t.Call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
            t.Call("MULTI");
            t.Call("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
            t.Call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
            Assert.Contains("*2\\r\\n*-1\\r\\n*-1\\r\\n", t.Call("EXEC"));
            Assert.Equal(0, t.BlockedClients());
        });
    }

    [Fact]
    public void Block_from_a_script_is_refused()
    {
        OnBoth(t =>
        {
            Assert.Contains("xread command is not allowed with BLOCK option from scripts", t.Call("EVAL", "return redis.call('xread','BLOCK','0','STREAMS','s','$')", "0"));
        });
    }
}
