using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Io;

namespace MiniRedis.Tests.Support;

/// <summary>Keeps every formatted log line (with its exception and stack, when one is logged), for asserting what a server logged.</summary>
public sealed class CollectingLogger : ILogger
{
    public List<string> Lines { get; } = [];
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var line = formatter(state, exception);
        lock (Lines) Lines.Add(exception is null ? line : line + Environment.NewLine + exception);
    }
}

/// <summary>An in-process server started the way the host starts it (the same load order), with the AOF on.</summary>
public static class AofBoot
{
    /// <summary>
    /// Starts a server with <c>appendonly yes</c> in <paramref name="dir"/> (on <paramref name="disk"/>, and
    /// stopping through <paramref name="fatal"/>, when given) and waits for its AOF load; whether it may
    /// start. The caller stops the server.
    /// </summary>
    public static (RedisServer Server, bool Started, CollectingLogger Log) Start(string dir, string extraConfig = "", IDisk? disk = null, Action<string>? fatal = null)
    {
        var log = new CollectingLogger();
        var server = new RedisServer(ServerConfig.Parse($"dir {dir}\nappendonly yes\n{extraConfig}"), log) { Disk = disk ?? Disk.Default };
        if (fatal is not null) server.Fatal = fatal;
        server.Start();
        var done = new TaskCompletionSource<bool>();
        server.Persistence.LoadAtStart(done.SetResult);
        return (server, done.Task.Wait(TimeSpan.FromSeconds(60)) && done.Task.Result, log);
    }
}

/// <summary>A test class that boots in-process servers on its own directory; they are stopped and the directory removed after each test.</summary>
public abstract class AofBootTests : IDisposable
{
    protected AofBootTests(string prefix) => Dir = Directory.CreateTempSubdirectory(prefix).FullName;

    protected string Dir { get; }

    /// <summary>Servers to stop after the test.</summary>
    protected List<RedisServer> Servers { get; } = [];

    protected string AofPath => Path.Combine(Dir, "appendonly.aof");

    /// <summary>Starts a server on the test directory and waits for its AOF load; whether it may start.</summary>
    protected (RedisServer Server, bool Started, CollectingLogger Log) Boot(string extraConfig = "", IDisk? disk = null, Action<string>? fatal = null)
    {
        var booted = AofBoot.Start(Dir, extraConfig, disk, fatal);
        Servers.Add(booted.Server);
        return booted;
    }

    protected static byte[] Command(params string[] args) =>
        RespConnection.EncodeCommand([.. args.Select(System.Text.Encoding.Latin1.GetBytes)]);

    public void Dispose()
    {
        foreach (var server in Servers) server.Stop();
        Directory.Delete(Dir, true);
        GC.SuppressFinalize(this);
    }
}
