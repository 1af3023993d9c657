using System.Text;
using MiniRedis.Data;
using MiniRedis.Protocol;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Execution;

/// <summary>
/// The look-ahead that starts loading a pipelined batch's keys (BatchPrefetch, KeyPrefetch) changes
/// nothing: a batch of mixed commands (missing keys, other types, arena and long strings, expired keys, a
/// SELECT in the middle, a table in the middle of a resize, MSET/MGET's own look-ahead) replies byte for
/// byte as the same commands sent one by one to a server holding the same data, and allocates nothing;
/// so does a round of one-command batches from many clients (each at pipeline 1), some on another database.
/// </summary>
[Trait("Category", "Unit")]
public sealed class BatchPrefetchTests : IDisposable
{
    readonly RedisServer _batched = InProcessClient.StartServer();
    readonly RedisServer _single = InProcessClient.StartServer();

    public void Dispose()
    {
        _batched.Stop();
        _single.Stop();
    }

    static readonly string[] Lines =
    [
        "GET missing", "GET k:1", "get k:1", "GEt k:2", "GETX k:1", "INCR n:7", "SET k:2 replaced", "GET k:2", "LPUSH list a b", "HSET hash f v",
        "GET list", "GET long", "MSET k:3 x k:4 y k:5 z k:9999 w", "MGET k:3 nope k:5 hash k:6 long", "GET expired",
        "INCRBY n:8 5", "SELECT 1", "GET k:1", "SET k:1 other-db", "SELECT 0", "GET k:1", "DEL k:7", "GET k:7",
        "GET empty", "PING", "SET k:8 v EX 100", "GET k:8", "SADD set m:1 m:new", "SISMEMBER set m:5", "SISMEMBER set absent",
        "HSET hash2 f:1 changed", "HGET hash2 f:2", "HGET hash2 f:1", "SREM set m:3", "HDEL hash2 f:4", "SCARD set", "HLEN hash2",
        "SADD k:9 m", "HGET set m:1", "ZADD z 1 a",
    ];

    static void Arrange(InProcessClient client)
    {
        // 1022 or 1023 keys (the cron may have reclaimed the expired one) in a table of 1024 buckets: the batch's new keys start its resize midway, after the look-ahead read the old buckets.
        for (int i = 0; i < 1008; i++) client.Run($"SET k:{i} value-{i}");
        // A set and a hash held as tables (the element look-ahead's stages).
        client.Run("SADD set " + string.Join(' ', Enumerable.Range(0, 300).Select(i => $"m:{i}")));
        client.Run("HSET hash2 " + string.Join(' ', Enumerable.Range(0, 600).Select(i => $"f:{i} v:{i}")));
        for (int i = 0; i < 10; i++) client.Run($"SET n:{i} {i * 100}");
        client.Run("SET long " + new string('x', 5000));
        client.Run("SET empty \"\"");
        client.RunAfterExpiring(["expired"]);
    }

    static CommandBatch BatchOf(IEnumerable<string> lines)
    {
        var batch = new CommandBatch();
        foreach (var line in lines)
        {
            batch.BeginCommand();
            foreach (var arg in line.Split(' ')) Encoding.ASCII.GetBytes(arg).CopyTo(batch.AddArgument(arg.Length));
        }
        return batch;
    }

    [Fact]
    public void A_pipelined_batch_replies_as_its_commands_sent_one_by_one()
    {
        var batchedClient = new InProcessClient(_batched);
        var singleClient = new InProcessClient(_single);
        Arrange(batchedClient);
        Arrange(singleClient);
        Assert.Equal(1024, batchedClient.OnExecutor(() => _batched.Keyspace[0].Table.BucketCount));

        var batch = BatchOf(Lines);
        string batched = batchedClient.OnExecutor(() =>
        {
            _batched.Executor.ProcessBatch(batchedClient.Session, batch);
            var reply = Encoding.Latin1.GetString(batchedClient.Session.Reply.ToArray());
            batchedClient.Session.Reply.Clear();
            return reply;
        });
        string single = string.Concat(Lines.Select(singleClient.Run));
        Assert.Equal(single, batched);
        Assert.Contains("$8\r\nreplaced\r\n", batched, StringComparison.Ordinal);
        Assert.Equal("$9\r\nhashtable\r\n", batchedClient.Run("OBJECT ENCODING set"));
        Assert.Equal("$9\r\nhashtable\r\n", batchedClient.Run("OBJECT ENCODING hash2"));
        Assert.Equal(batchedClient.Run("DBSIZE"), singleClient.Run("DBSIZE"));
        Assert.True(batchedClient.OnExecutor(() => _batched.Keyspace[0].Table.BucketCount) >= 2048);
    }

    [Fact]
    public void A_batch_that_resumes_a_blocked_pipeline_goes_on_with_its_own_commands()
    {
        // The look-ahead found the pusher's commands (LPUSH, SET, GET, INCR) before its LPUSH ran; serving the
        // waiter runs the rest of the waiter's pipeline (SET, INCR, GET) inside that LPUSH, looked ahead at too.
        var events = new RecordingDisk();
        var waiter = new RecordingConnection(_batched, events, "waiter");
        var pusher = new RecordingConnection(_batched, events, "pusher");
        _batched.Executor.Submit(waiter.Session, BatchOf(["BLPOP q 0", "SET w:1 from-waiter", "INCR w:2", "GET w:1"]));
        Assert.True(Wait.Until(() => _batched.Executor.InvokeAsync(() => waiter.Session.Blocked is not null).GetAwaiter().GetResult()));

        Assert.Equal([":1\r\n", "+OK\r\n", "$11\r\nfrom-pusher\r\n", ":1\r\n"],
            pusher.Pipeline(["LPUSH", "q", "v"], ["SET", "p:1", "from-pusher"], ["GET", "p:1"], ["INCR", "p:2"]));
        string sent;
        // A round that ran the batch up to its block sent nothing.
        do sent = waiter.TakeSent(); while (sent.Length == 0);
        Assert.Equal("*2\r\n$1\r\nq\r\n$1\r\nv\r\n+OK\r\n:1\r\n$11\r\nfrom-waiter\r\n", sent);
    }

    [Fact]
    public void A_pipelined_batch_allocates_nothing_per_run()
    {
        var client = new InProcessClient(_batched);
        Arrange(client);
        // A batch the loaded machine stalls past 10 ms would get a slow log entry: the slow log's allocation, not the batch's.
        client.Run("CONFIG SET slowlog-log-slower-than 1000000");
        var batch = BatchOf(["SET k:1 a", "GET k:2", "INCR n:1", "GET missing", "MSET k:3 b k:4 c", "MGET k:1 k:2 k:3", "SET k:5 d", "GET k:6", "SISMEMBER set m:7", "HGET hash2 f:8", "SADD set m:9", "HEXISTS hash2 f:10"]);
        long allocated = client.OnExecutor(() =>
        {
            void Run()
            {
                _batched.Executor.ProcessBatch(client.Session, batch);
                client.Session.Reply.Clear();
            }
            for (int i = 0; i < 1000; i++) Run();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5000; i++) Run();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });
        Assert.True(allocated < 5000, $"5,000 batches of 12 commands allocated {allocated} bytes");
    }

    [Fact]
    public void A_round_of_clients_one_command_each_replies_as_their_commands_sent_one_by_one()
    {
        Arrange(new InProcessClient(_batched));
        Arrange(new InProcessClient(_single));
        string[] lines = [.. Lines.Where(line => !line.StartsWith("SELECT", StringComparison.Ordinal))];
        // Every third client on database 1: the round's look-ahead takes the first client's database only.
        InProcessClient[] Clients(RedisServer server) => [.. lines.Select((_, i) =>
        {
            var client = new InProcessClient(server);
            if (i % 3 == 2) client.Run("SELECT 1");
            return client;
        })];
        var batchedClients = Clients(_batched);
        var singleClients = Clients(_single);

        // As the event loop does with the sockets one wait found ready: their batches queue, then run in one round.
        var batches = lines.Select(line => BatchOf([line])).ToArray();
        MiniRedis.Execution.Executor.Defer();
        for (int i = 0; i < lines.Length; i++) _batched.Executor.Submit(batchedClients[i].Session, batches[i]);
        _batched.Executor.RunDeferred();
        // Queued behind the round: it has run when this runs.
        string[] batched = batchedClients[0].OnExecutor(() => batchedClients.Select(client =>
        {
            var reply = Encoding.Latin1.GetString(client.Session.Reply.ToArray());
            client.Session.Reply.Clear();
            return reply;
        }).ToArray());
        string[] single = [.. lines.Select((line, i) => singleClients[i].Run(line))];
        Assert.Equal(single, batched);
        Assert.Contains("$8\r\nreplaced\r\n", batched);
        Assert.Equal(singleClients[0].Run("GET k:1"), batchedClients[0].Run("GET k:1"));
        Assert.Equal(singleClients[2].Run("GET k:1"), batchedClients[2].Run("GET k:1"));
    }
}
