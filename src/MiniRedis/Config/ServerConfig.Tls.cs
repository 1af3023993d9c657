namespace MiniRedis.Config;

/// <summary>The <c>tls-auth-clients</c> directive: whether a TLS client must present a certificate the CAs sign.</summary>
public enum TlsClientAuth { No, Yes, Optional }

/// <summary>
/// The TLS directives the server acts on (Networking/TlsContext.cs reads them). The certificate and CA
/// files are reread whenever CONFIG SET names them, even with the same path, as Redis does, so a
/// renewed certificate is picked up without a restart.
/// </summary>
public sealed partial class ServerConfig
{
    private const ConfigFlags Reread = ConfigFlags.Volatile;

    private static readonly ConfigDirective[] s_tlsDirectives =
    [
        ConfigDirective.Integer("tls-port", 0, 65535, 0, c => c.TlsPort, (c, v) => c.TlsPort = (int)v),
        ConfigDirective.Enum("tls-auth-clients", TlsClientAuth.Yes,
            [("no", TlsClientAuth.No), ("yes", TlsClientAuth.Yes), ("optional", TlsClientAuth.Optional)],
            c => c.TlsAuthClients, (c, v) => c.TlsAuthClients = v),
        ConfigDirective.String("tls-cert-file", "", c => c.TlsCertFile, (c, v) => c.TlsCertFile = NullIfEmpty(v), Reread),
        ConfigDirective.String("tls-key-file", "", c => c.TlsKeyFile, (c, v) => c.TlsKeyFile = NullIfEmpty(v), Reread),
        ConfigDirective.String("tls-key-file-pass", "", c => c.TlsKeyFilePass, (c, v) => c.TlsKeyFilePass = NullIfEmpty(v), Reread),
        ConfigDirective.String("tls-ca-cert-file", "", c => c.TlsCaCertFile, (c, v) => c.TlsCaCertFile = NullIfEmpty(v), Reread),
        ConfigDirective.String("tls-ca-cert-dir", "", c => c.TlsCaCertDir, (c, v) => c.TlsCaCertDir = NullIfEmpty(v), Reread),
        ConfigDirective.String("tls-protocols", "", c => c.TlsProtocols, (c, v) => c.TlsProtocols = NullIfEmpty(v)),
        ConfigDirective.String("tls-ciphers", "", c => c.TlsCiphers, (c, v) => c.TlsCiphers = NullIfEmpty(v)),
        ConfigDirective.String("tls-ciphersuites", "", c => c.TlsCiphersuites, (c, v) => c.TlsCiphersuites = NullIfEmpty(v)),
    ];

    /// <summary>The TLS port (0: none), beside the plain one.</summary>
    public int TlsPort { get; private set; }

    public TlsClientAuth TlsAuthClients { get; private set; }

    /// <summary>The server's certificate (PEM, leaf first, then any intermediates).</summary>
    public string? TlsCertFile { get; private set; }

    /// <summary>Its private key (PEM), encrypted with <see cref="TlsKeyFilePass"/> when that is set.</summary>
    public string? TlsKeyFile { get; private set; }

    public string? TlsKeyFilePass { get; private set; }

    /// <summary>The CAs client certificates must chain to: a PEM bundle, and/or a directory of PEM files.</summary>
    public string? TlsCaCertFile { get; private set; }

    public string? TlsCaCertDir { get; private set; }

    /// <summary>"TLSv1.2 TLSv1.3" and the like; unset means TLS 1.2 and 1.3.</summary>
    public string? TlsProtocols { get; private set; }

    /// <summary>OpenSSL cipher list for TLS 1.2 and below.</summary>
    public string? TlsCiphers { get; private set; }

    /// <summary>OpenSSL ciphersuites for TLS 1.3.</summary>
    public string? TlsCiphersuites { get; private set; }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
