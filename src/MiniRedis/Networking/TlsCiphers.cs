using System.Net.Security;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace MiniRedis.Networking;

/// <summary>
/// tls-ciphers and tls-ciphersuites are OpenSSL cipher strings ("HIGH:!aNULL", "DEFAULT:!MEDIUM",
/// "TLS_AES_256_GCM_SHA384"), which .NET cannot read: OpenSSL itself (the library SslStream runs on
/// here) expands them in a scratch SSL_CTX, exactly as Redis's SSL_CTX_set_cipher_list and
/// SSL_CTX_set_ciphersuites do, and the suites it keeps become SslStream's CipherSuitesPolicy.
/// </summary>
static partial class TlsCiphers
{
    const string LibSsl = "libssl.so.3";
    const string LibCrypto = "libcrypto.so.3";

    /// <summary>The policy for the two strings (null when both are unset: OpenSSL's defaults); false, logged as Redis does, when OpenSSL refuses one.</summary>
    public static bool TryCreatePolicy(string? ciphers, string? ciphersuites, ILogger logger, out CipherSuitesPolicy? policy)
    {
        policy = null;
        if (ciphers is null && ciphersuites is null) return true;
        if (OperatingSystem.IsWindows())
        {
            logger.LogWarning("Failed to configure ciphers: SslStream takes no cipher list on Windows");
            return false;
        }
        List<string> names;
        try
        {
            names = Expand(ciphers, ciphersuites, logger);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            logger.LogWarning("Failed to configure ciphers: OpenSSL 3 ({Library}) is needed to read tls-ciphers/tls-ciphersuites: {Error}", LibSsl, e.Message);
            return false;
        }
        var suites = names.Select(name => Enum.TryParse<TlsCipherSuite>(name, out var suite) ? suite : (TlsCipherSuite?)null)
            .OfType<TlsCipherSuite>().ToList();
        if (suites.Count == 0)
        {
            // OpenSSL refused the string (logged), or kept only suites .NET has no name for.
            if (names.Count > 0) logger.LogWarning("Failed to configure ciphers: none of {Ciphers} is usable here", string.Join(':', names));
            return false;
        }
        policy = new CipherSuitesPolicy(suites);
        return true;
    }

    /// <summary>The standard (IANA) names of the suites OpenSSL enables for the strings; empty after a logged refusal.</summary>
    static List<string> Expand(string? ciphers, string? ciphersuites, ILogger logger)
    {
        var names = new List<string>();
        nint context = SSL_CTX_new(TLS_method());
        try
        {
            if (ciphers is not null && SSL_CTX_set_cipher_list(context, ciphers) == 0)
            {
                logger.LogWarning("Failed to configure ciphers: {Ciphers}", ciphers);
                return names;
            }
            if (ciphersuites is not null && SSL_CTX_set_ciphersuites(context, ciphersuites) == 0)
            {
                logger.LogWarning("Failed to configure ciphersuites: {Ciphersuites}", ciphersuites);
                return names;
            }
            nint stack = SSL_CTX_get_ciphers(context);
            int count = OPENSSL_sk_num(stack);
            for (int i = 0; i < count; i++)
            {
                if (Marshal.PtrToStringUTF8(SSL_CIPHER_standard_name(OPENSSL_sk_value(stack, i))) is { } name) names.Add(name);
            }
            return names;
        }
        finally
        {
            SSL_CTX_free(context);
        }
    }

    [LibraryImport(LibSsl)]
    private static partial nint TLS_method();

    [LibraryImport(LibSsl)]
    private static partial nint SSL_CTX_new(nint method);

    [LibraryImport(LibSsl)]
    private static partial void SSL_CTX_free(nint context);

    [LibraryImport(LibSsl, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SSL_CTX_set_cipher_list(nint context, string ciphers);

    [LibraryImport(LibSsl, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SSL_CTX_set_ciphersuites(nint context, string ciphersuites);

    [LibraryImport(LibSsl)]
    private static partial nint SSL_CTX_get_ciphers(nint context);

    [LibraryImport(LibSsl)]
    private static partial nint SSL_CIPHER_standard_name(nint cipher);

    [LibraryImport(LibCrypto)]
    private static partial int OPENSSL_sk_num(nint stack);

    [LibraryImport(LibCrypto)]
    private static partial nint OPENSSL_sk_value(nint stack, int index);
}
