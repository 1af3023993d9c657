using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>
/// Before a pipelined batch runs: the keys its commands name (by their key specs) start loading into the
/// cache together (<see cref="KeyPrefetch"/>), so the batch's lookups do not each wait for their misses;
/// then, for a one-key command on a set or hash held as a table (SADD, HSET, SISMEMBER, HGET ...), the
/// element after the key likewise, in the table's buckets. The commands it finds on the way are kept in
/// the caller's <see cref="BatchCommands"/>, so each command's name is looked up once, not twice.
/// </summary>
static class BatchPrefetch
{
    /// <summary>
    /// Commands looked ahead at, and keys announced, at most: a -P 16 pipeline of one-key commands, or its first commands of several keys.
    /// More would outrun what the cache keeps in flight, and the later keys evict the first before their turn.
    /// </summary>
    public const int Window = 24;

    /// <summary>The executor thread's: the tables of the elements announced (cleared after each batch).</summary>
    [ThreadStatic] static FieldTable?[]? t_tables;

    /// <summary>
    /// Commands <paramref name="start"/>... of the batch, up to <see cref="Window"/>: their keys start loading, and
    /// <paramref name="found"/>[i - start] is command i's definition (null past the window, for a batch of one, or
    /// for a name not found). A local of the caller's, not a static: a command may resume another client's
    /// pipeline (a push serving a blocked pop), whose batch is looked ahead at meanwhile.
    /// </summary>
    public static void Keys(CommandTable commands, Database db, CommandBatch batch, int start, Span<CommandDef?> found)
    {
        int end = Math.Min(batch.Count, start + Window);
        if (end - start < 2) return;
        var prefetch = new KeyPrefetch(db.Table, stackalloc uint[Window]);
        for (int i = start; i < end; i++)
        {
            var args = batch[i];
            var command = found[i - start] = args.Count < 2 ? null : commands.Find(args[0]);
            if (command is not { FirstKey: > 0 }) continue;
            int last = command.LastKey < 0 ? args.Count + command.LastKey : Math.Min(command.LastKey, args.Count - 1);
            for (int k = command.FirstKey; k <= last; k += Math.Max(1, command.KeyStep)) prefetch.Add(args[k]);
        }
        prefetch.Start();
        Elements(found, db.Table, batch, start, end);
    }

    static void Elements(ReadOnlySpan<CommandDef?> found, Dict table, CommandBatch batch, int start, int end)
    {
        var tables = t_tables ??= new FieldTable?[Window];
        Span<uint> hashes = stackalloc uint[Window];
        int count = 0;
        for (int i = start; i < end; i++)
        {
            if (found[i - start] is not { NamesElementAfterKey: true, FirstKey: > 0 } command || command.LastKey != command.FirstKey) continue;
            var args = batch[i];
            if (args.Count <= command.FirstKey + 1) continue;
            var key = args[command.FirstKey];
            if (table.Peek(key, Dict.HashKey(key)) is not { Type: RedisType.Set or RedisType.Hash } entry || entry.Value is not FieldTable elements) continue;
            uint hash = Dict.HashKey(args[command.FirstKey + 1]);
            elements.PrefetchBucket(hash);
            tables[count] = elements;
            hashes[count++] = hash;
        }
        if (count == 0) return;
        for (int i = 0; i < count; i++) tables[i]!.PrefetchNode(hashes[i]);
        for (int i = 0; i < count; i++) tables[i]!.PrefetchKey(hashes[i]);
        Array.Clear(tables, 0, count);
    }
}

/// <summary>A batch's commands as <see cref="BatchPrefetch.Keys"/> found them, on the stack of the loop that runs the batch.</summary>
[System.Runtime.CompilerServices.InlineArray(BatchPrefetch.Window)]
struct BatchCommands
{
    CommandDef? _first;
}
