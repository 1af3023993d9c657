using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;

namespace MiniRedis.Networking;

/// <summary>
/// What Redis keeps in its SSL_CTX, built from the tls-* directives: the server certificate and key,
/// the CAs client certificates are checked against, the protocols and ciphers. Immutable: a CONFIG SET
/// builds a new one, which connections accepted from then on use (connections already open keep theirs).
/// <see cref="Create"/> logs Redis's line for what is wrong and returns null.
/// </summary>
public sealed class TlsContext
{
    readonly SslStreamCertificateContext _certificate;
    readonly X509Certificate2Collection _trustedCas;
    readonly SslProtocols _protocols;
    readonly CipherSuitesPolicy? _ciphers;

    TlsContext(SslStreamCertificateContext certificate, X509Certificate2Collection trustedCas, SslProtocols protocols, CipherSuitesPolicy? ciphers)
    {
        _certificate = certificate;
        _trustedCas = trustedCas;
        _protocols = protocols;
        _ciphers = ciphers;
    }

    public static TlsContext? Create(ServerConfig config, ILogger logger)
    {
        if (config.TlsCertFile is not { } certFile)
        {
            logger.LogWarning("No tls-cert-file configured!");
            return null;
        }
        if (config.TlsKeyFile is not { } keyFile)
        {
            logger.LogWarning("No tls-key-file configured!");
            return null;
        }
        if (config.TlsAuthClients != TlsClientAuth.No && config.TlsCaCertFile is null && config.TlsCaCertDir is null)
        {
            logger.LogWarning("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!");
            return null;
        }
        if (TlsProtocolList.Parse(config.TlsProtocols) is not { } protocols)
        {
            logger.LogWarning("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.");
            return null;
        }
        var certificate = LoadCertificate(certFile, keyFile, config.TlsKeyFilePass, logger);
        if (certificate is null) return null;
        var trusted = LoadCas(config.TlsCaCertFile, config.TlsCaCertDir, logger);
        if (trusted is null) return null;
        if (!TlsCiphers.TryCreatePolicy(config.TlsCiphers, config.TlsCiphersuites, logger, out var ciphers)) return null;
        return new TlsContext(certificate, trusted, protocols, ciphers);
    }

    /// <summary>The leaf certificate with its key, and the chain the cert file holds after it (sent to clients).</summary>
    static SslStreamCertificateContext? LoadCertificate(string certFile, string keyFile, string? password, ILogger logger)
    {
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPemFile(certFile);
            if (chain.Count == 0) throw new CryptographicException("no certificate found");
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Failed to load certificate: {File}: {Error}", certFile, e.Message);
            return null;
        }
        // The leaf certificate lives in the returned context for as long as the context serves handshakes.
#pragma warning disable CA2000 // owned by the SslStreamCertificateContext made from it below
        X509Certificate2 leaf;
        try
        {
            // OpenSSL ignores a password for a key that is not encrypted.
            leaf = password is null || !File.ReadAllText(keyFile).Contains("ENCRYPTED", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromPemFile(certFile, keyFile)
                : X509Certificate2.CreateFromEncryptedPemFile(certFile, password, keyFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogWarning("Failed to load private key: {File}: {Error}", keyFile, e.Message);
            return null;
        }
#pragma warning restore CA2000
        return SslStreamCertificateContext.Create(leaf, [.. chain.Skip(1)], offline: true);
    }

    /// <summary>Every certificate of the CA file and of the PEM files in the CA directory (OpenSSL's hashed names or not).</summary>
    static X509Certificate2Collection? LoadCas(string? caFile, string? caDir, ILogger logger)
    {
        var cas = new X509Certificate2Collection();
        try
        {
            if (caFile is not null) cas.ImportFromPemFile(caFile);
            if (caDir is not null)
            {
                foreach (var file in Directory.EnumerateFiles(caDir))
                {
                    try { cas.ImportFromPemFile(file); }
                    catch (CryptographicException) { } // not a certificate: OpenSSL skips it too
                }
            }
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Failed to configure CA certificate(s) file/directory: {Error}", e.Message);
            return null;
        }
        return cas;
    }

    /// <summary>
    /// The handshake options for one connection: a client certificate is asked for unless tls-auth-clients
    /// is "no"; whether one must come is <paramref name="verifyClient"/>'s call. The callback is set even
    /// for "no": a resumed session carries the certificate of its first handshake, which .NET would
    /// otherwise check against the system's CAs.
    /// </summary>
    public SslServerAuthenticationOptions ServerOptions(TlsClientAuth clientAuth, RemoteCertificateValidationCallback verifyClient) => new()
    {
        ServerCertificateContext = _certificate,
        EnabledSslProtocols = _protocols,
        CipherSuitesPolicy = _ciphers,
        ClientCertificateRequired = clientAuth != TlsClientAuth.No,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = verifyClient,
    };

    /// <summary>Why OpenSSL would refuse the client's certificate under <paramref name="clientAuth"/> (its error text), or null to accept it.</summary>
    public string? ClientCertificateError(TlsClientAuth clientAuth, X509Certificate? certificate, X509Chain? chain) =>
        clientAuth == TlsClientAuth.No ? null
        : certificate is null ? (clientAuth == TlsClientAuth.Yes ? "error:0A0000C7:SSL routines::peer did not return a certificate" : null)
        : SignedByTrustedCa(certificate, chain) ? null
        : "error:0A000086:SSL routines::certificate verify failed";

    /// <summary>OpenSSL's verification against tls-ca-cert-file/dir only (not the system store): a valid, unexpired chain to one of them.</summary>
    bool SignedByTrustedCa(X509Certificate certificate, X509Chain? presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_trustedCas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}

/// <summary>Redis's parseProtocolsConfig: space-separated TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (any case); unset means 1.2 and 1.3.</summary>
static class TlsProtocolList
{
    public static SslProtocols? Parse(string? text)
    {
        if (text is null) return SslProtocols.Tls12 | SslProtocols.Tls13;
        var protocols = SslProtocols.None;
        foreach (var token in text.Split(' '))
        {
            SslProtocols? protocol = token.ToLowerInvariant() switch
            {
#pragma warning disable SYSLIB0039, CA5397 // TLS 1.0 and 1.1 are obsolete, but Redis still lets an operator enable them.
                "tlsv1" => SslProtocols.Tls,
                "tlsv1.1" => SslProtocols.Tls11,
#pragma warning restore SYSLIB0039, CA5397
                "tlsv1.2" => SslProtocols.Tls12,
                "tlsv1.3" => SslProtocols.Tls13,
                _ => null,
            };
            if (protocol is null) return null;
            protocols |= protocol.Value;
        }
        return protocols;
    }
}
