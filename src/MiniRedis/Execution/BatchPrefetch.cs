using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>
/// Before a pipelined batch runs: the keys its commands name (by their key specs) start loading into the
/// cache together (<see cref="KeyPrefetch"/>), so the batch's lookups do not each wait for their misses;
/// then, for a one-key command on a set or hash held as a table (SADD, HSET, SISMEMBER, HGET ...), the
/// element after the key likewise, in the table's buckets.
/// </summary>
static class BatchPrefetch
{
    /// <summary>
    /// Commands looked ahead at, and keys announced, at most: a -P 16 pipeline of one-key commands, or its first commands of several keys.
    /// More would outrun what the cache keeps in flight, and the later keys evict the first before their turn.
    /// </summary>
    const int Window = 24;

    /// <summary>The executor thread's: the batch's commands found, and the tables of the elements announced (cleared after each batch).</summary>
    [ThreadStatic] static CommandDef?[]? t_commands;
    [ThreadStatic] static FieldTable?[]? t_tables;

    public static void Keys(CommandTable commands, Database db, CommandBatch batch, int start)
    {
        int end = Math.Min(batch.Count, start + Window);
        if (end - start < 2) return;
        var found = t_commands ??= new CommandDef?[Window];
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
        Array.Clear(found, 0, end - start);
    }

    static void Elements(CommandDef?[] found, Dict table, CommandBatch batch, int start, int end)
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
