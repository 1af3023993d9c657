using System.Text;
using MiniRedis.Protocol;

namespace MiniRedis.Tests.Support;

/// <summary>
/// Managed bytes one command allocates on the executor in steady state, run as a connection's batch
/// would be: through the batch path (client tracking's hooks, CLIENT REPLY, the round's reply list),
/// which is where a per-command allocation hid from a probe of ProcessCommand alone.
/// </summary>
public static class AllocationProbe
{
    /// <summary>Runs <paramref name="args"/> 1,000 times to warm up, then returns what 10,000 more calls allocated.</summary>
    public static long BytesFor10000Calls(RedisServer server, InProcessClient client, params string[] args)
        => BytesFor10000Calls(server, client, afterCall: null, args);

    /// <summary>
    /// As above, with <paramref name="afterCall"/> run on the executor after each call, as the round's
    /// end would (other sessions' output sent: a subscriber's messages).
    /// </summary>
    public static long BytesFor10000Calls(RedisServer server, InProcessClient client, Action? afterCall, params string[] args)
    {
        // A call the machine stalls past slowlog-log-slower-than (10 ms) gets a slow log entry: an
        // allocation of the slow log's, not the command's (seen on a loaded machine).
        client.Run("CONFIG SET slowlog-log-slower-than 1000000");
        var batch = Batch(args);
        return server.Executor.InvokeAsync(() =>
        {
            void Call()
            {
                server.Executor.ProcessBatch(client.Session, batch);
                client.Session.Reply.Clear();
                afterCall?.Invoke();
            }
            for (int i = 0; i < 1000; i++) Call();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++) Call();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }).GetAwaiter().GetResult();
    }

    /// <summary>A batch of the one command <paramref name="args"/>, as a connection's parser fills it.</summary>
    public static CommandBatch Batch(params string[] args)
    {
        var batch = new CommandBatch();
        batch.BeginCommand();
        foreach (var arg in args) Encoding.ASCII.GetBytes(arg).CopyTo(batch.AddArgument(arg.Length));
        return batch;
    }
}
