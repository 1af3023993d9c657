using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Persistence.Aof;

/// <summary>
/// Replays an AOF into the keyspace through the normal command machinery, as a client with no
/// connection (Redis's loadSingleAppendOnlyFile). Runs on the executor in slices of a few
/// milliseconds so connections are still served meanwhile (they get -LOADING).
/// </summary>
public sealed class AofLoader
{
    static readonly TimeSpan SliceBudget = TimeSpan.FromMilliseconds(10);
    static readonly TimeSpan ProgressLogInterval = TimeSpan.FromSeconds(2);

    readonly RedisServer _server;
    readonly AofState _state;
    readonly string _path;
    readonly AofReader _reader;
    readonly CommandBatch _batch = new();
    readonly ClientSession _client;
    readonly Stopwatch _elapsed = Stopwatch.StartNew();
    readonly Action<bool> _done;
    TimeSpan _nextProgressLog = ProgressLogInterval;
    long _validBeforeMulti;
    long _commands;

    AofLoader(RedisServer server, AofState state, string path, Action<bool> done)
    {
        _server = server;
        _state = state;
        _path = path;
        _done = done;
        _reader = new AofReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan));
        _client = new ClientSession(null, server.Keyspace[0], server.Keyspace.NowMs) { IsAofLoader = true };
    }

    /// <summary>Starts loading <paramref name="path"/> on the executor; <paramref name="done"/> gets whether the server may start.</summary>
    public static void Start(RedisServer server, AofState state, string path, Action<bool> done)
    {
        var loader = new AofLoader(server, state, path, done);
        state.BeginLoading(new FileInfo(path).Length);
        server.Executor.Post(loader.RunSlice);
    }

    void RunSlice()
    {
        var keyspace = _server.Keyspace;
        keyspace.NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (_commands == 0 && _reader.StartsWithRdbPreamble())
        {
            Finish(false, $"The AOF {_path} starts with an RDB preamble (aof-use-rdb-preamble), which this server cannot load yet. Load it in Redis and rewrite it with 'aof-use-rdb-preamble no', or start without it.");
            return;
        }
        long sliceEnd = Stopwatch.GetTimestamp() + (long)(SliceBudget.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            _batch.Clear();
            var record = _reader.Next(_batch);
            if (record != AofRecord.Command)
            {
                Finish(record);
                return;
            }
            if (!Replay(_batch[0])) return;
            if ((++_commands & 1023) == 0)
            {
                _state.LoadedBytes = _reader.Position;
                if (Stopwatch.GetTimestamp() > sliceEnd) break;
            }
        }
        LogProgress();
        _server.Executor.Post(RunSlice);
    }

    bool Replay(ArgVector args)
    {
        var command = _server.Commands.Find(args[0]);
        if (command is not null && command.Subcommands is not null && args.Count >= 2)
            command = command.Subcommands.GetValueOrDefault(Encoding.Latin1.GetString(args[1]));
        if (command is null)
        {
            Finish(false, $"Unknown command '{Encoding.Latin1.GetString(args[0])}' reading the append only file {_path} at offset {_reader.RecordStart}");
            return false;
        }
        if (command.Name == "multi") _validBeforeMulti = _reader.RecordStart;
        if (_client.InMulti && command.Name != "exec")
        {
            _client.Queued.Add((command, args.Clone()));
        }
        else
        {
            _server.Executor.Call(command, args, _client);
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
            _path, _state.LoadedPercent.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), _state.LoadedBytes, _state.LoadingTotalBytes, _commands);
    }

    void Finish(AofRecord record)
    {
        if (record == AofRecord.End && !_client.InMulti)
        {
            Finish(true, null);
            return;
        }
        if (record == AofRecord.Corrupt)
        {
            Finish(false, $"Bad file format reading the append only file {_path} at offset {_reader.RecordStart}: {_reader.Error}. Make a backup of your AOF file, then use miniredis-check-aof --fix <filename>");
            return;
        }
        // A torn last command, or a transaction without its EXEC: the file is cut back to the last
        // complete unit (an unfinished MULTI block is dropped whole).
        long validUpTo = _client.InMulti ? _validBeforeMulti : _reader.RecordStart;
        var logger = _server.Logger;
        if (_client.InMulti) logger.LogWarning("Revert incomplete MULTI/EXEC transaction in AOF file {Path}", _path);
        _client.DiscardTransaction();
        if (!_server.Config.AofLoadTruncated)
        {
            Finish(false, $"Unexpected end of file reading the append only file {_path} (last complete command ends at offset {validUpTo}). You can: 1) Make a backup of your AOF file, then use miniredis-check-aof --fix <filename>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.");
            return;
        }
        logger.LogWarning("!!! Warning: short read while loading the AOF file {Path}!!!", _path);
        logger.LogWarning("!!! Truncating the AOF {Path} at offset {Offset} !!!", _path, validUpTo);
        _reader.Dispose();
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

    void Finish(bool success, string? error)
    {
        _reader.Dispose();
        _server.Propagation.EndUnit();
        _state.EndLoading();
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
