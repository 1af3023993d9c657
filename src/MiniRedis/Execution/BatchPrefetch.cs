using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>
/// Before a pipelined batch runs: the keys its commands name (by their key specs) start loading into the
/// cache together (<see cref="KeyPrefetch"/>), so the batch's lookups do not each wait for their misses.
/// </summary>
static class BatchPrefetch
{
    /// <summary>
    /// Keys announced at most: a -P 16 pipeline of one-key commands, or its first commands of several keys.
    /// More would outrun what the cache keeps in flight, and the later keys evict the first before their turn.
    /// </summary>
    const int Window = 24;

    public static void Keys(CommandTable commands, Database db, CommandBatch batch, int start)
    {
        if (batch.Count - start < 2) return;
        var prefetch = new KeyPrefetch(db.Table, stackalloc uint[Window]);
        for (int i = start; i < batch.Count && !prefetch.IsFull; i++)
        {
            var args = batch[i];
            if (args.Count < 2 || commands.Find(args[0]) is not { FirstKey: > 0 } command) continue;
            int last = command.LastKey < 0 ? args.Count + command.LastKey : Math.Min(command.LastKey, args.Count - 1);
            for (int k = command.FirstKey; k <= last && !prefetch.IsFull; k += Math.Max(1, command.KeyStep)) prefetch.Add(args[k]);
        }
        prefetch.Start();
    }
}
