using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>
/// Where the effects of executed writes go (the AOF writer, later replicas): Redis's
/// propagate() stream. Records arrive in execution order; <see cref="Flush"/> is called once per
/// executor round, before any reply of that round is sent, so a sink can group-commit.
/// </summary>
public interface IPropagationSink
{
    /// <summary>One command to log; <paramref name="db"/> is the database it applies to, or -1 for any.</summary>
    void Append(int db, ArgVector args);

    void Flush();
}

/// <summary>
/// Collects the records of one execution unit (a top-level command, or a whole EXEC), as Redis
/// 7.0's also_propagate array: a unit that produced more than one record is wrapped in
/// MULTI/EXEC so it replays atomically.
/// </summary>
public sealed class PropagationQueue
{
    static readonly ArgVector Multi = ArgVector.FromStrings("MULTI");
    static readonly ArgVector Exec = ArgVector.FromStrings("EXEC");

    readonly CommandBatch _records = new();
    readonly List<int> _dbs = [];
    readonly object _sinksLock = new();

    // Copy-on-write: sinks may be added from other threads (start-up, tests) while the executor reads.
    volatile IPropagationSink[] _sinks = [];

    public void AddSink(IPropagationSink sink)
    {
        lock (_sinksLock) _sinks = [.. _sinks, sink];
    }

    public void RemoveSink(IPropagationSink sink)
    {
        lock (_sinksLock) _sinks = _sinks.Where(s => s != sink).ToArray();
    }

    public IReadOnlyList<IPropagationSink> Sinks => _sinks;

    public void Add(int db, ArgVector args)
    {
        // Nothing listens (no AOF, no replica): not even the walk over the arguments (MSET's 21).
        if (_sinks.Length == 0) return;
        var builder = Begin(db);
        for (int i = 0; i < args.Count; i++) builder.Arg(args[i]);
    }

    /// <summary>Starts a record built argument by argument (an effect that differs from what the client sent).</summary>
    public RecordBuilder Begin(int db)
    {
        if (_sinks.Length == 0) return new RecordBuilder(null);
        _records.BeginCommand();
        _dbs.Add(db);
        return new RecordBuilder(_records);
    }

    /// <summary>How many records the current unit holds: a mark for <see cref="DropRecordsFrom"/>.</summary>
    internal int PendingRecords => _records.Count;

    /// <summary>Drops the records added after <paramref name="mark"/> (those of a command that threw half-way).</summary>
    internal void DropRecordsFrom(int mark)
    {
        while (_records.Count > mark) _records.DropLastCommand();
        _dbs.RemoveRange(mark, _dbs.Count - mark);
    }

    /// <summary>Ends the execution unit: hands its records to the sinks.</summary>
    public void EndUnit()
    {
        int count = _records.Count;
        if (count == 0) return;
        bool wrap = count > 1;
        foreach (var sink in _sinks)
        {
            if (wrap) sink.Append(_dbs[0], Multi);
            for (int i = 0; i < count; i++) sink.Append(_dbs[i], _records[i]);
            if (wrap) sink.Append(-1, Exec);
        }
        _records.Clear();
        _dbs.Clear();
    }

    public void FlushSinks()
    {
        foreach (var sink in _sinks) sink.Flush();
    }
}

/// <summary>Appends arguments to a propagation record; a no-op when nothing listens.</summary>
public readonly ref struct RecordBuilder
{
    readonly CommandBatch? _records;

    internal RecordBuilder(CommandBatch? records) => _records = records;

    public RecordBuilder Arg(scoped ReadOnlySpan<byte> value)
    {
        if (_records is not null) value.CopyTo(_records.AddArgument(value.Length));
        return this;
    }

    public RecordBuilder Arg(long value)
    {
        Span<byte> digits = stackalloc byte[24];
        return Arg(digits[..Data.RedisNumbers.FormatInt64(value, digits)]);
    }
}
