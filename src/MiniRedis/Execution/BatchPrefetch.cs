using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>
/// Before a pipelined batch runs: the keys its commands name (by their key specs) start loading into the
/// cache together (<see cref="KeyPrefetch"/>), so the batch's lookups do not each wait for their misses;
/// then, for a one-key command on a set or hash held as a table (SADD, HSET, SISMEMBER, HGET ...), the
/// element after the key likewise, in the table's buckets. The same for a round's one-command batches
/// (clients at pipeline 1, several per event loop wake-up), whose lookups would each wait for their misses too.
/// The commands it finds on the way go to the caller's <see cref="BatchCommands"/>, so dispatch looks each name up once.
/// </summary>
static class BatchPrefetch
{
    /// <summary>
    /// Commands looked ahead at, and keys announced, at most: a -P 16 pipeline of one-key commands, or its first commands of several keys.
    /// More would outrun what the cache keeps in flight, and the later keys evict the first before their turn.
    /// </summary>
    public const int Window = 24;

    /// <summary>The executor role's: the commands looked at and the tables of the elements announced (cleared after each use).</summary>
    [ThreadStatic] static ArgVector[]? t_args;
    [ThreadStatic] static FieldTable?[]? t_tables;

    /// <summary>
    /// A pipelined batch's commands from <paramref name="start"/> on (a window of them); <paramref name="found"/>[i - start]
    /// is command i's definition (null past the window, for a batch of one, or for a name not found). The caller's local,
    /// not a static: a command may resume another client's pipeline (a push serving a blocked pop), looked ahead at meanwhile.
    /// </summary>
    public static void Keys(CommandTable commands, Database db, CommandBatch batch, int start, Span<CommandDef?> found)
    {
        int end = Math.Min(batch.Count, start + Window);
        if (end - start < 2) return;
        var args = Commands;
        for (int i = start; i < end; i++) args[i - start] = batch[i];
        Keys(commands, db, end - start, found);
    }

    /// <summary>Where the caller puts the commands for <see cref="Keys(CommandTable, Database, int)"/>: up to <see cref="Window"/>.</summary>
    public static ArgVector[] Commands => t_args ??= new ArgVector[Window];

    /// <summary>
    /// As the event loop queues a client's one-command batch (pipeline 1), before the round that runs it: the
    /// bucket of its first key starts loading while the loop reads the other ready sockets, so the round's
    /// look-ahead (or the lookup itself, alone in its round) finds it loaded. Any thread, also while another
    /// holds the executor role: the bucket step reads only the table's arrays (<see cref="Dict.Prefetch"/>).
    /// </summary>
    public static void FirstKeyBucket(CommandTable commands, Database db, CommandBatch batch)
    {
        if (batch.Count != 1) return;
        var args = batch[0];
        if (args.Count < 2 || commands.Find(args[0]) is not { FirstKey: > 0 } command || command.FirstKey >= args.Count) return;
        db.Table.Prefetch(Dict.HashKey(args[command.FirstKey]), step: 0);
    }

    /// <summary>
    /// The first <paramref name="count"/> of <see cref="Commands"/>, all on <paramref name="db"/>: a batch's, or the
    /// one-command batches of a round's clients (each at pipeline 1), whose lookups would miss one after another as well.
    /// </summary>
    public static void Keys(CommandTable commands, Database db, int count, Span<CommandDef?> found)
    {
        var args = t_args!.AsSpan(0, count);
        if (count >= 2)
        {
            var prefetch = new KeyPrefetch(db.Table, stackalloc uint[Window]);
            for (int i = 0; i < count; i++)
            {
                var command = found[i] = args[i].Count < 2 ? null : commands.Find(args[i][0]);
                if (command is not { FirstKey: > 0 }) continue;
                int last = command.LastKey < 0 ? args[i].Count + command.LastKey : Math.Min(command.LastKey, args[i].Count - 1);
                for (int k = command.FirstKey; k <= last; k += Math.Max(1, command.KeyStep)) prefetch.Add(args[i][k]);
            }
            prefetch.Start();
            Elements(found, db.Table, args);
        }
        args.Clear();
    }

    static void Elements(ReadOnlySpan<CommandDef?> found, Dict table, ReadOnlySpan<ArgVector> commands)
    {
        var tables = t_tables ??= new FieldTable?[Window];
        Span<uint> hashes = stackalloc uint[Window];
        int count = 0;
        for (int i = 0; i < commands.Length; i++)
        {
            if (found[i] is not { NamesElementAfterKey: true, FirstKey: > 0 } command || command.LastKey != command.FirstKey) continue;
            var args = commands[i];
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
