using System.Text;
using MiniRedis.Protocol;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Memory;

/// <summary>In-process checks of the accounting itself: exact bookkeeping, and nothing allocated per GET/SET.</summary>
[Trait("Category", "Unit")]
public sealed class MemoryAccountingTests : IDisposable
{
    readonly RedisServer _server = InProcessClient.StartServer();
    readonly InProcessClient _client;

    public MemoryAccountingTests() => _client = new InProcessClient(_server);

    public void Dispose() => _server.Stop();

    long UsedMemory() => _client.OnExecutor(() => _server.Memory.Used);

    [Fact]
    public void Every_change_of_a_value_is_accounted_and_deleting_gives_it_all_back()
    {
        long empty = UsedMemory();
        string[] script =
        [
            "RPUSH l a b c", "LSET l 0 aaaaaaaaaaaaaaaa", "LINSERT l BEFORE b x", "LREM l 0 x", "LTRIM l 0 1", "RPOP l",
            "SADD s 1 2 3", "SADD s member", "SREM s 1", "SPOP s",
            "HSET h f v", "HSET h f " + new string('v', 100), "HDEL h f", "HSET h g v",
            "ZADD z 1 a 2 b", "ZADD z 3 " + new string('m', 100), "ZINCRBY z 1 a", "ZREM z b", "ZREMRANGEBYRANK z 0 0",
            "SET str 5", "APPEND str 12345678901234567890123456789012345678901234567890", "SETRANGE str 100 x",
            "EXPIRE str 100", "PERSIST str", "EXPIRE l 100", "RENAME l l2", "COPY h h2", "MOVE h2 1",
            "SUNIONSTORE s2 s s", "ZUNIONSTORE z2 1 z", "LMOVE l2 l3 LEFT RIGHT",
        ];
        foreach (var line in script) _client.Run(line);
        // The sum kept incrementally equals the keys measured afresh (plus the dicts' own tables).
        long measured = _client.OnExecutor(() =>
        {
            long total = 0;
            for (int db = 0; db < _server.Keyspace.Count; db++)
            {
                foreach (var entry in _server.Keyspace[db]) total += MiniRedis.Data.AllocationModel.Entry(entry);
            }
            return total;
        });
        long accounted = _client.OnExecutor(() =>
        {
            long total = 0;
            for (int db = 0; db < _server.Keyspace.Count; db++) total += _server.Keyspace[db].UsedBytes;
            return total;
        });
        Assert.True(measured > 0);
        Assert.InRange(accounted - measured, 0, 16 * (56 + 64 * 8));
        _client.Run("FLUSHALL");
        Assert.Equal(empty, UsedMemory());
    }

    [Fact]
    public void Get_and_set_allocate_nothing_per_command_with_and_without_maxmemory()
    {
        // A command the loaded machine stalls past 10 ms would get a slow log entry (~1.2 KB): the slow log's allocation, not the command's.
        _client.Run("CONFIG SET slowlog-log-slower-than 1000000");
        foreach (var maxmemory in new[] { "0", "100mb" })
        {
            _client.Run("CONFIG SET maxmemory " + maxmemory);
            _client.Run("CONFIG SET maxmemory-policy allkeys-lru");
            var set = Batch("SET", "key", "value-of-ten");
            var get = Batch("GET", "key");
            long allocated = _client.OnExecutor(() =>
            {
                var session = _client.Session;
                for (int i = 0; i < 1000; i++) Run(set, get);
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 10000; i++) Run(set, get);
                return GC.GetAllocatedBytesForCurrentThread() - before;

                void Run(CommandBatch a, CommandBatch b)
                {
                    _server.Executor.ProcessCommand(session, a[0]);
                    _server.Executor.ProcessCommand(session, b[0]);
                    _server.Propagation.FlushSinks();
                    session.Reply.Clear();
                }
            });
            Assert.True(allocated < 1024, $"maxmemory {maxmemory}: 20000 commands allocated {allocated} bytes");
        }
    }

    static CommandBatch Batch(params string[] args)
    {
        var batch = new CommandBatch();
        batch.BeginCommand();
        foreach (var arg in args) Encoding.ASCII.GetBytes(arg).CopyTo(batch.AddArgument(arg.Length));
        return batch;
    }
}
