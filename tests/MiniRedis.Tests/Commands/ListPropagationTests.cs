using System.Text;
using MiniRedis.Execution;
using MiniRedis.Protocol;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// What list commands and SORT hand to the AOF: the expected records are what a real Redis 7.0.15 wrote
/// to its appendonly file for the same commands (blocking forms as their non-blocking command, pops that
/// change nothing not at all).
/// </summary>
public sealed class ListPropagationTests : IDisposable
{
    sealed class RecordingSink : IPropagationSink
    {
        public List<string> Records { get; } = [];

        public void Append(int db, ArgVector args)
        {
            var parts = new string[args.Count];
            for (int i = 0; i < args.Count; i++) parts[i] = Encoding.Latin1.GetString(args[i]);
            Records.Add(string.Join(' ', parts));
        }

        public void Flush()
        {
        }
    }

    readonly RedisServer _server = InProcessClient.StartServer();
    readonly InProcessClient _client;
    readonly RecordingSink _sink = new();

    public ListPropagationTests()
    {
        _client = new InProcessClient(_server);
        _server.Propagation.AddSink(_sink);
    }

    public void Dispose() => _server.Stop();

    string[] Logged(string command)
    {
        _sink.Records.Clear();
        _client.Run(command);
        return [.. _sink.Records];
    }

    [Theory]
    [InlineData("RPUSH a 1 2 3", "RPUSH a 1 2 3")]
    [InlineData("LPUSHX a x", "LPUSHX a x")]
    [InlineData("LPOP a", "LPOP a")]
    [InlineData("RPOP a 2", "RPOP a 2")]
    [InlineData("LSET a 0 z", "LSET a 0 z")]
    [InlineData("LINSERT a BEFORE 2 y", "LINSERT a BEFORE 2 y")]
    [InlineData("LREM a 1 2", "LREM a 1 2")]
    [InlineData("LTRIM a 1 -1", "LTRIM a 1 -1")]
    [InlineData("LMOVE a b LEFT RIGHT", "LMOVE a b LEFT RIGHT")]
    [InlineData("RPOPLPUSH a b", "RPOPLPUSH a b")]
    [InlineData("SORT a STORE dst", "SORT a STORE dst")]
    public void Writes_are_logged_as_sent(string command, string record)
    {
        _client.Run("RPUSH a 1 2 3 4");
        Assert.Equal([record], Logged(command));
    }

    [Theory]
    [InlineData("BLPOP nosuch a 0", "LPOP a")]
    [InlineData("BRPOP a 0", "RPOP a")]
    [InlineData("BLMOVE a b LEFT left 0", "LMOVE a b LEFT left")]
    [InlineData("BRPOPLPUSH a b 0", "RPOPLPUSH a b")]
    [InlineData("LMPOP 2 nosuch a LEFT COUNT 10", "LPOP a 4")]
    [InlineData("LMPOP 1 a RIGHT", "RPOP a 1")]
    [InlineData("BLMPOP 0 1 a RIGHT COUNT 2", "RPOP a 2")]
    public void Blocking_and_multi_key_pops_are_logged_as_plain_pops(string command, string record)
    {
        _client.Run("RPUSH a 1 2 3 4");
        Assert.Equal([record], Logged(command));
    }

    [Theory]
    [InlineData("RPOP a 0")]
    [InlineData("LPOP nosuch 2")]
    [InlineData("LPUSHX nosuch x")]
    [InlineData("LREM a 0 nope")]
    [InlineData("LINSERT a BEFORE nope x")]
    [InlineData("LTRIM a 0 -1")]
    [InlineData("LMOVE nosuch a LEFT LEFT")]
    [InlineData("LMPOP 1 nosuch LEFT")]
    [InlineData("BLPOP nosuch 0")]
    [InlineData("SORT a")]
    [InlineData("SORT nosuch STORE missing")]
    [InlineData("LSET a 10 x")]
    public void Commands_that_change_nothing_log_nothing(string command)
    {
        _client.Run("RPUSH a 1 2 3 4");
        Assert.Empty(Logged(command));
    }

    [Fact]
    public void An_empty_sort_result_deletes_the_destination_and_is_logged()
    {
        _client.Run("SET dst v");
        Assert.Equal(["SORT nosuch STORE dst"], Logged("SORT nosuch STORE dst"));
        Assert.Equal(":0\r\n", _client.Run("EXISTS dst"));
    }

    [Fact]
    public void Pops_inside_a_transaction_are_logged_as_their_effects()
    {
        _client.Run("RPUSH a 1 2");
        _client.Run("MULTI");
        _client.Run("BLPOP a 0");
        _client.Run("BLPOP a 0");
        _client.Run("BLPOP a 0");
        Assert.Equal(["MULTI", "LPOP a", "LPOP a", "EXEC"], Logged("EXEC"));
    }
}
