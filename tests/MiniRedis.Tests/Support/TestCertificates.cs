using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;

namespace MiniRedis.Tests.Support;

/// <summary>
/// Certificates made for one test class with openssl, in a temporary directory: a CA, a server
/// certificate for localhost/127.0.0.1 (and a second one, "second", to rotate to), a client
/// certificate, one from a CA the servers do not trust, and an expired client certificate (signed with
/// `openssl ca`, the one openssl 3.0 command that sets a certificate's dates).
/// </summary>
public sealed class TestCertificates : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("tls-certs-").FullName;

    public TestCertificates()
    {
        File.WriteAllText(Path("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        OpenSsl("req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=MiniRedis Test CA");
        OpenSsl("req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "30", "-subj", "/CN=Untrusted CA");
        Sign("server", "/CN=localhost", "ca", withSan: true);
        Sign("second", "/CN=second", "ca", withSan: true);
        Sign("client", "/CN=client", "ca", withSan: false);
        Sign("stranger", "/CN=stranger", "other-ca", withSan: false);
        // The server key again, encrypted, for tls-key-file-pass.
        OpenSsl("pkcs8", "-topk8", "-in", "server.key", "-out", "server-encrypted.key", "-passout", "pass:" + KeyPassword);
        WriteExpiredClient();
    }

    public const string KeyPassword = "s3cret";

    public string Path(string file) => System.IO.Path.Combine(_directory, file);

    public X509Certificate2 Ca => X509CertificateLoader.LoadCertificateFromFile(Path("ca.crt"));

    /// <summary>A client certificate with its key, as SslStream wants it ("client", "stranger" or "expired").</summary>
    public X509Certificate2 Client(string name) => X509Certificate2.CreateFromPemFile(Path(name + ".crt"), Path(name + ".key"));

    void Sign(string name, string subject, string ca, bool withSan)
    {
        OpenSsl("req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject);
        OpenSsl(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial", "-out", name + ".crt", "-days", "30",
            .. withSan ? new[] { "-extfile", "san.ext" } : []]);
    }

    /// <summary>A client certificate of the test CA valid for one day in 2000.</summary>
    void WriteExpiredClient()
    {
        File.WriteAllText(Path("index.txt"), "");
        File.WriteAllText(Path("serial"), "1000\n");
        File.WriteAllText(Path("ca.cnf"), "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n" +
            "default_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n");
        OpenSsl("req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=expired");
        OpenSsl("ca", "-batch", "-notext", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", "expired.csr", "-out", "expired.crt",
            "-startdate", "20000101000000Z", "-enddate", "20000102000000Z");
    }

    void OpenSsl(params string[] args)
    {
        var info = new ProcessStartInfo("openssl") { WorkingDirectory = _directory, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        string errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"openssl {string.Join(' ', args)} failed: {errors}");
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
