using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace MiniRedis.Tests.Packaging;

/// <summary>
/// No Docker engine runs where the tests do, so this replays the Dockerfile itself: its publish command
/// into a temp dir, then its ENTRYPOINT with the baked config, image paths mapped to the temp dir and the
/// repository, plus the overrides a test needs (a free port, a private data dir).
/// </summary>
public sealed partial class DockerImageTests : IDisposable
{
    const string PublishInstruction = "RUN dotnet publish ";
    const string EntrypointInstruction = "ENTRYPOINT ";
    const int SigTerm = 15;

    readonly string _repository = FindRepositoryRoot();
    readonly string _temp = Directory.CreateTempSubdirectory("miniredis-image-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task ImageEntrypointServesPingWithBakedConfigAndStopsOnSigterm()
    {
        string[] dockerfile = File.ReadAllLines(Path.Combine(_repository, "Dockerfile"));
        string publishDir = Path.Combine(_temp, "app");
        string dataDir = Directory.CreateDirectory(Path.Combine(_temp, "data")).FullName;
        var imageToHost = new Dictionary<string, string> { [OutputDirOf(PublishCommand(dockerfile))] = publishDir };
        foreach (var (source, destination) in CopiesFromContext(dockerfile)) imageToHost[destination] = Path.Combine(_repository, source);

        var (publishExit, publishOutput) = await RunToEndAsync(MapPaths(PublishCommand(dockerfile), imageToHost), TimeSpan.FromMinutes(5));
        Assert.True(publishExit == 0, "dotnet publish failed:\n" + publishOutput);
        // The checkers ship beside the server.
        Assert.True(File.Exists(Path.Combine(publishDir, "miniredis-check-aof.dll")));
        Assert.True(File.Exists(Path.Combine(publishDir, "miniredis-check-rdb.dll")));

        int port = FreePort();
        string[] serverCommand = [.. MapPaths(Entrypoint(dockerfile), imageToHost), "--port", port.ToString(), "--dir", dataDir];
        using var server = Start(serverCommand, out var serverOutput);
        try
        {
            using var client = await ConnectAsync(port, server, serverOutput);
            await AssertReplyAsync(client, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
            // The command-line --dir must override the baked file's dir, as in redis-server.
            await AssertReplyAsync(client, "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$3\r\ndir\r\n",
                $"*2\r\n$3\r\ndir\r\n${dataDir.Length}\r\n{dataDir}\r\n");

            await AssertReplyAsync(client, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", "+OK\r\n");
            // The native Lua library (KeraLua's) ships in the published output and loads.
            await AssertReplyAsync(client, "*3\r\n$4\r\nEVAL\r\n$28\r\nreturn redis.call('GET','k')\r\n$1\r\n0\r\n", "$1\r\nv\r\n");

            // "docker stop" sends SIGTERM: the server must shut down cleanly, not wait to be killed,
            // and with the default save points it saves the dataset into the data volume first.
            Assert.Equal(0, Kill(server.Id, SigTerm));
            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await server.WaitForExitAsync(stopTimeout.Token);
            Assert.True(server.ExitCode == 0, $"exit code {server.ExitCode}:\n{serverOutput}");
            Assert.True(File.Exists(Path.Combine(dataDir, "dump.rdb")), $"no dump.rdb in the data directory:\n{serverOutput}");
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    static string[] PublishCommand(string[] dockerfile) =>
        SplitWords(Instruction(dockerfile, PublishInstruction)["RUN ".Length..]);

    static string[] Entrypoint(string[] dockerfile) =>
        JsonSerializer.Deserialize<string[]>(Instruction(dockerfile, EntrypointInstruction)[EntrypointInstruction.Length..])!;

    static string OutputDirOf(string[] publish) => publish[Array.IndexOf(publish, "-o") + 1];

    /// <summary>Files copied from the build context to absolute image paths (the build stage copies to relative ones).</summary>
    static IEnumerable<(string Source, string Destination)> CopiesFromContext(string[] dockerfile) =>
        dockerfile.Select(SplitWords)
            .Where(words => words is ["COPY", var source, var destination]
                && !source.StartsWith("--", StringComparison.Ordinal) && destination.StartsWith('/'))
            .Select(words => (words[1], words[2]));

    static string Instruction(string[] dockerfile, string prefix) =>
        Assert.Single(dockerfile, line => line.StartsWith(prefix, StringComparison.Ordinal));

    static string[] SplitWords(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    static string[] MapPaths(string[] command, Dictionary<string, string> imageToHost) =>
        [.. command.Select(arg => imageToHost.Aggregate(arg, (mapped, path) =>
            mapped == path.Key || mapped.StartsWith(path.Key + "/", StringComparison.Ordinal)
                ? path.Value + mapped[path.Key.Length..]
                : mapped))];

    Process Start(string[] command, out StringBuilder output)
    {
        var info = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = _repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in command.Skip(1)) info.ArgumentList.Add(arg);
        var collected = new StringBuilder();
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { lock (collected) collected.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (collected) collected.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        output = collected;
        return process;
    }

    async Task<(int ExitCode, string Output)> RunToEndAsync(string[] command, TimeSpan timeout)
    {
        using var process = Start(command, out var output);
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        lock (output) return (process.ExitCode, output.ToString());
    }

    static async Task<TcpClient> ConnectAsync(int port, Process server, StringBuilder serverOutput)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                return client;
            }
            catch (SocketException) when (!server.HasExited && DateTime.UtcNow < deadline)
            {
                client.Dispose();
                await Task.Delay(100);
            }
            catch (SocketException)
            {
                client.Dispose();
                lock (serverOutput) Assert.Fail($"server never listened on port {port}:\n{serverOutput}");
            }
        }
    }

    /// <summary>Sends one request and reads as many bytes as the expected reply has (less if the server hangs up).</summary>
    static async Task AssertReplyAsync(TcpClient client, string request, string expected)
    {
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request));
        var reply = new byte[Encoding.UTF8.GetByteCount(expected)];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int received = await stream.ReadAtLeastAsync(reply, reply.Length, throwOnEndOfStream: false, timeout.Token);
        Assert.Equal(expected, Encoding.UTF8.GetString(reply, 0, received));
    }

    static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MiniRedis.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("MiniRedis.sln not found above " + AppContext.BaseDirectory);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
