using System.Diagnostics;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MiniRedis.Tests.Support;
using StackExchange.Redis;

namespace MiniRedis.Tests.Networking;

/// <summary>
/// The tls-port, against Redis 7.0.15 (Debian's build has TLS) started with the same directives and
/// certificates made by openssl for this class: redis-cli --tls, StackExchange.Redis with ssl=true,
/// tls-auth-clients no/yes/optional with trusted, untrusted and expired client certificates,
/// CONFIG SET of the TLS directives (errors, reload of a renewed certificate, protocols, ciphersuites),
/// plain-text and garbage clients on the TLS port (refused, and no connection left behind), and the
/// plain port open beside the TLS one.
/// </summary>
public sealed class TlsTests(TlsTests.TlsPair servers) : IClassFixture<TlsTests.TlsPair>
{
    /// <summary>Both servers on a plain and a TLS port, with the test certificates and client certificates required (Redis's default).</summary>
    public sealed class TlsPair : IDisposable
    {
        public TestCertificates Certificates { get; } = new();
        public RealRedisProcess Redis { get; }
        public MiniRedisProcess Mini { get; }
        public int RedisTlsPort { get; } = ServerProcess.FreePort();
        public int MiniTlsPort { get; } = ServerProcess.FreePort();

        public TlsPair()
        {
            Redis = new RealRedisProcess(Directives(Certificates, RedisTlsPort, "server"));
            Mini = new MiniRedisProcess(Directives(Certificates, MiniTlsPort, "server"));
        }

        public IEnumerable<(ServerProcess Server, int TlsPort)> Both => [(Redis, RedisTlsPort), (Mini, MiniTlsPort)];

        public void Dispose()
        {
            Redis.Dispose();
            Mini.Dispose();
            Certificates.Dispose();
        }
    }

    static string[] Directives(TestCertificates certificates, int tlsPort, string certificate, string? certificateFile = null, string? keyFile = null) =>
    [
        "--tls-port", tlsPort.ToString(), "--tls-cert-file", certificateFile ?? certificates.Path(certificate + ".crt"),
        "--tls-key-file", keyFile ?? certificates.Path(certificate + ".key"), "--tls-ca-cert-file", certificates.Path("ca.crt"),
    ];

    TestCertificates Certificates => servers.Certificates;

    /// <summary>A TLS client trusting only the test CA, presenting <paramref name="clientCertificate"/> when asked.</summary>
    static SslClientAuthenticationOptions ClientOptions(TestCertificates certificates, X509Certificate2? clientCertificate,
        SslProtocols protocols = SslProtocols.None, Action<X509Certificate>? seen = null) => new()
    {
        TargetHost = "localhost",
        EnabledSslProtocols = protocols,
        LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate!,
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            if (certificate is not null) seen?.Invoke(certificate);
            return TrustedByTestCa(certificates, certificate);
        },
    };

    static bool TrustedByTestCa(TestCertificates certificates, X509Certificate? certificate)
    {
        if (certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(certificates.Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    /// <summary>PING over TLS: the reply, or "refused" when the handshake or the first exchange fails.</summary>
    static string Ping(TestCertificates certificates, int port, X509Certificate2? clientCertificate, SslProtocols protocols = SslProtocols.None)
    {
        try
        {
            using var connection = RespConnection.OpenTls(port, ClientOptions(certificates, clientCertificate, protocols));
            return Encoding.Latin1.GetString(connection.Call("PING"));
        }
        catch (Exception e) when (e is AuthenticationException or IOException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return "refused";
        }
    }

    static string Call(ServerProcess server, params string[] args)
    {
        using var connection = server.Connect();
        return RespConnection.Escape(connection.Call(args));
    }

    static int ConnectedClients(ServerProcess server)
    {
        using var connection = server.Connect();
        var info = Encoding.Latin1.GetString(connection.Call("INFO", "clients"));
        return int.Parse(info.Split("\r\n").Single(line => line.StartsWith("connected_clients:", StringComparison.Ordinal))["connected_clients:".Length..]);
    }

    /// <summary>
    /// The server's connected_clients once the refused connections are gone (the one counting is
    /// ours): a refused client must not stay counted. Waits for the server to notice, then asserts.
    /// </summary>
    static void AssertNoConnectionLeft(ServerProcess server)
    {
        Assert.False(server.HasExited, "The server ended:\n" + server.Output);
        var deadline = Stopwatch.StartNew();
        while (ConnectedClients(server) != 1 && deadline.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(50);
        Assert.Equal(1, ConnectedClients(server));
    }

    [Fact]
    public void Redis_cli_talks_to_the_tls_port_as_to_redis()
    {
        var outputs = servers.Both.Select(pair => RedisCli(pair.TlsPort, "--tls", "--cacert", Certificates.Path("ca.crt"),
            "--cert", Certificates.Path("client.crt"), "--key", Certificates.Path("client.key"), "EVAL", "redis.call('SET', 'cli', 'tls'); return redis.call('GET', 'cli')", "0")).ToList();
        Assert.Equal("tls\n", outputs[0]);
        Assert.Equal(outputs[0], outputs[1]);
    }

    static string RedisCli(int port, params string[] args)
    {
        var info = new ProcessStartInfo(RealRedisProcess.ExecutablePath("redis-cli")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["-p", port.ToString(), .. args]) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output + stderr.Result;
    }

    [Fact]
    public async Task StackExchange_redis_with_ssl_works_through_the_tls_port()
    {
        var options = new ConfigurationOptions { Ssl = true, SslHost = "localhost", AbortOnConnectFail = true, ConnectTimeout = 15_000, SyncTimeout = 15_000 };
        options.EndPoints.Add("127.0.0.1", servers.MiniTlsPort);
        options.CertificateValidation += (_, certificate, _, _) => TrustedByTestCa(Certificates, certificate);
        options.CertificateSelection += (_, _, _, _, _) => Certificates.Client("client");
        using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        var db = connection.GetDatabase();
        Assert.True(await db.StringSetAsync("se:tls", "value"));
        Assert.Equal("value", (string?)await db.StringGetAsync("se:tls"));
        // Many pipelined commands and a value larger than a TLS record (16 KB) in both directions.
        var increments = Enumerable.Range(0, 500).Select(_ => db.StringIncrementAsync("se:counter")).ToArray();
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), await Task.WhenAll(increments));
        string large = new('x', 1 << 20);
        Assert.True(await db.StringSetAsync("se:large", large));
        Assert.Equal(large, (string?)await db.StringGetAsync("se:large"));
    }

    [Fact]
    public void Tls_auth_clients_no_yes_optional_accept_and_refuse_the_clients_redis_does()
    {
        string[] clients = ["none", "client", "stranger", "expired"];
        var outcomes = servers.Both.Select(pair =>
        {
            var text = new StringBuilder();
            foreach (var mode in new[] { "yes", "optional", "no" })
            {
                Assert.Equal("\"+OK\\r\\n\"", Call(pair.Server, "CONFIG", "SET", "tls-auth-clients", mode));
                foreach (var client in clients)
                    text.Append(mode).Append(' ').Append(client).Append(": ").AppendLine(Ping(Certificates, pair.TlsPort, client == "none" ? null : Certificates.Client(client)));
            }
            Call(pair.Server, "CONFIG", "SET", "tls-auth-clients", "yes");
            return text.ToString();
        }).ToList();
        Assert.Contains("yes none: refused", outcomes[0], StringComparison.Ordinal);
        Assert.Contains("no stranger: +PONG", outcomes[0], StringComparison.Ordinal);
        Assert.Equal(outcomes[0], outcomes[1]);
        AssertNoConnectionLeft(servers.Mini);
    }

    [Fact]
    public void Plain_text_and_garbage_on_the_tls_port_are_refused_and_leave_no_connection()
    {
        byte[][] inputs = [Encoding.ASCII.GetBytes("PING\r\n"), Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n"), [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 37))], []];
        var replies = servers.Both.Select(pair => string.Join(", ", inputs.Select(input =>
        {
            using var connection = RespConnection.Open(pair.TlsPort);
            connection.Send(input);
            connection.FinishSending();
            return RespConnection.Escape(connection.ReadUntilClosed());
        }))).ToList();
        Assert.DoesNotContain("PONG", replies[0], StringComparison.Ordinal);
        Assert.DoesNotContain("PONG", replies[1], StringComparison.Ordinal);
        Assert.Equal("+PONG\r\n", Ping(Certificates, servers.MiniTlsPort, Certificates.Client("client")));
        AssertNoConnectionLeft(servers.Mini);
    }

    [Fact]
    public void The_plain_port_stays_open_beside_the_tls_port_on_the_same_data()
    {
        using var tls = RespConnection.OpenTls(servers.MiniTlsPort, ClientOptions(Certificates, Certificates.Client("client")));
        using var plain = servers.Mini.Connect();
        Assert.Equal("+OK\r\n", Encoding.Latin1.GetString(tls.Call("SET", "both-ports", "over tls")));
        Assert.Equal("$8\r\nover tls\r\n", Encoding.Latin1.GetString(plain.Call("GET", "both-ports")));
        Assert.Equal(":1\r\n", Encoding.Latin1.GetString(plain.Call("DEL", "both-ports")));
        Assert.Equal("$-1\r\n", Encoding.Latin1.GetString(tls.Call("GET", "both-ports")));
    }

    /// <summary>
    /// A client that connects to the TLS port and never starts its handshake is closed once the handshake's
    /// bound (10 s) passes, and is not left counted (Redis keeps such a client open: not compared).
    /// </summary>
    [Fact]
    public void A_client_that_never_completes_its_handshake_is_closed()
    {
        using var silent = RespConnection.Open(servers.MiniTlsPort, receiveTimeoutMs: 120_000);
        Assert.Empty(silent.ReadUntilClosed());
        AssertNoConnectionLeft(servers.Mini);
    }

    /// <summary>CONFIG SET tls-port 0 closes the TLS listener, another port opens it there, as in Redis.</summary>
    [Fact]
    public void Config_set_tls_port_closes_and_moves_the_tls_listener()
    {
        var sessions = servers.Both.Select(pair =>
        {
            var client = Certificates.Client("client");
            int moved = ServerProcess.FreePort();
            var log = new StringBuilder();
            log.AppendLine(Call(pair.Server, "CONFIG", "SET", "tls-port", "0"));
            log.AppendLine("closed: " + Ping(Certificates, pair.TlsPort, client));
            log.AppendLine(Call(pair.Server, "CONFIG", "SET", "tls-port", moved.ToString()));
            log.AppendLine("moved: " + Ping(Certificates, moved, client));
            log.AppendLine(Call(pair.Server, "CONFIG", "SET", "tls-port", pair.TlsPort.ToString()));
            log.AppendLine("back: " + Ping(Certificates, pair.TlsPort, client) + ", old one: " + Ping(Certificates, moved, client));
            return log.ToString();
        }).ToList();
        Assert.Contains("moved: +PONG", sessions[0], StringComparison.Ordinal);
        Assert.Equal(sessions[0], sessions[1]);
    }

    /// <summary>Every TLS directive's CONFIG SET errors, then the values as CONFIG GET shows them (restored after each failure).</summary>
    [Fact]
    public void Config_set_of_tls_directives_answers_as_redis()
    {
        Assert.Equal(ConfigSession(servers.Redis), ConfigSession(servers.Mini));
    }

    string ConfigSession(ServerProcess server)
    {
        string[][] commands =
        [
            ["CONFIG", "SET", "tls-cert-file", "/nonexistent/server.crt"],
            ["CONFIG", "SET", "tls-key-file", "/nonexistent/server.key"],
            ["CONFIG", "SET", "tls-key-file", Certificates.Path("client.key")],
            ["CONFIG", "SET", "tls-key-file", Certificates.Path("server-encrypted.key")],
            ["CONFIG", "SET", "tls-key-file", Certificates.Path("server-encrypted.key"), "tls-key-file-pass", "wrong"],
            ["CONFIG", "SET", "tls-key-file", Certificates.Path("server-encrypted.key"), "tls-key-file-pass", TestCertificates.KeyPassword],
            ["CONFIG", "SET", "tls-key-file", Certificates.Path("server.key"), "tls-key-file-pass", ""],
            ["CONFIG", "SET", "tls-ca-cert-file", "/nonexistent/ca.crt"],
            ["CONFIG", "SET", "tls-ca-cert-file", "", "tls-ca-cert-dir", ""],
            ["CONFIG", "SET", "tls-protocols", "TLSv1.4"],
            ["CONFIG", "SET", "tls-protocols", "TLSv1.2  TLSv1.3"],
            ["CONFIG", "SET", "tls-protocols", "tlsv1.2 TLSV1.3"],
            ["CONFIG", "SET", "tls-protocols", ""],
            ["CONFIG", "SET", "tls-ciphers", "NOPE"],
            ["CONFIG", "SET", "tls-ciphers", "HIGH:!aNULL"],
            ["CONFIG", "SET", "tls-ciphers", ""],
            ["CONFIG", "SET", "tls-ciphersuites", "NOPE"],
            ["CONFIG", "SET", "tls-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"],
            ["CONFIG", "SET", "tls-ciphersuites", ""],
            ["CONFIG", "SET", "tls-auth-clients", "maybe"],
            ["CONFIG", "SET", "tls-port", "70000"],
            ["CONFIG", "SET", "tls-port", server.Port.ToString()],
            ["CONFIG", "SET", "tls-session-cache-size", "-1"],
        ];
        var text = new StringBuilder();
        using var connection = server.Connect();
        foreach (var command in commands)
            text.Append(string.Join(' ', command.Skip(2))).Append(" -> ").AppendLine(RespConnection.Escape(connection.Call(command)));
        text.AppendLine(string.Join('\n', ConfigPairs(connection.Call("CONFIG", "GET", "tls-*"))));
        text.Append("PING after: ").Append(Ping(Certificates, server == servers.Redis ? servers.RedisTlsPort : servers.MiniTlsPort, Certificates.Client("client")));
        return text.ToString().Replace(server.Port.ToString(), "<plain port>").Replace((server == servers.Redis ? servers.RedisTlsPort : servers.MiniTlsPort).ToString(), "<tls port>");
    }

    /// <summary>CONFIG GET's name/value pairs, sorted (the two servers list them in different orders).</summary>
    static IEnumerable<string> ConfigPairs(byte[] reply)
    {
        var lines = Encoding.Latin1.GetString(reply).Split("\r\n");
        var items = new List<string>();
        for (int i = 1; i + 1 < lines.Length; i += 2) items.Add(lines[i + 1]);
        return items.Chunk(2).Select(pair => pair[0] + " = " + pair[1]).Order(StringComparer.Ordinal);
    }

    /// <summary>
    /// A renewed certificate written over the same files is served to new connections once CONFIG SET names
    /// the files (same paths: Redis rereads them); connections already open carry on; a failed reload keeps
    /// the certificate in use.
    /// </summary>
    [Fact]
    public void Config_set_reloads_the_certificate_for_new_connections()
    {
        string Rotation(Func<string[], ServerProcess> start, string name)
        {
            string certificateFile = Certificates.Path($"rotating-{name}.crt");
            string keyFile = Certificates.Path($"rotating-{name}.key");
            File.Copy(Certificates.Path("server.crt"), certificateFile, overwrite: true);
            File.Copy(Certificates.Path("server.key"), keyFile, overwrite: true);
            int tlsPort = ServerProcess.FreePort();
            using var server = start(Directives(Certificates, tlsPort, "server", certificateFile, keyFile));
            var log = new StringBuilder();
            string Subject()
            {
                string subject = "";
                using var connection = RespConnection.OpenTls(tlsPort, ClientOptions(Certificates, Certificates.Client("client"), seen: c => subject = c.Subject));
                Assert.Equal("+PONG\r\n", Encoding.Latin1.GetString(connection.Call("PING")));
                return subject;
            }
            log.AppendLine(Subject());
            using var open = RespConnection.OpenTls(tlsPort, ClientOptions(Certificates, Certificates.Client("client")));
            File.Copy(Certificates.Path("second.crt"), certificateFile, overwrite: true);
            File.Copy(Certificates.Path("second.key"), keyFile, overwrite: true);
            log.AppendLine("before CONFIG SET: " + Subject());
            log.AppendLine(Call(server, "CONFIG", "SET", "tls-cert-file", certificateFile, "tls-key-file", keyFile));
            log.AppendLine("after: " + Subject());
            log.AppendLine(Call(server, "CONFIG", "SET", "tls-cert-file", Certificates.Path("missing.crt")));
            log.AppendLine("after a failed reload: " + Subject());
            log.AppendLine("connection opened before: " + Encoding.Latin1.GetString(open.Call("PING")));
            return log.ToString();
        }
        string expected = Rotation(args => new RealRedisProcess(args), "redis");
        Assert.Contains("after: CN=second", expected, StringComparison.Ordinal);
        Assert.Equal(expected, Rotation(args => new MiniRedisProcess(args), "mini"));
    }

    [Fact]
    public void Protocols_and_ciphersuites_restrict_the_handshake_as_redis_does()
    {
        string Session(ServerProcess server, int port)
        {
            var log = new StringBuilder();
            var client = Certificates.Client("client");
            log.AppendLine(Call(server, "CONFIG", "SET", "tls-protocols", "TLSv1.3"));
            log.AppendLine("1.2 client: " + Ping(Certificates, port, client, SslProtocols.Tls12));
            log.AppendLine("1.3 client: " + Ping(Certificates, port, client, SslProtocols.Tls13));
            log.AppendLine(Call(server, "CONFIG", "SET", "tls-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"));
            using (var connection = RespConnection.OpenTls(port, ClientOptions(Certificates, client, SslProtocols.Tls13)))
                log.AppendLine("suite: " + connection.Tls!.NegotiatedCipherSuite);
            log.AppendLine(Call(server, "CONFIG", "SET", "tls-protocols", "TLSv1.2", "tls-ciphersuites", "", "tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256"));
            using (var connection = RespConnection.OpenTls(port, ClientOptions(Certificates, client)))
                log.AppendLine("suite: " + connection.Tls!.NegotiatedCipherSuite + " " + connection.Tls.SslProtocol);
            log.AppendLine(Call(server, "CONFIG", "SET", "tls-protocols", "", "tls-ciphers", ""));
            return log.ToString();
        }
        string expected = Session(servers.Redis, servers.RedisTlsPort);
        Assert.Contains("1.2 client: refused", expected, StringComparison.Ordinal);
        Assert.Contains("suite: TLS_CHACHA20_POLY1305_SHA256", expected, StringComparison.Ordinal);
        Assert.Equal(expected, Session(servers.Mini, servers.MiniTlsPort));
    }
}
