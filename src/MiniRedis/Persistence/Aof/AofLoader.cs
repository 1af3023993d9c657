using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Execution;
using MiniRedis.Persistence.Dataset;
using MiniRedis.Persistence.Rdb;
using MiniRedis.Protocol;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// Loads AOF files into the keyspace (Redis's loadSingleAppendOnlyFile, file after file): a file
/// that starts with <c>REDIS</c> begins with an RDB image (aof-use-rdb-preamble), whose keys are
/// added as they are, expired ones too (they expire normally afterwards, as in Redis); then the
/// commands are replayed through the normal command machinery, as a client with no connection.
/// Runs on the executor in slices of a few milliseconds (a <see cref="SlicedJob"/>; the preamble's
/// keys through the one <see cref="RdbKeyLoader"/>) so connections are still served meanwhile
/// (they get -LOADING). Only the last file may end with a torn command (aof-load-truncated).
/// </summary>
public sealed class AofLoader : SlicedJob, IDisposable
{
    static readonly TimeSpan SliceBudget = TimeSpan.FromMilliseconds(10);

    /// <summary>Bytes an AOF's byte makes the replay allocate, about (2.8 kept and the commands' garbage, on 1M mixed keys): the load's window without collections.</summary>
    const int HeapBytesPerFileByte = 5;

    /// <summary>Progress, the slice's deadline and the table's size are looked at once per this many commands (a power of two).</summary>
    const int CheckEvery = 1024;
    static readonly TimeSpan ProgressLogInterval = TimeSpan.FromSeconds(2);

    readonly PersistenceHost _server;
    readonly AofState _state;
    readonly IReadOnlyList<string> _paths;
    readonly CommandBatch _batch = new();
    readonly ClientSession _client;
    readonly Stopwatch _elapsed = Stopwatch.StartNew();
    readonly Action<bool> _done;
    TimeSpan _nextProgressLog = ProgressLogInterval;
    int _fileIndex = -1;
    string _path = "";
    FileStream? _stream;
    /// <summary>Set while the current file's RDB preamble is read; then <see cref="_reader"/> takes over.</summary>
    RdbKeyLoader? _preamble;
    AofReader? _reader;
    long _loadedBefore;
    long _validBeforeMulti;
    long _commands;

    AofLoader(PersistenceHost server, AofState state, IReadOnlyList<string> paths, Action<bool> done) : base(server.Executor, SliceBudget)
    {
        _server = server;
        _state = state;
        _paths = paths;
        _done = done;
        _client = new ClientSession(null, server.Keyspace[0], server.Keyspace.NowMs) { IsAofLoader = true };
    }

    /// <summary>Starts loading <paramref name="paths"/> in order on the executor; <paramref name="done"/> gets whether the server may start.</summary>
    public static void Start(PersistenceHost server, AofState state, IReadOnlyList<string> paths, Action<bool> done)
    {
        long bytes = paths.Sum(path => new FileInfo(path).Length);
        state.Loading.Begin(bytes, heapBytes: bytes * HeapBytesPerFileByte);
#pragma warning disable CA2000 // the job owns itself: it disposes of its file when it finishes (Finish)
        new AofLoader(server, state, paths, done).Continue();
#pragma warning restore CA2000
    }

    bool LastFile => _fileIndex == _paths.Count - 1;

    protected override bool Slice(long deadline)
    {
        _server.Keyspace.NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (_fileIndex < 0 && !OpenNextFile()) return false;
        bool more = _preamble is not null ? ReadPreamble(deadline) : ReplayCommands(deadline);
        if (more) LogProgress();
        return more;
    }

    /// <summary>Opens the next file; false when loading ended with an error.</summary>
    bool OpenNextFile()
    {
        if (_stream is not null) _loadedBefore += _stream.Length;
        _stream?.Dispose();
        _path = _paths[++_fileIndex];
        try
        {
            _stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            if (!AofReader.StartsWithRdbPreamble(_stream))
            {
                _reader = new AofReader(_stream);
                return true;
            }
            _server.Logger.LogInformation("Reading RDB preamble from AOF file {Path}...", _path);
            _reader = null;
            _preamble = new RdbKeyLoader(_server, _state.RdbStats, _state.Loading, _stream, RdbLoadOptions.AofPreamble(_path, _loadedBefore));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Finish(false, $"Fatal error: can't open the append log file {_path} for reading: {e.Message}");
            return false;
        }
    }

    /// <summary>Adds the preamble's keys for one slice; true to go on (next slice, or the commands after the image).</summary>
    bool ReadPreamble(long deadline)
    {
        if (!_preamble!.Load(deadline, out bool finished)) return PreambleFailed(_preamble.Error!);
        if (!finished) return true;
        // The reader left the file right behind the image's checksum: the commands follow there.
        _preamble = null;
        _server.Logger.LogInformation("Reading the remaining AOF tail...");
        _reader = new AofReader(_stream!);
        return true;
    }

    /// <summary>A preamble that can't be read refuses the start whatever aof-load-truncated says: its keys can't be cut back to a valid prefix.</summary>
    bool PreambleFailed(string reason)
    {
        Finish(false, $"Error reading the RDB preamble of the AOF file {_path}, AOF loading aborted: {reason}");
        return false;
    }

    /// <summary>Replays commands for one slice; true to go on (next slice, or the next file).</summary>
    bool ReplayCommands(long deadline)
    {
        while (true)
        {
            _batch.Clear();
            var record = _reader!.Next(_batch);
            if (record != AofRecord.Command)
            {
                if (record == AofRecord.End && !_client.InMulti && !LastFile) return OpenNextFile();
                Finish(record);
                return false;
            }
            if (!Replay(_batch[0])) return false;
            if ((++_commands & (CheckEvery - 1)) == 0)
            {
                // Clients are only told -LOADING meanwhile, so the table grows at once, ahead of the
                // next commands, rather than by an incremental rehash running through the whole load
                // (each lookup meanwhile probing two tables): a tenth of a 1M-key AOF load's CPU time.
                _server.Keyspace.ReserveKeys(_client.Db.Index, 2 * CheckEvery);
                _state.Loading.LoadedBytes = _loadedBefore + _reader.Position;
                if (Expired(deadline)) return true;
            }
        }
    }

    bool Replay(ArgVector args)
    {
        var command = _server.Commands.Find(args[0]);
        if (command is not null && command.Subcommands is not null && args.Count >= 2)
            command = command.Subcommands.GetValueOrDefault(Encoding.Latin1.GetString(args[1]));
        if (command is null)
        {
            Finish(false, $"Unknown command '{Encoding.Latin1.GetString(args[0])}' reading the append only file {_path} at offset {_reader!.RecordStart}");
            return false;
        }
        if (command.Name == "multi") _validBeforeMulti = _reader!.RecordStart;
        if (_client.InMulti && command.Name != "exec")
        {
            _client.Queued.Add((command, args.Clone()));
        }
        else
        {
            try
            {
                _server.Executor.Call(command, args, _client);
            }
            catch (Exception e)
            {
                // A bug in a command, not in the file; still, a dataset missing a command must not serve.
                _server.Logger.LogError(e, "Unhandled exception replaying '{Command}' from the append only file", command.Name);
                Finish(false, $"Error replaying '{command.Name}' from the append only file {_path} at offset {_reader!.RecordStart}: {e.GetType().Name}: {e.Message}");
                return false;
            }
            _server.Propagation.EndUnit();
        }
        _client.Reply.Clear();
        return true;
    }

    void LogProgress()
    {
        if (_elapsed.Elapsed < _nextProgressLog) return;
        _nextProgressLog = _elapsed.Elapsed + ProgressLogInterval;
        _server.Logger.LogInformation("Loading AOF {Path}: {Percent}% ({Loaded} of {Total} bytes, {Commands} commands)",
            _path, _state.Loading.LoadedPercent.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), _state.Loading.LoadedBytes, _state.Loading.TotalBytes, _commands);
    }

    void Finish(AofRecord record)
    {
        if (record == AofRecord.End && !_client.InMulti)
        {
            Finish(true, null);
            return;
        }
        var reader = _reader!;
        if (record == AofRecord.Corrupt)
        {
            Finish(false, $"Bad file format reading the append only file {_path} at offset {reader.RecordStart}: {reader.Error}. Make a backup of your AOF file, then use miniredis-check-aof --fix <filename>");
            return;
        }
        // A torn last command, or a transaction without its EXEC: the file is cut back to the last
        // complete unit (an unfinished MULTI block is dropped whole).
        long validUpTo = _client.InMulti ? _validBeforeMulti : reader.RecordStart;
        var logger = _server.Logger;
        if (_client.InMulti) logger.LogWarning("Revert incomplete MULTI/EXEC transaction in AOF file {Path}", _path);
        _client.DiscardTransaction();
        // Files after this one were written later: cutting this one would lose the order.
        if (!LastFile)
        {
            Finish(false, $"Unexpected end of file reading the append only file {_path}, which is not the last file of the AOF (last complete command ends at offset {validUpTo})");
            return;
        }
        if (!_server.Config.AofLoadTruncated)
        {
            Finish(false, $"Unexpected end of file reading the append only file {_path} (last complete command ends at offset {validUpTo}). You can: 1) Make a backup of your AOF file, then use miniredis-check-aof --fix <filename>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.");
            return;
        }
        logger.LogWarning("!!! Warning: short read while loading the AOF file {Path}!!!", _path);
        logger.LogWarning("!!! Truncating the AOF {Path} at offset {Offset} !!!", _path, validUpTo);
        _stream!.Dispose();
        try
        {
            using (var file = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) file.SetLength(validUpTo);
        }
        catch (IOException e)
        {
            Finish(false, $"Error truncating the AOF file {_path}: {e.Message}");
            return;
        }
        logger.LogWarning("AOF {Path} loaded anyway because aof-load-truncated is enabled", _path);
        Finish(true, null);
    }

    public void Dispose() => _stream?.Dispose();

    void Finish(bool success, string? error)
    {
        Dispose();
        _server.Propagation.EndUnit();
        _state.Loading.End(success);
        if (success)
        {
            _server.Logger.LogInformation("DB loaded from append only file: {Seconds} seconds, {Keys} keys, {Commands} commands",
                _elapsed.Elapsed.TotalSeconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), _server.Keyspace.TotalKeys(), _commands);
        }
        else
        {
            _server.Logger.LogWarning("{Error}", error);
        }
        _done(success);
    }
}
