using System.Collections.Concurrent;
using System.Text;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Tests.Support;

/// <summary>
/// A client without a socket whose commands go through the executor's real rounds (run, group
/// commit, send), so the moment its replies leave is recorded as "reply" in a <see cref="RecordingDisk"/>'s
/// event list, between the disk operations (or as its <c>label</c>, to tell several clients' sends apart).
/// </summary>
public sealed class RecordingConnection : IClientConnection
{
    readonly RedisServer _server;
    readonly RecordingDisk _disk;
    readonly ClientSession _session;
    readonly BlockingCollection<string> _replies = [];
    readonly string _label;

    public RecordingConnection(RedisServer server, RecordingDisk disk, string label = "reply")
    {
        _server = server;
        _disk = disk;
        _label = label;
        _session = server.NewSession(this);
        server.Executor.InvokeAsync(() =>
        {
            server.Connect(_session);
            return true;
        }).GetAwaiter().GetResult();
    }

    /// <summary>Sends the commands as one pipelined batch and returns their replies (RESP, Latin-1), in order.</summary>
    public string[] Pipeline(params string[][] commands)
    {
        var batch = new CommandBatch();
        foreach (var command in commands)
        {
            batch.BeginCommand();
            foreach (var arg in command) Encoding.Latin1.GetBytes(arg).CopyTo(batch.AddArgument(arg.Length));
        }
        _server.Executor.Submit(_session, batch);
        // A batch's replies leave together, at the end of the round that ran it.
        return SplitReplies(TakeSent(), commands.Length);
    }

    /// <summary>What the next send carried (RESP, Latin-1): a batch's replies, or messages other clients' commands wrote.</summary>
    public string TakeSent() => _replies.TryTake(out var sent, Wait.DefaultLimit) ? sent : throw new TimeoutException("nothing sent");

    public string Call(params string[] command) => Pipeline(command)[0];

    public ClientSession Session => _session;

    /// <summary>Flat replies only (status, error, integer, bulk): enough for the commands these tests send.</summary>
    static string[] SplitReplies(string text, int count)
    {
        var result = new List<string>();
        int at = 0;
        while (at < text.Length)
        {
            int end = text.IndexOf("\r\n", at, StringComparison.Ordinal) + 2;
            if (text[at] == '$' && text[at + 1] != '-') end += int.Parse(text[(at + 1)..(end - 2)]) + 2;
            result.Add(text[at..end]);
            at = end;
        }
        if (result.Count != count) throw new InvalidOperationException($"expected {count} replies in one send, got: {text}");
        return [.. result];
    }

    public void SendReplies(int completedBatches)
    {
        _disk.Record(_label);
        _replies.Add(Encoding.Latin1.GetString(_session.Reply.ToArray()));
        _session.Reply.Clear();
    }

    public string RemoteAddress => "127.0.0.1:1";
    public string LocalAddress => "127.0.0.1:6379";
    public bool IsUnixSocket => false;
    public long PendingOutputBytes => 0;
    public int PendingOutputSegments => 0;
    public long QueryBufferBytes => 0;
    public long Fd => -1;
    public long BufferedBytes => 0;
    public void CheckOutputLimit() { }
    public void Close() { }
    public void ReleaseIdleBuffers() { }
}
