using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// What list commands and SORT hand to the AOF: the expected records are what a real Redis 7.0.15 wrote
/// to its appendonly file for the same commands (blocking forms as their non-blocking command, pops that
/// change nothing not at all).
/// </summary>
[Trait("Category", "Unit")]
public sealed class ListPropagationTests : IDisposable
{
    readonly PropagationRecorder _recorder = new();

    InProcessClient _client => _recorder.Client;

    public void Dispose() => _recorder.Dispose();

    List<string> Logged(string command) => _recorder.Logged(command);

    [Theory]
    [InlineData("RPUSH a 1 2 3", "0: RPUSH a 1 2 3")]
    [InlineData("LPUSHX a x", "0: LPUSHX a x")]
    [InlineData("LPOP a", "0: LPOP a")]
    [InlineData("RPOP a 2", "0: RPOP a 2")]
    [InlineData("LSET a 0 z", "0: LSET a 0 z")]
    [InlineData("LINSERT a BEFORE 2 y", "0: LINSERT a BEFORE 2 y")]
    [InlineData("LREM a 1 2", "0: LREM a 1 2")]
    [InlineData("LTRIM a 1 -1", "0: LTRIM a 1 -1")]
    [InlineData("LMOVE a b LEFT RIGHT", "0: LMOVE a b LEFT RIGHT")]
    [InlineData("RPOPLPUSH a b", "0: RPOPLPUSH a b")]
    [InlineData("SORT a STORE dst", "0: SORT a STORE dst")]
    public void Writes_are_logged_as_sent(string command, string record)
    {
        _client.Run("RPUSH a 1 2 3 4");
        Assert.Equal([record], Logged(command));
    }

    [Theory]
    [InlineData("BLPOP nosuch a 0", "0: LPOP a")]
    [InlineData("BRPOP a 0", "0: RPOP a")]
    [InlineData("BLMOVE a b LEFT left 0", "0: LMOVE a b LEFT left")]
    [InlineData("BRPOPLPUSH a b 0", "0: RPOPLPUSH a b")]
    [InlineData("LMPOP 2 nosuch a LEFT COUNT 10", "0: LPOP a 4")]
    [InlineData("LMPOP 1 a RIGHT", "0: RPOP a 1")]
    [InlineData("BLMPOP 0 1 a RIGHT COUNT 2", "0: RPOP a 2")]
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
        Assert.Equal(["0: SORT nosuch STORE dst"], Logged("SORT nosuch STORE dst"));
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
        Assert.Equal(["0: MULTI", "0: LPOP a", "0: LPOP a", "-1: EXEC"], Logged("EXEC"));
    }
}
