namespace MiniRedis.Tests.Support;

/// <summary>Real Redis and MiniRedis side by side, shared by one test class.</summary>
public class ServerPairFixture : IDisposable
{
    readonly Lazy<RealRedisProcess> _redis;
    readonly Lazy<MiniRedisProcess> _mini;

    public ServerPairFixture()
        : this([])
    {
    }

    /// <summary>Both servers started with the same configuration directives ("--name", "value", ...).</summary>
    protected ServerPairFixture(params string[] directives)
    {
        _redis = new(() => new RealRedisProcess(directives));
        _mini = new(() => new MiniRedisProcess(directives));
    }

    // Started on first use so a missing redis-server fails the tests with its own message.
    public RealRedisProcess Redis => _redis.Value;
    public MiniRedisProcess Mini => _mini.Value;

    public void Dispose()
    {
        if (_redis.IsValueCreated) _redis.Value.Dispose();
        if (_mini.IsValueCreated) _mini.Value.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>One MiniRedis server shared by one test class.</summary>
public sealed class MiniRedisFixture : IDisposable
{
    public MiniRedisProcess Server { get; } = new();

    public void Dispose() => Server.Dispose();
}
