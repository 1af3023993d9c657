using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Integration;

/// <summary>
/// The server as an operator runs it, on real processes: daemonize, pidfile, the Unix socket with
/// redis-cli -s, systemd's NOTIFY_SOCKET, log levels and log rotation by SIGHUP.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Trait("Category", "Differential")]
public sealed partial class ProcessManagementTests : IDisposable
{
    const int SigHup = 1;
    const int SigKill = 9;
    const int SigCont = 18;
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    readonly string _temp = Directory.CreateTempSubdirectory("miniredis-proc-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public void Daemonize_ParentExitsOnceTheDetachedChildServes_PidFileNamesTheChild_RemovedAtShutdown()
    {
        int port = ServerProcess.FreePort();
        string pidFile = Path.Combine(_temp, "miniredis.pid");
        string logFile = Path.Combine(_temp, "miniredis.log");
        var (exitCode, output) = RunServerToExit("--port", port.ToString(), "--daemonize", "yes", "--pidfile", pidFile,
            "--logfile", logFile, "--save", "", "--dir", _temp);
        Assert.True(exitCode == 0, $"exit {exitCode}: {output}");
        // Serving already when the parent returned: no retry loop here.
        int pid = int.Parse(File.ReadAllText(pidFile).TrimEnd('\n'));
        try
        {
            Assert.Equal($"{pid}\n", File.ReadAllText(pidFile));
            using (var connection = RespConnection.Open(port))
            {
                Assert.Equal("+PONG\r\n", Encoding.UTF8.GetString(connection.Call("PING")));
                Assert.Contains($"process_id:{pid}\r\n", Encoding.UTF8.GetString(connection.Call("INFO", "server")), StringComparison.Ordinal);
            }
            // Detached: a session of its own, so the launching terminal's hang-up does not reach it.
            Assert.Equal(pid, SessionOf(pid));
            using (var connection = RespConnection.Open(port)) connection.Send("*1\r\n$8\r\nSHUTDOWN\r\n");
            Assert.True(WaitUntil(() => !File.Exists(pidFile) && !IsAlive(pid)), "the pidfile outlived the server:\n" + File.ReadAllText(logFile));
            Assert.Contains("Removing the pid file.", File.ReadAllText(logFile), StringComparison.Ordinal);
        }
        finally
        {
            if (IsAlive(pid)) Kill(pid, SigKill);
        }
    }

    [Fact]
    public void Daemonize_ChildThatCannotStart_ParentExitsNonZeroWithTheReason()
    {
        using var taken = new TcpListener(System.Net.IPAddress.Any, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (exitCode, output) = RunServerToExit("--port", port.ToString(), "--bind", "0.0.0.0", "--daemonize", "yes",
            "--pidfile", Path.Combine(_temp, "never.pid"), "--save", "", "--dir", _temp);
        Assert.Equal(1, exitCode);
        Assert.Contains($"Failed listening on port {port} (TCP), aborting.", output, StringComparison.Ordinal);
    }

    [Fact]
    public void PidFile_WrittenAtStart_RemovedAtShutdown()
    {
        string pidFile = Path.Combine(_temp, "fg.pid");
        using var server = new MiniRedisProcess("--pidfile", pidFile);
        Assert.Equal($"{server.ProcessId}\n", File.ReadAllText(pidFile));
        using (var connection = server.Connect()) connection.Send("*1\r\n$8\r\nSHUTDOWN\r\n");
        Assert.Equal(0, server.WaitForExit(Patience));
        Assert.False(File.Exists(pidFile), server.Output);
    }

    [Fact]
    public void UnixSocket_RedisCliConnects_PermissionsApplied_ClientListNamesThePathAsRedisDoes()
    {
        string miniSocket = Path.Combine(_temp, "mini.sock");
        string realSocket = Path.Combine(_temp, "real.sock");
        using var mini = new MiniRedisProcess("--unixsocket", miniSocket, "--unixsocketperm", "700");
        using var real = new RealRedisProcess("--unixsocket", realSocket, "--unixsocketperm", "700");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(miniSocket));
        Assert.Equal(File.GetUnixFileMode(realSocket), File.GetUnixFileMode(miniSocket));
        Assert.Equal("PONG\n", RunCli("-s", miniSocket, "PING"));
        string miniLine = RunCli("-s", miniSocket, "CLIENT", "INFO");
        string realLine = RunCli("-s", realSocket, "CLIENT", "INFO");
        foreach (var (line, socket) in new[] { (realLine, realSocket), (miniLine, miniSocket) })
        {
            Assert.Contains($" addr={socket}:0 laddr={socket}:0 ", line, StringComparison.Ordinal);
            Assert.Contains(" flags=U ", line, StringComparison.Ordinal);
        }
        Assert.Equal(["unixsocket", miniSocket, "unixsocketperm", "700"],
            RunCli("-s", miniSocket, "CONFIG", "GET", "unixsocket*").Split('\n', StringSplitOptions.RemoveEmptyEntries));

        using (var connection = mini.Connect()) connection.Send("*1\r\n$8\r\nSHUTDOWN\r\n");
        Assert.Equal(0, mini.WaitForExit(Patience));
        Assert.False(File.Exists(miniSocket), "the socket file is removed at shutdown");
    }

    [Fact]
    public void SupervisedSystemd_SendsStatusAndReadyOverNotifySocket_ThenStopping()
    {
        string notifyPath = Path.Combine(_temp, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        notify.ReceiveTimeout = (int)Patience.TotalMilliseconds;
        using var server = new MiniRedisProcess(new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notifyPath }, "--supervised", "systemd");

        // Redis 7.0.15's datagrams, in its order (one message each).
        Assert.Equal("STATUS=Redis is loading...\n", Receive(notify));
        Assert.Equal("STATUS=Ready to accept connections\n", Receive(notify));
        Assert.Equal("READY=1\n", Receive(notify));
        // The server's output is read asynchronously: the line may reach us after the datagrams.
        Assert.True(WaitUntil(() => server.Output.Contains("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.",
            StringComparison.Ordinal)), server.Output);
        using (var connection = server.Connect()) connection.Send("*1\r\n$8\r\nSHUTDOWN\r\n");
        Assert.Equal("STOPPING=1\n", Receive(notify));
        Assert.Equal(0, server.WaitForExit(Patience));
    }

    [Fact]
    public void SupervisedSystemd_WithoutNotifySocket_WarnsAsRedisDoes_AndServes()
    {
        Assert.Null(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));
        using var server = new MiniRedisProcess("--supervised", "systemd");
        using var connection = server.Connect();
        Assert.Equal("+PONG\r\n", Encoding.UTF8.GetString(connection.Call("PING")));
        // Redis 7.0.15 warns at start and at the notifications it cannot send, and serves all the same.
        // The output is read asynchronously: it may reach us after the server answered.
        Assert.True(WaitUntil(() => server.Output.Contains("Ready to accept connections", StringComparison.Ordinal)), server.Output);
        Assert.Contains("# systemd supervision error: NOTIFY_SOCKET not found!", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Supervised by systemd", server.Output, StringComparison.Ordinal);
    }

    /// <summary>Upstart's "expect stop": the server stops itself (SIGSTOP) once it serves; upstart then resumes it.</summary>
    [Fact]
    public void SupervisedUpstart_StopsItselfOnceServing_ServesAfterSigcont()
    {
        int port = ServerProcess.FreePort();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[RepoPaths.ServerDll, "--port", port.ToString(), "--supervised", "upstart", "--save", "", "--dir", _temp])
            info.ArgumentList.Add(arg);
        info.Environment["UPSTART_JOB"] = "miniredis";
        using var server = Process.Start(info)!;
        var output = new StringBuilder();
        server.OutputDataReceived += (_, e) => { lock (output) output.Append(e.Data).Append('\n'); };
        server.BeginOutputReadLine();
        try
        {
            Assert.True(WaitUntil(() => StateOf(server.Id) == 'T'), "the server never stopped itself");
            // The output is read asynchronously: the line written before the stop may reach us after it.
            Assert.True(WaitUntil(() => { lock (output) return output.ToString().Contains("supervised by upstart, will stop to signal readiness.", StringComparison.Ordinal); }),
                "the readiness line was not written");
            Assert.Equal(0, Kill(server.Id, SigCont));
            using var connection = RespConnection.Open(port);
            Assert.Equal("+PONG\r\n", Encoding.UTF8.GetString(connection.Call("PING")));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void LoglevelVerbose_LogsRedisLinesForAcceptedAndClosedClients()
    {
        using var server = new MiniRedisProcess("--loglevel", "verbose");
        int localPort;
        using (var connection = server.Connect())
        {
            connection.Call("CLIENT", "SETNAME", "leaving");
            localPort = connection.LocalPort;
        }
        // The line comes once the server has seen the hang-up; the readiness probes' lines come before it.
        var closed = new Regex($@" - Client closed connection id=\d+ addr=127\.0\.0\.1:{localPort} laddr=127\.0\.0\.1:{server.Port} .*name=leaving ");
        Assert.True(WaitUntil(() => closed.IsMatch(server.Output)), server.Output);
        Assert.Contains($" - Accepted 127.0.0.1:{localPort}\n", server.Output, StringComparison.Ordinal);
        // At the default level those lines are not written.
        using var quiet = new MiniRedisProcess();
        using (quiet.Connect()) { }
        Assert.DoesNotContain("Accepted", quiet.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void LoglevelDebug_AddsTheCronStatusLinesEveryFiveSeconds()
    {
        using var server = new MiniRedisProcess("--loglevel", "debug");
        using (var connection = server.Connect())
        {
            connection.Call("SET", "plain", "v");
            connection.Call("SET", "expiring", "v", "EX", "1000");
        }
        // Redis's serverCron lines: per non-empty database at verbose, the client count at debug.
        Assert.True(WaitUntil(() => Regex.IsMatch(server.Output, @" - DB 0: 2 keys \(1 volatile\) in \d+ slots HT\.\n")), server.Output);
        Assert.True(WaitUntil(() => Regex.IsMatch(server.Output, @" \. \d+ clients connected \(0 replicas\), \d+ bytes in use\n")), server.Output);
    }

    /// <summary>
    /// syslog-enabled: the lines reach /dev/log as syslog(3) writes them. No syslog daemon runs where the
    /// tests do, so the test holds /dev/log itself for its duration (which needs root, and no daemon there).
    /// </summary>
    [Fact]
    public void SyslogEnabled_SendsEachLineToDevLog_WithIdentFacilityAndRedisSeverity()
    {
        const string devLog = "/dev/log";
        Assert.False(File.Exists(devLog), "a syslog daemon holds /dev/log: this test needs it free");
        using var syslog = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        syslog.Bind(new UnixDomainSocketEndPoint(devLog));
        try
        {
            syslog.ReceiveTimeout = (int)Patience.TotalMilliseconds;
            using var server = new MiniRedisProcess("--syslog-enabled", "yes", "--syslog-ident", "mini-test", "--syslog-facility", "local4");
            var received = new List<string>();
            while (!received.Any(line => line.Contains("Ready to accept connections", StringComparison.Ordinal))) received.Add(Receive(syslog));
            // local4 (20) * 8 + LOG_NOTICE (5) = 165; "Mmm dd hh:mm:ss ident[pid]: message", the message without Redis's own prefix.
            Assert.Matches($@"^<165>[A-Z][a-z]{{2}} [ 1-3]\d \d\d:\d\d:\d\d mini-test\[{server.ProcessId}\]: Ready to accept connections tcp$",
                received.Single(line => line.Contains("Ready to accept connections", StringComparison.Ordinal)));
        }
        finally
        {
            File.Delete(devLog);
        }
    }

    [Fact]
    public void SigHup_ReopensTheLogFile_AfterRotationMovedIt_AndDoesNotStopTheServer()
    {
        string logFile = Path.Combine(_temp, "server.log");
        using var server = new MiniRedisProcess("--logfile", logFile, "--loglevel", "verbose");
        // The first PING can be answered a moment before the ready line is written: rotate after it.
        Assert.True(WaitUntil(() => File.ReadAllText(logFile).Contains("Ready to accept connections", StringComparison.Ordinal)), File.ReadAllText(logFile));
        string rotated = logFile + ".1";
        File.Move(logFile, rotated);
        Assert.Equal(0, Kill(server.ProcessId, SigHup));
        // The new file appears as soon as the signal is handled; the next line goes there.
        Assert.True(WaitUntil(() => File.Exists(logFile)), "SIGHUP did not reopen the logfile");
        using (var connection = server.Connect())
        {
            Assert.Equal("+PONG\r\n", Encoding.UTF8.GetString(connection.Call("PING")));
        }
        Assert.True(WaitUntil(() => File.ReadAllText(logFile).Contains("Accepted 127.0.0.1:", StringComparison.Ordinal)), File.ReadAllText(logFile));
        Assert.Contains("Ready to accept connections", File.ReadAllText(rotated), StringComparison.Ordinal);
        Assert.False(server.HasExited);
    }

    static string Receive(Socket socket)
    {
        var buffer = new byte[4096];
        int n = socket.Receive(buffer);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    static (int ExitCode, string Output) RunServerToExit(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(RepoPaths.ServerDll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Patience))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the daemonizing parent did not exit");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    static string RunCli(params string[] args)
    {
        var info = new ProcessStartInfo(RealRedisProcess.ExecutablePath("redis-cli"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(Patience), "redis-cli did not finish");
        Assert.True(process.ExitCode == 0, stderr.Result);
        return stdout.Result;
    }

    static bool WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(50);
        }
        return true;
    }

    static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    /// <summary>The state letter, field 3 of /proc/pid/stat (T: stopped).</summary>
    static char StateOf(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }

    /// <summary>The session id, field 6 of /proc/pid/stat (after the parenthesised command name).</summary>
    static int SessionOf(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3]);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
