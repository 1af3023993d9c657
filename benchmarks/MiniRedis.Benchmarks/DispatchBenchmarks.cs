using System.Text;
using BenchmarkDotNet.Attributes;
using MiniRedis.Config;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Benchmarks;

/// <summary>
/// A parsed pipeline of GET/SET commands handed to a started server's executor the way a socket
/// thread hands it (Executor.Submit: the role taken, the round run inline, the AOF written at the
/// round's end), with the AOF off and on (appendfsync everysec). Results are per command: the
/// dispatch (lookup, ACL and the rest of ProcessCommand), the handlers, and the AOF append must
/// allocate nothing in steady state.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    const int Commands = 100;

    RedisServer? _server;
    ClientSession? _session;
    string? _dir;
    readonly CommandBatch _batch = new();
    // Every command of the batch answered: each SET's +OK and each GET's $3 xxx. A field, so waiting allocates no delegate.
    const int ReplyBytes = Commands / 2 * 14;
    readonly Func<bool> _answered;

    public DispatchBenchmarks() => _answered = () => _session!.Reply.Length >= ReplyBytes;

    [Params(false, true)]
    public bool Aof { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("miniredis-dispatch-").FullName;
        // No automatic rewrite: the AOF grows by ~500 MB a run, and a running rewrite copies each round's
        // records into a new array for its buffer (AofRewriteJob.Flush), which is not the steady state.
        string config = $"dir {_dir}\nsave \"\"\nappendonly {(Aof ? "yes" : "no")}\nappendfsync everysec\nauto-aof-rewrite-percentage 0";
        _server = new RedisServer(ServerConfig.Parse(config));
        _server.Start();
        var loaded = new TaskCompletionSource<bool>();
        _server.Persistence.LoadAtStart(loaded.SetResult);
        if (!loaded.Task.Wait(TimeSpan.FromSeconds(60)) || !loaded.Task.Result) throw new InvalidOperationException("the server did not load");
        _session = _server.Executor.InvokeAsync(() => new ClientSession(null, _server.Keyspace[0], _server.Keyspace.NowMs)).GetAwaiter().GetResult();
        for (int i = 0; i < Commands; i++)
        {
            string[] command = i % 2 == 0 ? ["SET", $"key:{i / 2:D12}", "xxx"] : ["GET", $"key:{i / 2:D12}"];
            _batch.BeginCommand();
            foreach (var arg in command) Encoding.ASCII.GetBytes(arg).CopyTo(_batch.AddArgument(arg.Length));
        }
        // The first rounds grow the reply buffer and the AOF writer's.
        for (int i = 0; i < 10; i++) RunPipeline();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _server?.Stop();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Commands)]
    public long RunPipeline()
    {
        _server!.Executor.Submit(_session!, _batch);
        // Submit runs the batch here unless the executor thread holds the role (its cron): then it runs there, soon.
        SpinWait.SpinUntil(_answered);
        long length = _session!.Reply.Length;
        _session.Reply.Clear();
        return length;
    }
}
