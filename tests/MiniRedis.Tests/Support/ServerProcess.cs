using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MiniRedis.Tests.Support;

/// <summary>
/// A Redis-protocol server run as a child process on a free ephemeral port, ready once PING
/// answers, killed on dispose. Its console output is kept for failure messages.
/// </summary>
public abstract class ServerProcess : IDisposable
{
    static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(60);
    const int StartAttempts = 3;

    readonly StringBuilder _output = new();
    Process? _process;

    public int Port { get; private set; }
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("Not started");

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>
    /// Waits until <paramref name="text"/> was logged: output is read as it comes, so a line written
    /// just before a reply can reach <see cref="Output"/> after it.
    /// </summary>
    public void WaitForOutput(string text) =>
        Assert.True(Wait.Until(() => Output.Contains(text, StringComparison.Ordinal)), $"'{text}' not logged:\n{Output}");

    /// <param name="arguments">The command line for a given port.</param>
    /// <param name="environment">Variables added to the server's environment (a supervisor's NOTIFY_SOCKET...).</param>
    protected void Start(string fileName, Func<int, IEnumerable<string>> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        // The port is free when chosen but another process may take it before the server binds; retry then.
        for (int attempt = 1; ; attempt++)
        {
            Port = FreePort();
            var info = new ProcessStartInfo(fileName)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            };
            foreach (var arg in arguments(Port)) info.ArgumentList.Add(arg);
            foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
            var process = new Process { StartInfo = info };
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            if (WaitUntilReady(process)) return;
            Kill();
            if (attempt == StartAttempts)
                throw new InvalidOperationException($"{fileName} did not answer PING on port {Port}. Output:\n{Output}");
        }
    }

    void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    bool WaitUntilReady(Process process)
    {
        var deadline = DateTime.UtcNow + StartupTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                // Waits for the output readers to reach the end, so the error it printed is in Output.
                process.WaitForExit();
                return false;
            }
            try
            {
                using var connection = Connect();
                // The server answering must be ours: another test's server may hold the port we
                // picked, while ours is still failing to bind it.
                if (Answers(connection.Call("PING")))
                    return Encoding.UTF8.GetString(connection.Call("INFO", "server")).Contains($"process_id:{process.Id}\r\n", StringComparison.Ordinal);
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException)
            {
                // Not listening yet.
            }
            Thread.Sleep(50);
        }
        return false;
    }

    /// <summary>The PING reply of a server ready for its test: PONG (a server still loading its data answers -LOADING).</summary>
    protected virtual bool Answers(byte[] pingReply) => pingReply.AsSpan().SequenceEqual("+PONG\r\n"u8);

    public RespConnection Connect() => RespConnection.Open(Port);

    /// <summary>
    /// Given to both servers before a test's own directives: DEBUG is refused by default since Redis 7.0 and
    /// tests use it (a test checking the refusal passes "--enable-debug-command no", which wins as the later one);
    /// a master's diskless full sync (the default) starts at once instead of waiting 5 s for more replicas.
    /// </summary>
    protected static readonly string[] TestDirectives = ["--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"];

    /// <summary>The config file goes first on the command line, as redis-server wants it.</summary>
    protected static string[] ConfigFileArgument(string? configFile) => configFile is null ? [] : [configFile];

    /// <summary>The server's resident set size, from /proc.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{ProcessId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
        }
        throw new InvalidOperationException("VmRSS missing from /proc status");
    }

    public bool HasExited => _process?.HasExited ?? true;

    /// <summary>Waits for the server to end by itself: its exit code, or null while it still runs after <paramref name="timeout"/>.</summary>
    public int? WaitForExit(TimeSpan timeout)
    {
        if (_process is null || !_process.WaitForExit(timeout)) return null;
        // The untimed wait also drains the redirected output into Output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    void Kill()
    {
        if (_process is null) return;
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Kill();
        AfterExit();
        GC.SuppressFinalize(this);
    }

    /// <summary>Cleans up what the server left behind.</summary>
    protected virtual void AfterExit()
    {
    }

    /// <summary>The full path of an executable on PATH, or null.</summary>
    protected static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>
/// The MiniRedis server executable built alongside the tests; like <see cref="RealRedisProcess"/>,
/// snapshots off and its data in a temporary directory of its own (no dump is loaded or left behind).
/// </summary>
public sealed class MiniRedisProcess : ServerProcess
{
    readonly string _directory = Directory.CreateTempSubdirectory("miniredis-").FullName;

    public MiniRedisProcess(params string[] directives) : this(null, null, directives)
    {
    }

    public MiniRedisProcess(IReadOnlyDictionary<string, string> environment, params string[] directives)
        : this(null, environment, directives)
    {
    }

    MiniRedisProcess(string? configFile, IReadOnlyDictionary<string, string>? environment, string[] directives)
    {
        var dll = RepoPaths.ServerDll;
        if (!File.Exists(dll)) throw new InvalidOperationException($"Server not built: {dll}");
        Start("dotnet", port => [dll, .. ConfigFileArgument(configFile), "--port", port.ToString(), "--save", "", "--dir", _directory,
            .. TestDirectives, .. directives],
            environment: environment);
    }

    /// <summary>Started from a config file (an absolute path); the directives override it.</summary>
    public static MiniRedisProcess WithConfigFile(string configFile, params string[] directives) => new(configFile, null, directives);

    /// <summary>The server's private data directory (its working directory).</summary>
    public string DataDirectory => _directory;

    protected override void AfterExit()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Debian's redis-server 7.0, the reference for reply bytes; persistence off, data in a temporary directory.</summary>
public sealed class RealRedisProcess : ServerProcess
{
    readonly string _directory = Directory.CreateTempSubdirectory("real-redis-").FullName;

    public RealRedisProcess(params string[] directives)
        : this(null, directives)
    {
    }

    RealRedisProcess(string? configFile, string[] directives)
    {
        var executable = ExecutablePath("redis-server");
        Start(executable, port => [.. ConfigFileArgument(configFile), "--port", port.ToString(), "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", _directory, .. TestDirectives, .. directives], _directory);
    }

    /// <summary>Started from a config file (an absolute path); the directives override it.</summary>
    public static RealRedisProcess WithConfigFile(string configFile, params string[] directives) => new(configFile, directives);

    /// <summary>A Redis tool from PATH; fails with instructions when it is missing.</summary>
    public static string ExecutablePath(string name) =>
        FindOnPath(name) ?? throw new InvalidOperationException(
            $"'{name}' is not installed. These tests compare MiniRedis with real Redis 7.0: install it (Debian/Ubuntu: apt-get install redis-server redis-tools).");

    protected override void AfterExit()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
