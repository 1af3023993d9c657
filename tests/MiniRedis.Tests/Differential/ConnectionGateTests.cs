using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// What a client is told before it may run commands, compared byte for byte with real Redis: the
/// protected-mode refusal of a non-loopback client, and HELLO's NOAUTH when a password is needed.
/// Both servers run with Redis's defaults (protected mode on, every address bound, no password).
/// </summary>
[Trait("Category", "Differential")]
public sealed class ConnectionGateTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    /// <summary>An address of this machine that is not loopback: a connection from it is an outside client.</summary>
    internal static IPAddress ExternalAddress()
    {
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(nic => nic.OperationalStatus == OperationalStatus.Up && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Select(unicast => unicast.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        Assert.True(address is not null, "This test needs a non-loopback IPv4 address on the machine to connect from.");
        return address;
    }

    static byte[] RefusalTo(IPAddress address, int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Connect(address, port);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = socket.Receive(buffer)) > 0) received.Write(buffer, 0, n);
        return received.ToArray();
    }

    [Fact]
    public void Protected_mode_refuses_an_outside_client_with_redis_text()
    {
        var address = ExternalAddress();
        var expected = RefusalTo(address, servers.Redis.Port);
        Assert.StartsWith("-DENIED ", Encoding.Latin1.GetString(expected), StringComparison.Ordinal);
        Assert.Equal(RespConnection.Escape(expected), RespConnection.Escape(RefusalTo(address, servers.Mini.Port)));
    }

    /// <summary>
    /// Protected mode asks whether the default user needs a password, however it got one: a password
    /// given with ACL SETUSER (not requirepass) lets an outside client in, to be asked for it.
    /// </summary>
    [Fact]
    public void A_default_user_password_set_with_acl_lifts_protected_mode()
    {
        var address = ExternalAddress();
        var redis = OutsidePingWithAclPassword(servers.Redis, address);
        Assert.StartsWith("-NOAUTH ", redis, StringComparison.Ordinal);
        Assert.Equal(redis, OutsidePingWithAclPassword(servers.Mini, address));
    }

    static string OutsidePingWithAclPassword(ServerProcess server, IPAddress address)
    {
        using var admin = server.Connect();
        Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(admin.Call("ACL", "SETUSER", "default", ">gate-secret")));
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
            socket.Connect(address, server.Port);
            socket.Send("PING\r\n"u8);
            var received = new MemoryStream();
            var buffer = new byte[4096];
            int n;
            while (!Encoding.Latin1.GetString(received.ToArray()).EndsWith("\r\n", StringComparison.Ordinal) && (n = socket.Receive(buffer)) > 0) received.Write(buffer, 0, n);
            return Encoding.Latin1.GetString(received.ToArray());
        }
        finally
        {
            admin.Call("ACL", "SETUSER", "default", "nopass");
        }
    }

    [Fact]
    public void Hello_without_auth_when_a_password_is_set_gets_redis_noauth_text()
    {
        string[][] commands = [["HELLO", "3"], ["HELLO", "2", "SETNAME", "x"], ["HELLO", "3", "AUTH", "default", "wrong"], ["PING"]];
        Assert.Equal(RepliesWithPassword(servers.Redis, commands), RepliesWithPassword(servers.Mini, commands));
    }

    /// <summary>
    /// Redis authenticates a client when it connects (or RESETs) while the default user needs no
    /// password: setting one later does not lock out the clients already connected.
    /// </summary>
    [Fact]
    public void A_client_connected_before_a_password_is_set_stays_authenticated_until_reset()
    {
        Assert.Equal(RepliesOfEarlierClient(servers.Redis), RepliesOfEarlierClient(servers.Mini));
    }

    /// <summary>
    /// The same race many times over, with nothing between the connect and the password change:
    /// MiniRedis once ran the admin's CONFIG SET on the thread that accepts clients (its commands may
    /// run at once there) before accepting the earlier client, which was already waiting, and refused
    /// that one; later, with an awaited accept, the admin's command could still run between the kernel
    /// handing out the earlier client and its session being made.
    /// </summary>
    [Theory]
    [InlineData(new[] { "CONFIG", "SET", "requirepass", "secret" }, new[] { "CONFIG", "SET", "requirepass", "" })]
    [InlineData(new[] { "ACL", "SETUSER", "default", ">secret" }, new[] { "ACL", "SETUSER", "default", "nopass" })]
    public void Clients_connected_just_before_a_password_is_set_are_never_refused(string[] setPassword, string[] clearPassword)
    {
        Assert.Equal((Redis: 0, Mini: 0), (Redis: RefusedEarlierClients(servers.Redis, setPassword, clearPassword), Mini: RefusedEarlierClients(servers.Mini, setPassword, clearPassword)));
    }

    static int RefusedEarlierClients(ServerProcess server, string[] setPassword, string[] clearPassword)
    {
        int refused = 0;
        for (int i = 0; i < 50; i++)
        {
            using var admin = server.Connect();
            using var earlier = server.Connect();
            Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(admin.Call(setPassword)));
            if (Encoding.Latin1.GetString(earlier.Call("EXISTS", "gate-key")).StartsWith("-NOAUTH", StringComparison.Ordinal)) refused++;
            Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(admin.Call(clearPassword)));
        }
        return refused;
    }

    static List<string> RepliesOfEarlierClient(ServerProcess server)
    {
        using var admin = server.Connect();
        using var earlier = server.Connect();
        Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(admin.Call("CONFIG", "SET", "requirepass", "secret")));
        try
        {
            using var later = server.Connect();
            string[][] earlierCommands = [["SET", "gate-key", "v"], ["GET", "gate-key"], ["RESET"], ["GET", "gate-key"], ["AUTH", "secret"], ["DEL", "gate-key"]];
            return [.. earlierCommands.Select(command => RespConnection.Escape(earlier.Call(command))), RespConnection.Escape(later.Call("GET", "gate-key"))];
        }
        finally
        {
            admin.Call("CONFIG", "SET", "requirepass", "");
        }
    }

    /// <summary>The replies a new client gets while requirepass is set (set and cleared on another connection).</summary>
    static List<string> RepliesWithPassword(ServerProcess server, string[][] commands)
    {
        using var admin = server.Connect();
        Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(admin.Call("CONFIG", "SET", "requirepass", "secret")));
        try
        {
            using var client = server.Connect();
            return commands.Select(command => RespConnection.Escape(client.Call(command))).ToList();
        }
        finally
        {
            admin.Call("CONFIG", "SET", "requirepass", "");
        }
    }
}
