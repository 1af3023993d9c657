namespace MiniRedis.Protocol;

/// <summary>Where one argument's bytes sit inside a batch's arena.</summary>
public readonly record struct ArgRange(int Offset, int Length);

/// <summary>
/// The commands parsed from one read of a connection, handed to the executor as a unit.
/// Argument bytes are copied into one reusable arena so the pipe's buffers can be released
/// immediately and nothing is allocated per command once the arrays have grown to fit.
/// </summary>
public sealed class CommandBatch
{
    byte[] _arena = new byte[4096];
    int _arenaUsed;
    ArgRange[] _args = new ArgRange[64];
    int _argCount;
    int[] _commandStarts = new int[16];
    int _commandCount;

    public int Count => _commandCount;
    public int ArenaBytes => _arenaUsed;

    /// <summary>A protocol error found after the parsed commands; its reply closes the connection.</summary>
    public string? ProtocolError { get; set; }

    public void Clear()
    {
        _arenaUsed = 0;
        _argCount = 0;
        _commandCount = 0;
        ProtocolError = null;
        // Drop an arena grown by one huge command so idle clients don't pin it.
        if (_arena.Length > 1 << 20) _arena = new byte[4096];
    }

    public ArgVector this[int index]
    {
        get
        {
            int first = _commandStarts[index];
            int end = index + 1 < _commandCount ? _commandStarts[index + 1] : _argCount;
            return new ArgVector(_arena, _args, first, end - first);
        }
    }

    public void BeginCommand()
    {
        if (_commandCount == _commandStarts.Length) Array.Resize(ref _commandStarts, _commandCount * 2);
        _commandStarts[_commandCount++] = _argCount;
    }

    /// <summary>Reserves room for one argument of the current command and returns where to copy it.</summary>
    public Span<byte> AddArgument(int length)
    {
        if (_argCount == _args.Length) Array.Resize(ref _args, _argCount * 2);
        if (_arenaUsed + length > _arena.Length)
        {
            var bigger = new byte[Math.Max(_arena.Length * 2, _arenaUsed + length)];
            _arena.AsSpan(0, _arenaUsed).CopyTo(bigger);
            _arena = bigger;
        }
        _args[_argCount++] = new ArgRange(_arenaUsed, length);
        var span = _arena.AsSpan(_arenaUsed, length);
        _arenaUsed += length;
        return span;
    }

    /// <summary>Removes the command being built (an inline line that turned out empty).</summary>
    public void DropLastCommand()
    {
        _commandCount--;
        _argCount = _commandStarts[_commandCount];
        _arenaUsed = _argCount == 0 ? 0 : _args[_argCount - 1].Offset + _args[_argCount - 1].Length;
    }
}

/// <summary>A command's arguments: a view over arena bytes, cheap to copy.</summary>
public readonly struct ArgVector
{
    readonly byte[] _arena;
    readonly ArgRange[] _ranges;
    readonly int _first;

    public ArgVector(byte[] arena, ArgRange[] ranges, int first, int count)
    {
        _arena = arena;
        _ranges = ranges;
        _first = first;
        Count = count;
    }

    public int Count { get; }

    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            var r = _ranges[_first + index];
            return new ReadOnlySpan<byte>(_arena, r.Offset, r.Length);
        }
    }

    /// <summary>A private copy, for commands that outlive the batch (MULTI queues them).</summary>
    public ArgVector Clone()
    {
        int total = 0;
        for (int i = 0; i < Count; i++) total += _ranges[_first + i].Length;
        var arena = new byte[total];
        var ranges = new ArgRange[Count];
        int offset = 0;
        for (int i = 0; i < Count; i++)
        {
            var arg = this[i];
            arg.CopyTo(arena.AsSpan(offset));
            ranges[i] = new ArgRange(offset, arg.Length);
            offset += arg.Length;
        }
        return new ArgVector(arena, ranges, 0, Count);
    }

    public static ArgVector FromStrings(params string[] args)
    {
        var batch = new CommandBatch();
        batch.BeginCommand();
        foreach (var a in args) System.Text.Encoding.UTF8.GetBytes(a, batch.AddArgument(System.Text.Encoding.UTF8.GetByteCount(a)));
        return batch[0].Clone();
    }
}
