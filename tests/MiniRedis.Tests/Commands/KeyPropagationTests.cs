using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// What key commands hand to the AOF/replication stream: effects, not requests. Expected records
/// match what a real Redis 7.0.15 wrote to its AOF for the same commands.
/// </summary>
[Trait("Category", "Unit")]
public sealed class KeyPropagationTests : IDisposable
{
    readonly PropagationRecorder _recorder = new();

    InProcessClient _client => _recorder.Client;

    public void Dispose() => _recorder.Dispose();

    List<string> Logged(string command) => _recorder.Logged(command);

    long Now => _client.OnExecutor(() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    static long AbsoluteTime(string record) => long.Parse(record.Split(' ')[3]);

    [Fact]
    public void Relative_expire_is_logged_as_pexpireat_with_its_options()
    {
        _client.Run("SET k v");
        long before = Now;
        var records = Logged("EXPIRE k 100 NX");
        long after = Now;
        Assert.Single(records);
        Assert.StartsWith("0: PEXPIREAT k ", records[0], StringComparison.Ordinal);
        Assert.EndsWith(" NX", records[0], StringComparison.Ordinal);
        Assert.InRange(AbsoluteTime(records[0]), before + 100_000, after + 100_000);
    }

    [Fact]
    public void Expireat_in_seconds_is_logged_in_milliseconds()
    {
        _client.Run("SET k v");
        Assert.Equal(["0: PEXPIREAT k 4000000000000"], Logged("EXPIREAT k 4000000000"));
        Assert.Equal(["0: pexpireat k 4000000000001"], Logged("pexpireat k 4000000000001"));
    }

    [Fact]
    public void Expire_in_the_past_is_logged_as_del()
    {
        _client.Run("SELECT 4");
        _client.Run("SET k v");
        Assert.Equal(["4: DEL k"], Logged("EXPIRE k -1"));
    }

    [Fact]
    public void Expire_in_the_past_is_logged_as_unlink_under_lazyfree_lazy_expire()
    {
        Assert.Null(_client.OnExecutor(() => _recorder.Server.Config.Set([("lazyfree-lazy-expire", "yes")])));
        _client.Run("SET k v");
        Assert.Equal(["0: UNLINK k"], Logged("PEXPIRE k 0"));
    }

    [Theory]
    [InlineData("DEL missing")]
    [InlineData("UNLINK missing")]
    [InlineData("EXPIRE missing 100")]
    [InlineData("EXPIRE k 100 NX")]
    [InlineData("EXPIRE k 10 GT")]
    [InlineData("PERSIST plain")]
    [InlineData("RENAMENX k plain")]
    [InlineData("COPY k plain")]
    [InlineData("MOVE missing 1")]
    [InlineData("RENAME k k")]
    public void Commands_that_change_nothing_log_nothing(string command)
    {
        _client.Run("SET k v EX 100");
        _client.Run("SET plain v");
        Assert.Empty(Logged(command));
    }

    [Fact]
    public void Set_with_relative_expiry_and_getdel_are_logged_by_effect()
    {
        long before = Now;
        var set = Assert.Single(Logged("SET k v EX 100"));
        Assert.StartsWith("0: SET k v PXAT ", set, StringComparison.Ordinal);
        Assert.InRange(long.Parse(set.Split(' ')[5]), before + 100_000, Now + 100_000);
        Assert.Equal(["0: DEL k"], Logged("GETDEL k"));
    }

    [Fact]
    public void An_expired_key_found_by_a_command_is_logged_as_del()
    {
        _client.Run("SET live v");
        Assert.Equal(["0: DEL gone"], _recorder.Logged(() => _client.RunAfterExpiring(["gone"], "DEL gone")));
        // Redis 7.0 wraps the expiry's DEL and the command's own record in one transaction.
        Assert.Equal(["0: MULTI", "0: DEL gone", "0: DEL gone live", "-1: EXEC"], _recorder.Logged(() => _client.RunAfterExpiring(["gone"], "DEL gone live")));
    }

    [Theory]
    [InlineData("FLUSHDB")]
    [InlineData("FLUSHALL ASYNC")]
    [InlineData("SWAPDB 0 0")]
    public void Database_commands_are_logged_even_when_there_was_nothing_to_remove(string command)
        => Assert.Equal([$"0: {command}"], Logged(command));

    [Theory]
    [InlineData("DEL k missing")]
    [InlineData("RENAME k k2")]
    [InlineData("COPY k k2 DB 3")]
    [InlineData("MOVE k 2")]
    [InlineData("PERSIST k")]
    public void Real_changes_are_logged_as_sent(string command)
    {
        _client.Run("SET k v EX 100");
        Assert.Equal([$"0: {command}"], Logged(command));
    }
}
