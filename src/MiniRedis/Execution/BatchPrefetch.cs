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

    /// <summary>The executor role's: the commands looked at, and the tables of the elements announced (cleared after each use).</summary>
    [ThreadStatic] static LookedUp[]? t_commands;
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
        var looked = Commands;
        for (int i = start; i < end; i++)
        {
            // A pipeline mostly repeats one command: a name of the same bytes as the one before it is that command.
            var args = batch[i];
            looked[i - start] = i > start && args.Count > 0 && looked[i - start - 1].Args is { Count: > 0 } before && args[0].SequenceEqual(before[0])
                ? LookedUp.Of(looked[i - start - 1].Command, args)
                : LookedUp.Of(commands, args);
            found[i - start] = looked[i - start].Command;
        }
        Keys(db, end - start);
    }

    /// <summary>Where the caller puts the commands for <see cref="Keys(Database, int)"/>: up to <see cref="Window"/>.</summary>
    public static LookedUp[] Commands => t_commands ??= new LookedUp[Window];

    /// <summary>
    /// As the event loop queues a client's one-command batch (pipeline 1), before the round that runs it: the
    /// bucket of its first key starts loading while the loop reads the other ready sockets, so the round's
    /// look-ahead (or the lookup itself, alone in its round) finds it loaded. Any thread, also while another
    /// holds the executor role: the bucket step reads only the table's arrays (<see cref="Dict.Prefetch"/>).
    /// </summary>
    public static void FirstKeyBucket(Database db, in LookedUp command)
    {
        if (command.NamesKey) db.Table.Prefetch(command.KeyHash, step: 0);
    }

    /// <summary>
    /// The first <paramref name="count"/> of <see cref="Commands"/>, all on <paramref name="db"/>: a batch's, or the
    /// one-command batches of a round's clients (each at pipeline 1), whose lookups would miss one after another as well.
    /// </summary>
    public static void Keys(Database db, int count)
    {
        var looked = t_commands!.AsSpan(0, count);
        if (count >= 2)
        {
            var prefetch = new KeyPrefetch(db.Table, stackalloc uint[Window]);
            foreach (ref readonly var item in looked)
            {
                if (!item.NamesKey) continue;
                var command = item.Command!;
                var args = item.Args;
                prefetch.Add(item.KeyHash);
                int last = command.LastKey < 0 ? args.Count + command.LastKey : Math.Min(command.LastKey, args.Count - 1);
                for (int k = command.FirstKey + Math.Max(1, command.KeyStep); k <= last; k += Math.Max(1, command.KeyStep)) prefetch.Add(args[k]);
            }
            prefetch.Start();
            Elements(db.Table, looked);
        }
        looked.Clear();
    }

    static void Elements(Dict table, ReadOnlySpan<LookedUp> commands)
    {
        var tables = t_tables ??= new FieldTable?[Window];
        Span<uint> hashes = stackalloc uint[Window];
        int count = 0;
        foreach (ref readonly var item in commands)
        {
            if (item.Command is not { NamesElementAfterKey: true, FirstKey: > 0 } command || command.LastKey != command.FirstKey) continue;
            var args = item.Args;
            if (args.Count <= command.FirstKey + 1) continue;
            if (table.Peek(args[command.FirstKey], item.KeyHash) is not { Type: RedisType.Set or RedisType.Hash } entry || entry.Value is not FieldTable elements) continue;
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

/// <summary>
/// A command as the look-ahead sees it: its arguments, its definition (null for a name not found) and the hash of
/// its first key (when <see cref="NamesKey"/>). A one-command batch's is found once, as the batch is queued, and its
/// work item carries it to the round's look-ahead and to dispatch, which find the name and hash the key no more.
/// </summary>
readonly struct LookedUp(ArgVector args, CommandDef? command, uint keyHash)
{
    public ArgVector Args { get; } = args;
    public CommandDef? Command { get; } = command;
    public uint KeyHash { get; } = keyHash;

    /// <summary>The command names at least one key (a key spec whose first key is sent).</summary>
    public bool NamesKey => Command is { FirstKey: > 0 } command && command.FirstKey < Args.Count;

    public static LookedUp Of(CommandTable commands, ArgVector args) => Of(args.Count == 0 ? null : commands.Find(args[0]), args);

    /// <summary>The command named by <paramref name="args"/>, already found.</summary>
    public static LookedUp Of(CommandDef? command, ArgVector args)
        => new(args, command, command is { FirstKey: > 0 } && command.FirstKey < args.Count ? Dict.HashKey(args[command.FirstKey]) : 0);
}

/// <summary>A batch's commands as <see cref="BatchPrefetch.Keys"/> found them, on the stack of the loop that runs the batch.</summary>
[System.Runtime.CompilerServices.InlineArray(BatchPrefetch.Window)]
struct BatchCommands
{
    CommandDef? _first;
}
