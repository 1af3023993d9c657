using MiniRedis.Config;
using MiniRedis.Execution;
using MiniRedis.Notifications;
using MiniRedis.Persistence.Aof;
using MiniRedis.Protocol;

namespace MiniRedis.Tests.Notifications;

/// <summary>
/// Replaying an AOF at start runs the logged commands, but, as in Redis, announces no keyspace event and
/// shows no command to monitors: a subscriber and a monitor registered before the load get nothing
/// from it, though both get output from the same server once it is loaded.
/// </summary>
[Trait("Category", "Unit")]
public sealed class AofLoadingQuietTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("notify-aof-").FullName;
    readonly RedisServer _server;

    public AofLoadingQuietTests()
    {
        _server = new RedisServer(ServerConfig.Parse($"save \"\"\nnotify-keyspace-events KEAn\ndir {_directory}"));
        _server.Start();
    }

    public void Dispose()
    {
        _server.Stop();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Loading_an_aof_announces_nothing_and_feeds_no_monitor()
    {
        var path = Path.Combine(_directory, "appendonly.aof");
        var file = new MemoryStream();
        foreach (var command in new[] { new[] { "SET", "a", "1" }, ["RPUSH", "l", "x"], ["EXPIRE", "l", "100"], ["DEL", "a"] })
            file.Write(Support.RespConnection.EncodeCommand(command.Select(System.Text.Encoding.ASCII.GetBytes).ToArray()));
        await File.WriteAllBytesAsync(path, file.ToArray());

        var (subscriber, monitor) = await _server.Executor.InvokeAsync(() =>
        {
            var subscriber = new ClientSession(null, _server.Keyspace[0], 0);
            _server.PubSub.SubscribePattern(subscriber, "*"u8.ToArray());
            var monitor = new ClientSession(null, _server.Keyspace[0], 0);
            _server.Monitors.Add(monitor);
            return (subscriber, monitor);
        });
        var loaded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _server.Executor.InvokeAsync(() =>
        {
            AofLoader.Start(_server.Persistence.Host, _server.Aof, [path], ok => loaded.SetResult(ok));
            return 0;
        });
        Assert.True(await loaded.Task.WaitAsync(TimeSpan.FromSeconds(30)));

        var (keys, subscriberBytes, monitorBytes) = await _server.Executor.InvokeAsync(() => (_server.Keyspace[0].Count, subscriber.Reply.Length, monitor.Reply.Length));
        Assert.Equal(1, keys);
        Assert.Equal(0, subscriberBytes);
        Assert.Equal(0, monitorBytes);

        // The same subscriber and monitor do get output once the server is loaded.
        var (afterSubscriber, afterMonitor) = await _server.Executor.InvokeAsync(() =>
        {
            _server.Events.Notify(NotifyClass.Generic, "del"u8, "l"u8, 0);
            _server.Monitors.Feed(subscriber, 0, ArgVector.FromStrings("DEL", "l"), 0);
            return (subscriber.Reply.Length, monitor.Reply.Length);
        });
        Assert.True(afterSubscriber > 0);
        Assert.True(afterMonitor > 0);
    }
}
