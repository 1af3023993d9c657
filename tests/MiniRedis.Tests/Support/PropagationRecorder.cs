using System.Text;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Tests.Support;

/// <summary>
/// An in-process server whose propagated records (what the AOF would log) are captured as "db: args" text,
/// for asserting a command's effects against what real Redis wrote to its AOF.
/// </summary>
public sealed class PropagationRecorder : IPropagationSink, IDisposable
{
    readonly List<string> _records = [];

    public PropagationRecorder()
    {
        Client = new InProcessClient(Server);
        Server.Propagation.AddSink(this);
    }

    public RedisServer Server { get; } = InProcessClient.StartServer();

    public InProcessClient Client { get; }

    /// <summary>The records one command produced.</summary>
    public List<string> Logged(string command) => Logged(() => Client.Run(command));

    /// <summary>The records whatever <paramref name="run"/> does produced.</summary>
    public List<string> Logged(Action run)
    {
        _records.Clear();
        run();
        return [.. _records];
    }

    void IPropagationSink.Append(int db, ArgVector args)
    {
        var parts = new string[args.Count];
        for (int i = 0; i < args.Count; i++) parts[i] = Encoding.Latin1.GetString(args[i]);
        _records.Add($"{db}: {string.Join(' ', parts)}");
    }

    void IPropagationSink.Flush()
    {
    }

    public void Dispose() => Server.Stop();
}
