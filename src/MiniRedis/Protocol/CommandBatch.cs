namespace MiniRedis.Protocol;

/// <summary>Where one argument's bytes sit inside a batch's arena.</summary>
public readonly record struct ArgRange(int Offset, int Length);

/// <summary>
/// The commands parsed from one read of a connection, handed to the executor as a unit.
/// Argument bytes are copied into one reusable arena so the pipe's buffers can be released
/// immediately and nothing is allocated per command once the arrays have grown to fit.
/// The last command may still be open (a multibulk whose arguments have not all arrived): its
/// finished arguments stay here between reads, so a big command is parsed and copied only once.
/// The arrays start empty and grow to what the client sends: an idle or small-command client
/// holds little, and a batch never used (a client that does not pipeline) holds nothing.
/// </summary>
public sealed class CommandBatch
{
    // Past these sizes, Clear drops the arrays one huge command grew, so idle clients don't pin them.
    // A full batch of a pipelined load (ClientConnection stops at 1 MB of argument bytes, the last
    // command crossing it doubles the arena; short arguments make a quarter-million of them) fits
    // under both: such a load reuses its arrays instead of growing them anew for every batch, which
    // made megabytes of large-object garbage per batch.
    const int KeptArenaBytes = 2 << 20;
    const int KeptArgs = 256 * 1024;

    // First sizes on growth from empty: a PING or a small SET fits without a second step.
    const int MinArenaBytes = 256;
    const int MinArgs = 8;

    byte[] _arena = [];
    int _arenaUsed;
    ArgRange[] _args = [];
    int _argCount;
    int[] _commandStarts = [];
    int _commandCount;

    /// <summary>Complete commands, the ones the executor runs (an open command is not counted).</summary>
    public int Count => HasOpenCommand ? _commandCount - 1 : _commandCount;
    public int ArenaBytes => _arenaUsed;

    /// <summary>Arguments the open command still misses (Redis's multibulklen); 0 when no command is open.</summary>
    public int MissingArguments { get; private set; }

    /// <summary>The announced length of the open command's next bulk once its "$n" line was read (Redis's bulklen), else -1.</summary>
    public long PendingBulkLength { get; set; } = -1;

    public bool HasOpenCommand => MissingArguments > 0;

    /// <summary>Argument bytes of the open command: they count towards the client's query buffer.</summary>
    public long OpenCommandBytes => HasOpenCommand ? _arenaUsed - FirstArenaOffset(_commandStarts[_commandCount - 1]) : 0;

    /// <summary>A protocol error found after the parsed commands; its reply closes the connection.</summary>
    public string? ProtocolError { get; set; }

    public void Clear()
    {
        _arenaUsed = 0;
        _argCount = 0;
        _commandCount = 0;
        ProtocolError = null;
        MissingArguments = 0;
        PendingBulkLength = -1;
        if (_arena.Length > KeptArenaBytes) _arena = [];
        if (_args.Length > KeptArgs) _args = [];
    }

    /// <summary>Gives the arrays back (a cleared batch of an idle client); the next use grows them again.</summary>
    public void Release()
    {
        Clear();
        _arena = [];
        _args = [];
        _commandStarts = [];
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
        if (_commandCount == _commandStarts.Length) Array.Resize(ref _commandStarts, Math.Max(MinArgs, _commandCount * 2));
        _commandStarts[_commandCount++] = _argCount;
    }

    /// <summary>Starts a multibulk command that is complete once <paramref name="argumentCount"/> arguments were added.</summary>
    public void OpenCommand(int argumentCount)
    {
        BeginCommand();
        MissingArguments = argumentCount;
        PendingBulkLength = -1;
    }

    /// <summary>Reserves room for one argument of the current command and returns where to copy it.</summary>
    public Span<byte> AddArgument(int length)
    {
        if (HasOpenCommand)
        {
            MissingArguments--;
            PendingBulkLength = -1;
        }
        if (_argCount == _args.Length) Array.Resize(ref _args, Math.Max(MinArgs, _argCount * 2));
        if (_arenaUsed + length > _arena.Length)
        {
            var bigger = new byte[Math.Max(Math.Max(MinArenaBytes, _arena.Length * 2), _arenaUsed + length)];
            _arena.AsSpan(0, _arenaUsed).CopyTo(bigger);
            _arena = bigger;
        }
        _args[_argCount++] = new ArgRange(_arenaUsed, length);
        var span = _arena.AsSpan(_arenaUsed, length);
        _arenaUsed += length;
        return span;
    }

    /// <summary>Removes the command being built (an inline line that turned out empty, an open command given up).</summary>
    public void DropLastCommand()
    {
        _commandCount--;
        int first = _commandStarts[_commandCount];
        _arenaUsed = FirstArenaOffset(first);
        _argCount = first;
        MissingArguments = 0;
        PendingBulkLength = -1;
    }

    /// <summary>Where argument <paramref name="arg"/> starts (or would start) in the arena.</summary>
    int FirstArenaOffset(int arg) => arg < _argCount ? _args[arg].Offset : _arenaUsed;
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

    /// <summary>An argument as Redis's C code prints it with %s (error texts, logs): up to the first NUL.</summary>
    public static string CString(ReadOnlySpan<byte> arg)
    {
        int nul = arg.IndexOf((byte)0);
        return System.Text.Encoding.Latin1.GetString(nul < 0 ? arg : arg[..nul]);
    }

    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            var r = _ranges[_first + index];
            return new ReadOnlySpan<byte>(_arena, r.Offset, r.Length);
        }
    }

    /// <summary>The arguments from <paramref name="start"/> on, without copying (a command line inside another: COMMAND GETKEYS, ACL DRYRUN).</summary>
    public ArgVector Skip(int start) => new(_arena, _ranges, _first + start, Count - start);

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
