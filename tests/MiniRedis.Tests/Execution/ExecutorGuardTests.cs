using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Execution;

/// <summary>Work posted to the executor is server code: a bug there must not end the process.</summary>
[Trait("Category", "Unit")]
public sealed class ExecutorGuardTests
{
    /// <summary>
    /// A replica's RDB sender read a closed file in work posted to the executor after a
    /// `redis-cli --rdb` transfer, and the exception ended the process. Posted actions and
    /// background slices now cost only themselves; commands keep being served.
    /// </summary>
    [Fact]
    public void An_exception_in_posted_work_or_a_background_slice_leaves_the_server_serving()
    {
        var server = InProcessClient.StartServer();
        try
        {
            var client = new InProcessClient(server);
            Assert.Equal("+OK\r\n", client.Run("SET k v"));
            server.Executor.Post(() => throw new ObjectDisposedException("bulk file"));
            var slice = server.Executor.InvokeAsync(() =>
            {
                server.Executor.RunAfterReplies(() => throw new InvalidOperationException("slice"));
                return true;
            });
            Assert.True(slice.Wait(TimeSpan.FromSeconds(30)));
            Assert.True(server.Executor.InvokeAsync(() => true).Wait(TimeSpan.FromSeconds(30)), "the executor stopped serving posted work");
            Assert.Equal("$1\r\nv\r\n", client.Run("GET k"));
        }
        finally
        {
            server.Stop();
        }
    }
}
