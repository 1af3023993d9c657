using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Execution;

/// <summary>How the executor stops: for good, and as often as its owners ask.</summary>
public sealed class ExecutorStopTests
{
    /// <summary>
    /// A test's own Stop and then its cleanup's: once the executor became a role a thread takes, the
    /// second Stop waited forever for the role the first had taken for good (RdbPreambleLoadingTests
    /// hung until the run's blame timeout).
    /// </summary>
    [Fact]
    public void A_stopped_server_stops_again()
    {
        var server = InProcessClient.StartServer();
        Assert.Equal("+PONG\r\n", new InProcessClient(server).Run("PING"));
        server.Stop();
        var again = Task.Run(server.Stop);
        Assert.True(again.Wait(TimeSpan.FromSeconds(30)), "the second Stop did not return");
    }
}
