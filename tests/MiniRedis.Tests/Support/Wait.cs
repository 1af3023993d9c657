using System.Text;

namespace MiniRedis.Tests.Support;

/// <summary>Waits on observable state instead of sleeping a fixed time.</summary>
public static class Wait
{
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="condition"/> until it holds; false when <paramref name="limit"/> passed first.</summary>
    public static bool Until(Func<bool> condition, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? DefaultLimit);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(10);
        }
        return true;
    }

    /// <summary>INFO clients' blocked_clients, asked on <paramref name="connection"/>.</summary>
    public static int BlockedClients(RespConnection connection)
    {
        return (int)connection.InfoNumber("clients", "blocked_clients");
    }

    /// <summary>Waits until the server counts <paramref name="count"/> blocked clients, so the next step happens after they blocked.</summary>
    public static void ForBlockedClients(RespConnection connection, int count)
    {
        if (!Until(() => BlockedClients(connection) == count, TimeSpan.FromSeconds(10)))
            throw new TimeoutException($"expected {count} blocked clients, have {BlockedClients(connection)}");
    }

    public static int BlockedClients(ServerProcess server)
    {
        using var connection = server.Connect();
        return BlockedClients(connection);
    }

    /// <summary>As <see cref="ForBlockedClients(RespConnection, int)"/>, on a connection of its own.</summary>
    public static void ForBlockedClients(ServerProcess server, int count)
    {
        using var connection = server.Connect();
        ForBlockedClients(connection, count);
    }
}
