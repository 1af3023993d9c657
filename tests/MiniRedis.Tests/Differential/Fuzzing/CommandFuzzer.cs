using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential.Fuzzing;

/// <summary>A run's size and seed: FUZZ_SEED and FUZZ_COMMANDS override the defaults.</summary>
/// <param name="HistoryLines">How many commands before a difference its report shows (FUZZ_HISTORY; up to all since the data was rebuilt).</param>
public sealed record FuzzOptions(int Seed, long Commands, int HistoryLines = 12, int BatchSize = 100, int BatchesPerDataset = 10)
{
    public static FuzzOptions FromEnvironment(int seed, long commands) => new(
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : seed,
        long.TryParse(Environment.GetEnvironmentVariable("FUZZ_COMMANDS"), CultureInfo.InvariantCulture, out var n) ? n : commands,
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_HISTORY"), CultureInfo.InvariantCulture, out var h) ? h : 12);
}

/// <summary>All the times one (command, kind) differed, with the first case as a reproduction.</summary>
public sealed class DifferenceTally(string command, string kind, KnownDifference? known, string example)
{
    public string Command { get; } = command;
    public string Kind { get; } = kind;
    public KnownDifference? Known { get; } = known;
    public string Example { get; } = example;
    public long Count { get; set; } = 1;
}

public sealed class FuzzResult
{
    public required FuzzOptions Options { get; init; }
    public long Sent { get; set; }
    public long Compared { get; set; }
    public TimeSpan Elapsed { get; set; }
    /// <summary>A crash or hang of MiniRedis, with the commands that led to it; the run stops there.</summary>
    public string? Failure { get; set; }
    public Dictionary<(string Command, string Kind), DifferenceTally> Differences { get; } = [];
    public Dictionary<string, long> SentPerCommand { get; } = [];
    public List<string> NotServed { get; } = [];
    /// <summary>The commands (and subcommands) the run draws from.</summary>
    public List<string> Fuzzable { get; } = [];

    public List<string> NotFuzzed() => Fuzzable.Where(c => !SentPerCommand.ContainsKey(c)).ToList();

    public IEnumerable<DifferenceTally> Unknown => Differences.Values.Where(d => d.Known is null);

    public string Report()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"seed {Options.Seed}: {Sent} commands sent, {Compared} compared, in {Elapsed.TotalSeconds:F1} s; {SentPerCommand.Count} commands fuzzed");
        text.AppendLine(CultureInfo.InvariantCulture, $"not served by MiniRedis (not fuzzed): {string.Join(' ', NotServed)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"excluded: {string.Join("; ", FuzzPolicy.Excluded.Select(e => e.Key + " (" + e.Value + ")"))}");
        if (Failure is not null) text.AppendLine("FAILURE: " + Failure);
        foreach (var d in Differences.Values.OrderBy(d => d.Known is not null).ThenBy(d => d.Command, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{(d.Known is null ? "DIFFERENCE" : "known")} {d.Command} / {d.Kind}: {d.Count}x{(d.Known is null ? "" : " (" + d.Known.Note + ")")}");
            text.AppendLine(d.Example);
        }
        return text.ToString();
    }
}

/// <summary>
/// The differential command fuzzer: random argument vectors for every command MiniRedis serves,
/// sent in pipelined batches to real Redis and MiniRedis holding the same data, reply by reply
/// compared (error or not, error text, reply type, and the bytes where the command is
/// deterministic). A difference that may have made the datasets diverge ends the batch, and both
/// servers are rebuilt from the same starting data, as they are every few batches anyway. MiniRedis
/// must answer PING after every batch: a closed connection is a crash, a silent one a hang.
/// </summary>
public sealed class CommandFuzzer
{
    readonly ServerPairFixture _servers;
    readonly FuzzOptions _options;
    readonly FuzzResult _result;
    readonly Random _random;
    readonly ArgumentGenerator _generator;
    readonly List<CommandSpec> _commands;
    readonly Dictionary<string, CommandSpec> _bySubcommand;
    readonly List<byte[][]> _configDefaults = [];
    /// <summary>Everything sent since the data was last rebuilt: the reproduction of a difference.</summary>
    readonly List<byte[][]> _sinceRebuild = [];
    RespConnection _redis = null!;
    RespConnection _mini = null!;
    /// <summary>A connection of its own for the liveness PING, outside any transaction the fuzzed one is in.</summary>
    RespConnection _probe = null!;
    int _untilTransactionEnd = -1;
    /// <summary>The commands queued in the open MULTI (per Redis's replies), so EXEC's replies are judged as theirs.</summary>
    List<(CommandSpec Spec, byte[][] Args)>? _queued;
    bool _expiredKeysMayLinger;

    CommandFuzzer(ServerPairFixture servers, FuzzOptions options)
    {
        _servers = servers;
        _options = options;
        _result = new FuzzResult { Options = options };
        _random = new Random(options.Seed);
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        var redisNames = CommandSpecs.Names(redis);
        var served = CommandSpecs.Names(mini);
        _result.NotServed.AddRange(redisNames.Except(served).Order(StringComparer.Ordinal));
        _commands = CommandSpecs.Read(mini).Where(c => !FuzzPolicy.Excluded.ContainsKey(c.Name) && !FuzzPolicy.Excluded.ContainsKey(c.Words[0])).ToList();
        _bySubcommand = _commands.Where(c => c.Words.Count == 2).ToDictionary(c => c.Name);
        _result.Fuzzable.AddRange(_commands.Select(c => c.Name));
        _generator = new ArgumentGenerator(_random, _commands);
        foreach (var parameter in FuzzPolicy.ConfigParameters)
        {
            var pair = Call(redis, "CONFIG", "GET", parameter).Children;
            if (pair.Count == 2) _configDefaults.Add([.. Words("CONFIG SET"), Encoding.Latin1.GetBytes(parameter), CommandSpecs.Payload(pair[1]).ToArray()]);
        }
    }

    public static FuzzResult Run(ServerPairFixture servers, FuzzOptions options)
    {
        var fuzzer = new CommandFuzzer(servers, options);
        var clock = Stopwatch.StartNew();
        try
        {
            fuzzer.Loop();
        }
        finally
        {
            fuzzer._redis?.Dispose();
            fuzzer._mini?.Dispose();
            fuzzer._probe?.Dispose();
            fuzzer._result.Elapsed = clock.Elapsed;
        }
        return fuzzer._result;
    }

    void Loop()
    {
        Rebuild();
        int batchesOnDataset = 0;
        while (_result.Sent < _options.Commands && _result.Failure is null)
        {
            var batch = NextBatch();
            var (redisReplies, miniReplies) = Exchange(batch);
            if (miniReplies is null) return;
            _result.Sent += batch.Count;
            bool rebuild = Compare(batch, redisReplies, miniReplies) || ++batchesOnDataset >= _options.BatchesPerDataset;
            if (!Alive()) return;
            if (rebuild)
            {
                Rebuild();
                batchesOnDataset = 0;
            }
        }
    }

    List<(CommandSpec Spec, byte[][] Args)> NextBatch()
    {
        var batch = new List<(CommandSpec, byte[][])>(_options.BatchSize);
        while (batch.Count < _options.BatchSize && _result.Sent + batch.Count < _options.Commands)
        {
            var (spec, args) = NextCommand();
            batch.Add((spec, args));
            _result.SentPerCommand[spec.Name] = _result.SentPerCommand.GetValueOrDefault(spec.Name) + 1;
            // What follows a random pick would compare two different datasets.
            if (FuzzPolicy.IsRandomWrite(spec.Name)) break;
        }
        return batch;
    }

    (CommandSpec, byte[][]) NextCommand()
    {
        // A MULTI gets its EXEC (or DISCARD) a few commands later, or everything after it just queues.
        if (_untilTransactionEnd >= 0 && _untilTransactionEnd-- == 0)
        {
            string endName = _random.Next(5) == 0 ? "discard" : "exec";
            var end = _commands.First(c => c.Name == endName);
            return (end, _generator.Build(end).ToArray());
        }
        while (true)
        {
            var spec = _generator.PickCommand();
            var args = _generator.Build(spec);
            if (!FuzzPolicy.IsSafe(spec.Name, args)) continue;
            if (FuzzPolicy.Known.Any(k => k.Skip && k.Command == spec.Name && k.Matches(new FuzzCase(args, "", "", [])))) continue;
            if (spec.Name == "multi") _untilTransactionEnd = 1 + _random.Next(6);
            return (spec, [.. args]);
        }
    }

    /// <summary>Sends the batch to both servers at once and reads all replies; null replies from MiniRedis after a crash or hang (recorded).</summary>
    (RespNode[] Redis, RespNode[]? Mini) Exchange(List<(CommandSpec Spec, byte[][] Args)> batch)
    {
        var payload = new MemoryStream();
        foreach (var (_, args) in batch) payload.Write(RespConnection.EncodeCommand(args));
        var bytes = payload.ToArray();
        var redis = Task.Run(() => SendAndRead(_redis, bytes, batch.Count));
        try
        {
            var mini = SendAndRead(_mini, bytes, batch.Count);
            return (redis.GetAwaiter().GetResult(), mini);
        }
        catch (Exception e) when (e is IOException or TimeoutException or SocketException or AggregateException)
        {
            _result.Failure = $"{(e is TimeoutException ? "hang (no reply within 10 s)" : _servers.Mini.HasExited ? "crash (MiniRedis exited)" : "connection lost")}: {e.Message}\n"
                + Reproduction(batch.Select(b => b.Args)) + "\nMiniRedis output (tail):\n" + Tail(_servers.Mini.Output);
            return (null!, null);
        }
    }

    static RespNode[] SendAndRead(RespConnection connection, byte[] payload, int count)
    {
        // Sent beside the reads: a server that stops reading while its replies wait must not deadlock us.
        var send = Task.Run(() => connection.Send(payload));
        var replies = new RespNode[count];
        for (int i = 0; i < count; i++) replies[i] = connection.ReadReply();
        send.GetAwaiter().GetResult();
        return replies;
    }

    /// <summary>Compares the replies in order; true when the datasets may have diverged (the rest of the batch is not judged).</summary>
    bool Compare(List<(CommandSpec Spec, byte[][] Args)> batch, RespNode[] redis, RespNode[] mini)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            var (spec, args) = batch[i];
            _sinceRebuild.Add(args);
            _result.Compared++;
            bool diverged;
            if (spec.Name == "exec" && _queued is { } queued && redis[i].Type == (byte)'*' && mini[i].Type == (byte)'*'
                && redis[i].Children.Count == queued.Count && mini[i].Children.Count == queued.Count)
            {
                // Each queued command's reply is judged as that command's own.
                diverged = false;
                for (int q = 0; q < queued.Count && !diverged; q++)
                    diverged = Judge(queued[q].Spec, queued[q].Args, redis[i].Children[q], mini[i].Children[q]) || FuzzPolicy.IsRandomWrite(queued[q].Spec.Name);
            }
            else diverged = Judge(spec, args, redis[i], mini[i]) || (FuzzPolicy.IsRandomWrite(spec.Name) && _queued is null);
            if (diverged) return true;

            if (spec.Name == "multi" && IsSimple(redis[i], "OK")) _queued = [];
            else if (_queued is not null && IsSimple(redis[i], "QUEUED")) _queued.Add((spec, args));
            else if (spec.Name is "exec" or "discard" or "reset") _queued = null;
        }
        return false;
    }

    static bool IsSimple(RespNode node, string text) => node.Type == (byte)'+' && CommandSpecs.Text(node) == text;

    /// <summary>Records a difference, if any; true when it may have left the datasets different.</summary>
    bool Judge(CommandSpec spec, byte[][] args, RespNode redis, RespNode mini)
    {
        // A container sent alone may have had a subcommand put after it ("CLIENT" + "list"): judge it as that one.
        if (spec.Words.Count == 1 && args.Length > 1
            && _bySubcommand.TryGetValue(spec.Name + "|" + Encoding.Latin1.GetString(args[1]).ToLowerInvariant(), out var sub))
            spec = sub;
        _expiredKeysMayLinger |= FuzzPolicy.LeavesExpiredKey(spec.Name, args);
        string? kind = Difference(spec, args, redis, mini);
        if (kind is null) return false;
        string redisText = redis.ToString(), miniText = mini.ToString();
        var fuzzCase = new FuzzCase(args, redisText, miniText, _sinceRebuild);
        var known = FuzzPolicy.Known.FirstOrDefault(k => (k.Command == spec.Name || k.Command == "*") && k.Matches(fuzzCase));
        var key = (spec.Name, kind);
        if (_result.Differences.TryGetValue(key, out var tally)) tally.Count++;
        else
        {
            _result.Differences[key] = new DifferenceTally(spec.Name, kind, known,
                Reproduction(_sinceRebuild.TakeLast(_options.HistoryLines)) + $"\n    redis:     {Clip(redisText)}\n    miniredis: {Clip(miniText)}");
        }
        // Two errors changed nothing on either side, nor did a read.
        return kind != "error text" && spec.MayChangeState;
    }

    string? Difference(CommandSpec spec, byte[][] args, RespNode redis, RespNode mini)
    {
        bool redisError = redis.Type is (byte)'-' or (byte)'!', miniError = mini.Type is (byte)'-' or (byte)'!';
        if (redisError != miniError) return "error vs reply";
        if (redisError) return redis.Raw.AsSpan().SequenceEqual(mini.Raw) ? null : "error text";
        if (redis.Type != mini.Type || IsNull(redis) != IsNull(mini)) return "reply type";
        var comparison = FuzzPolicy.ComparisonFor(spec.Name, args, _expiredKeysMayLinger);
        if (comparison == FuzzComparison.Exact) return redis.Raw.AsSpan().SequenceEqual(mini.Raw) ? null : "reply content";
        // A scan resumed at a cursor, or not finished in one call on either side, walks a hash table
        // (of its own size and hash order, or not at all: it may answer everything at once).
        if (comparison == FuzzComparison.Scan
            && (Encoding.Latin1.GetString(args[spec.Name == "scan" ? 1 : 2]) != "0" || Canonical(comparison, redis) == "not done" || Canonical(comparison, mini) == "not done"))
            return null;
        return Canonical(comparison, redis) == Canonical(comparison, mini) ? null : "reply content";
    }

    static bool IsNull(RespNode node) => node.Type == (byte)'_' || (node.Type is (byte)'$' or (byte)'*' && node.Raw.AsSpan(1).StartsWith("-1"u8));

    static string Canonical(FuzzComparison comparison, RespNode node) => comparison switch
    {
        FuzzComparison.Sorted => CorpusLine.SortedForm(node),
        FuzzComparison.Shape => CorpusLine.ShapeForm(node),
        FuzzComparison.TopType => ((char)node.Type).ToString(),
        FuzzComparison.Sign when node.Type == (byte)':' => Math.Sign(long.Parse(CommandSpecs.Text(node), CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture),
        FuzzComparison.Scan when node.Children.Count == 2 && CommandSpecs.Text(node.Children[0]) == "0" => "done " + CorpusLine.SortedForm(node.Children[1]),
        FuzzComparison.Scan => "not done",
        _ => node.ToString(),
    };

    bool Alive()
    {
        try
        {
            var pong = Call(_probe, "PING");
            if (pong.Type is (byte)'+' or (byte)'$' or (byte)'*' or (byte)'>') return true;
            _result.Failure = "MiniRedis answered PING with " + pong;
        }
        catch (Exception e) when (e is IOException or TimeoutException or SocketException)
        {
            _result.Failure = $"MiniRedis did not answer PING after the batch ({(_servers.Mini.HasExited ? "exited" : e.Message)})\n"
                + Reproduction(_sinceRebuild.TakeLast(_options.HistoryLines)) + "\nMiniRedis output (tail):\n" + Tail(_servers.Mini.Output);
        }
        return false;
    }

    /// <summary>Fresh connections (RESP2, db 0, no transaction) and the starting data, identical on both servers.</summary>
    void Rebuild()
    {
        _redis?.Dispose();
        _mini?.Dispose();
        _probe?.Dispose();
        _redis = RespConnection.Open(_servers.Redis.Port);
        _mini = RespConnection.Open(_servers.Mini.Port);
        _probe = RespConnection.Open(_servers.Mini.Port);
        _sinceRebuild.Clear();
        _untilTransactionEnd = -1;
        _queued = null;
        _expiredKeysMayLinger = false;
        var setup = new List<byte[][]> { Words("FLUSHALL") };
        setup.AddRange(_configDefaults);
        setup.AddRange(FuzzDataset.Commands());
        var payload = new MemoryStream();
        foreach (var args in setup) payload.Write(RespConnection.EncodeCommand(args));
        var redis = SendAndRead(_redis, payload.ToArray(), setup.Count);
        var mini = SendAndRead(_mini, payload.ToArray(), setup.Count);
        for (int i = 0; i < setup.Count; i++)
        {
            if (!redis[i].Raw.AsSpan().SequenceEqual(mini[i].Raw) || redis[i].Type == (byte)'-')
                throw new InvalidOperationException($"Preparing the data differs: {Reproduction([setup[i]])} -> redis {redis[i]}, miniredis {mini[i]}");
        }
    }

    static RespNode Call(RespConnection connection, params string[] words)
    {
        connection.Send(RespConnection.EncodeCommand(Words(words)));
        return connection.ReadReply();
    }

    static byte[][] Words(params string[] words) => [.. words.SelectMany(w => w.Split(' ')).Select(Encoding.Latin1.GetBytes)];

    /// <summary>Commands as corpus lines (redis-cli quoting), after the starting data of <see cref="FuzzDataset"/>.</summary>
    static string Reproduction(IEnumerable<byte[][]> commands) =>
        string.Join('\n', commands.Select(args => "    " + string.Join(' ', args.Select(Printable))));

    /// <summary>An argument in redis-cli quoting; a long run of one byte (the generator's long strings) is shortened for reading.</summary>
    static string Printable(byte[] arg) =>
        arg.Length > 64 && arg.AsSpan().IndexOfAnyExcept(arg[0]) < 0 ? $"<{arg.Length} x {RespConnection.Escape(arg.AsSpan(0, 1))}>" : RespConnection.Escape(arg);

    static string Clip(string text) => text.Length <= 400 ? text : text[..400] + "...";

    static string Tail(string output) => string.Join('\n', output.Split('\n').TakeLast(30));
}
