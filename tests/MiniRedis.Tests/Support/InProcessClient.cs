using System.Text;
using MiniRedis.Config;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Tests.Support;

/// <summary>
/// A client with no socket: runs command lines on a started server's executor, exactly as a
/// connection's batch would be processed, and returns the raw RESP reply.
/// </summary>
public sealed class InProcessClient
{
    readonly RedisServer _server;
    readonly ClientSession _session;

    public InProcessClient(RedisServer server)
    {
        _server = server;
        _session = server.Executor.InvokeAsync(() => new ClientSession(null, server.Keyspace[0], server.Keyspace.NowMs)).GetAwaiter().GetResult();
    }

    public ClientSession Session => _session;

    /// <summary>A started server with the default config but no save points (nothing written to disk), for one test.</summary>
    public static RedisServer StartServer(ServerConfig? config = null)
    {
        var server = new RedisServer(config ?? ServerConfig.Parse("save \"\""));
        server.Start();
        return server;
    }

    /// <summary>Runs a redis-cli style line (sdssplitargs quoting, so "\x00" gives binary bytes); the reply as Latin-1 text.</summary>
    public string Run(string line) => Encoding.Latin1.GetString(Execute(Parse(line)));

    /// <summary>
    /// Runs <paramref name="arrange"/> and then the lines in one executor turn, so no cron (active
    /// expiry, timeouts) runs in between; the replies as Latin-1 text.
    /// </summary>
    public string[] RunTogether(Action arrange, params string[] lines) => _server.Executor.InvokeAsync(() =>
    {
        arrange();
        return lines.Select(line => Encoding.Latin1.GetString(ProcessOnExecutor(Parse(line)))).ToArray();
    }).GetAwaiter().GetResult();

    /// <summary>
    /// Creates <paramref name="keys"/> (string "v", in the selected database) with a TTL already past,
    /// then runs the lines in the same turn: they meet expired keys that nothing has reclaimed yet.
    /// </summary>
    public string[] RunAfterExpiring(string[] keys, params string[] lines) => RunTogether(() =>
    {
        long past = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1000;
        foreach (var key in keys) _session.Db.SetExpire(_session.Db.SetString(Encoding.Latin1.GetBytes(key), "v"u8), past);
    }, lines);

    static CommandBatch Parse(string line)
    {
        var batch = new CommandBatch();
        batch.BeginCommand();
        if (!ArgSplitter.Split(Encoding.Latin1.GetBytes(line), batch)) throw new FormatException($"Unbalanced quotes: {line}");
        return batch;
    }

    /// <summary>Runs one command given as raw arguments; the raw reply bytes.</summary>
    public byte[] Run(params byte[][] args)
    {
        var batch = new CommandBatch();
        batch.BeginCommand();
        foreach (var arg in args) arg.CopyTo(batch.AddArgument(arg.Length));
        return Execute(batch);
    }

    byte[] Execute(CommandBatch batch) => _server.Executor.InvokeAsync(() => ProcessOnExecutor(batch)).GetAwaiter().GetResult();

    byte[] ProcessOnExecutor(CommandBatch batch)
    {
        _server.Executor.ProcessCommand(_session, batch[0]);
        _server.Propagation.FlushSinks();
        var reply = _session.Reply.ToArray();
        _session.Reply.Clear();
        return reply;
    }

    /// <summary>Runs code on the executor thread (to inspect or arrange server state safely).</summary>
    public T OnExecutor<T>(Func<T> function) => _server.Executor.InvokeAsync(function).GetAwaiter().GetResult();
}
