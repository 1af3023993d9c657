using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;

namespace MiniRedis.Tests.Packaging;

/// <summary>
/// The Dockerfile's publish step, run once: its RUN dotnet publish into a temp dir.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class PublishedImage : IDisposable
{
    const string PublishInstruction = "RUN dotnet publish ";

    public PublishedImage()
    {
        Dockerfile = File.ReadAllLines(Path.Combine(Repository, "Dockerfile"));
        PublishDir = Path.Combine(Temp, "app");
        string[] publish = DockerImageTests.SplitWords(DockerImageTests.Instruction(Dockerfile, PublishInstruction)["RUN ".Length..]);
        AppDir = publish[Array.IndexOf(publish, "-o") + 1];
        // A native AOT publish: minutes from scratch on a busy 2-core machine (.ci/run publishes it before the
        // tests, so there this replay finds the native code compiled).
        var (exitCode, output) = DockerImageTests.RunToEnd(
            [.. publish.Select(arg => arg == AppDir ? PublishDir : arg)], Repository, new Dictionary<string, string>(), TimeSpan.FromMinutes(15));
        PublishOutput = exitCode == 0 ? null : "dotnet publish failed:\n" + output;
        // The server may run as an unprivileged user (the entrypoint drops root): it must read what it runs.
        File.SetUnixFileMode(Temp, (UnixFileMode)0b111_101_101);
    }

    public string Repository { get; } = FindRepositoryRoot();
    public string Temp { get; } = Directory.CreateTempSubdirectory("miniredis-image-").FullName;
    public string[] Dockerfile { get; }
    /// <summary>Where the image's publish output goes (/app) and where this replay put it.</summary>
    public string AppDir { get; }
    public string PublishDir { get; }
    /// <summary>Null when the publish succeeded, else its failure.</summary>
    public string? PublishOutput { get; }

    public void Dispose() => Directory.Delete(Temp, recursive: true);

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MiniRedis.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("MiniRedis.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// No Docker engine runs where the tests do, so this replays the Dockerfile itself: the files it
/// copies from the build context are copied under a private root, its ENV (image paths mapped to that
/// root and to the publish output), WORKDIR (a private data dir), ENTRYPOINT and CMD, and each way of
/// running the official redis image is run through the real entrypoint script. The one change made
/// to the image's files: the baked config's copy gets a free port appended.
/// </summary>
[SupportedOSPlatform("linux")]
[Trait("Category", "Differential")]
public sealed partial class DockerImageTests(PublishedImage image) : IClassFixture<PublishedImage>, IDisposable
{
    const string EntrypointInstruction = "ENTRYPOINT ";
    const string CmdInstruction = "CMD ";
    const string EnvInstruction = "ENV ";
    const string WorkdirInstruction = "WORKDIR ";
    const string BakedConfig = "/etc/miniredis/redis.conf";
    // Not root's, so that as root the entrypoint's hand-over and privilege drop really happen.
    const string ServerUser = "nobody";
    const int SigTerm = 15;
    static readonly bool IsRoot = GetUid() == 0;

    readonly string _root = Directory.CreateTempSubdirectory("miniredis-image-run-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void PublishShipsTheCheckersBesideTheServer()
    {
        Assert.Null(image.PublishOutput);
        // Native binaries that run by themselves: the image has no .NET runtime to run a dll with.
        Assert.Equal((0, true), RunPublished("miniredis-server", "--version", "MiniRedis server v=7.0.15"));
        Assert.Equal((1, true), RunPublished("miniredis-check-aof", null, "Usage: miniredis-check-aof"));
        Assert.Equal((1, true), RunPublished("miniredis-check-rdb", null, "Usage: miniredis-check-rdb"));
    }

    (int ExitCode, bool Printed) RunPublished(string binary, string? argument, string expected)
    {
        var (exitCode, output) = RunToEnd([Path.Combine(image.PublishDir, binary), .. argument is null ? Array.Empty<string>() : [argument]],
            image.Temp, new Dictionary<string, string>(), TimeSpan.FromMinutes(1));
        return (exitCode, output.Contains(expected, StringComparison.Ordinal));
    }

    /// <summary>docker run IMG: the CMD, with the baked config; "docker stop" (SIGTERM) saves and exits 0.</summary>
    [Fact]
    public async Task NoArguments_ServesWithTheBakedConfig_SavesIntoTheVolumeOnSigterm()
    {
        var run = Prepare();
        using var server = Start(run, [], out var output);
        try
        {
            using var client = await ConnectAsync(run.Port, server, output);
            await AssertReplyAsync(client, Command("PING"), "+PONG\r\n");
            // The baked "dir ./" is the WORKDIR, the data volume.
            await AssertReplyAsync(client, Command("CONFIG", "GET", "dir"), Bulks("dir", run.DataDir));
            await AssertReplyAsync(client, Command("SET", "k", "v"), "+OK\r\n");
            // The native Lua library (KeraLua's) ships in the published output and loads.
            await AssertReplyAsync(client, Command("EVAL", "return redis.call('GET','k')", "0"), "$1\r\nv\r\n");
            await StopAsync(server, output);
            Assert.True(File.Exists(Path.Combine(run.DataDir, "dump.rdb")), $"no dump.rdb in the data directory:\n{output}");
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    /// <summary>docker run IMG --appendonly yes, and docker run IMG redis-server --appendonly yes.</summary>
    [Theory]
    [InlineData("--appendonly", "yes")]
    [InlineData("redis-server", "--appendonly", "yes")]
    public async Task DirectiveArguments_OverrideTheBakedConfig(params string[] arguments)
    {
        var run = Prepare();
        using var server = Start(run, arguments, out var output);
        try
        {
            using var client = await ConnectAsync(run.Port, server, output);
            await AssertReplyAsync(client, Command("CONFIG", "GET", "appendonly"), Bulks("appendonly", "yes"));
            await AssertReplyAsync(client, Command("CONFIG", "GET", "bind"), Bulks("bind", "0.0.0.0 -::"));
            await StopAsync(server, output);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    /// <summary>docker run IMG redis-server /path/redis.conf: that file instead of the baked one; redis-cli passes through.</summary>
    [Fact]
    public async Task ConfigFileArgument_ReplacesTheBakedConfig_ProtectedModeOffAsInTheOfficialImage()
    {
        var run = Prepare();
        string userConfig = Path.Combine(run.DataDir, "user.conf");
        File.WriteAllText(userConfig, $"port {run.Port}\nappendonly yes\n");
        using var server = Start(run, ["redis-server", userConfig], out var output);
        try
        {
            using var client = await ConnectAsync(run.Port, server, output);
            await AssertReplyAsync(client, Command("CONFIG", "GET", "appendonly"), Bulks("appendonly", "yes"));
            await AssertReplyAsync(client, Command("CONFIG", "GET", "protected-mode"), Bulks("protected-mode", "no"));
            // Not the baked file's bind: the user's file leaves the default.
            await AssertReplyAsync(client, Command("CONFIG", "GET", "bind"), Bulks("bind", "* -::*"));
            // docker run IMG redis-cli ...: any other command runs as given.
            var (exitCode, cliOutput) = RunToEnd(EntrypointCommand(run, ["redis-cli", "-p", run.Port.ToString(), "PING"]), run.DataDir, run.Environment, TimeSpan.FromMinutes(1));
            Assert.Equal((0, "PONG\n"), (exitCode, cliOutput));
            await StopAsync(server, output);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    /// <summary>docker run IMG sh -c ...: a shell, not the server.</summary>
    [Fact]
    public void ShellArgument_RunsTheShell()
    {
        var run = Prepare();
        var (exitCode, output) = RunToEnd(EntrypointCommand(run, ["sh", "-c", "echo shell as $(id -u)"]), run.DataDir, run.Environment, TimeSpan.FromMinutes(1));
        // Only the server drops root: a shell runs as whoever started the container.
        Assert.Equal((0, $"shell as {GetUid()}\n"), (exitCode, output));
    }

    /// <summary>As root: the data directory becomes the server user's and the server runs as that user.</summary>
    [Fact]
    public async Task AsRoot_HandsTheDataDirectoryToTheServerUser_AndDropsPrivileges()
    {
        var run = Prepare();
        string leftover = Path.Combine(run.DataDir, "appendonly.aof");
        File.WriteAllText(leftover, "");
        using var server = Start(run, [], out var output);
        try
        {
            using var client = await ConnectAsync(run.Port, server, output);
            await AssertReplyAsync(client, Command("PING"), "+PONG\r\n");
            int expectedUid = IsRoot ? UidOf(ServerUser) : GetUid();
            // The process started is the server: the entrypoint and setpriv exec into it.
            Assert.Contains($"\nUid:\t{expectedUid}\t{expectedUid}\t", File.ReadAllText($"/proc/{server.Id}/status"), StringComparison.Ordinal);
            Assert.Equal(expectedUid, OwnerOf(run.DataDir));
            Assert.Equal(expectedUid, OwnerOf(leftover));
            await StopAsync(server, output);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    sealed record Run(int Port, string DataDir, string[] Entrypoint, string[] Cmd, Dictionary<string, string> Environment);

    /// <summary>Lays out one container: the context files at their image paths under a private root, the data dir, the environment.</summary>
    Run Prepare()
    {
        Assert.Null(image.PublishOutput);
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);
        var imageToHost = new Dictionary<string, string> { [image.AppDir] = image.PublishDir };
        foreach (var (source, destination) in CopiesFromContext(image.Dockerfile))
        {
            string copy = _root + destination;
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(Path.Combine(image.Repository, source), copy);
            File.SetUnixFileMode(copy, File.GetUnixFileMode(Path.Combine(image.Repository, source)) | UnixFileMode.OtherRead);
            imageToHost[destination] = copy;
        }
        int port = FreePort();
        File.AppendAllText(imageToHost[BakedConfig], $"\nport {port}\n");
        string[] final = FinalStage(image.Dockerfile);
        string dataDir = MapPaths([Instruction(final, WorkdirInstruction)[WorkdirInstruction.Length..]], new() { ["/"] = _root + "/" })[0];
        Directory.CreateDirectory(dataDir);
        var environment = final.Where(line => line.StartsWith(EnvInstruction, StringComparison.Ordinal))
            .Select(line => line[EnvInstruction.Length..].Split('=', 2))
            .ToDictionary(pair => pair[0], pair => MapPaths([pair[1]], imageToHost)[0]);
        if (IsRoot) environment["MINIREDIS_USER"] = ServerUser;
        string[] entrypoint = MapPaths(JsonArray(final, EntrypointInstruction), imageToHost);
        // ENTRYPOINT names the script by PATH (/usr/local/bin): the copy's full path here.
        entrypoint[0] = imageToHost.Values.Single(path => Path.GetFileName(path) == entrypoint[0]);
        return new Run(port, dataDir, entrypoint, JsonArray(final, CmdInstruction), environment);
    }

    /// <summary>The instructions of the image's own stage, the last FROM's.</summary>
    static string[] FinalStage(string[] dockerfile) =>
        dockerfile[Array.FindLastIndex(dockerfile, line => line.StartsWith("FROM ", StringComparison.Ordinal))..];

    static string[] JsonArray(string[] stage, string instruction) =>
        JsonSerializer.Deserialize<string[]>(Instruction(stage, instruction)[instruction.Length..])!;

    /// <summary>docker run's rule: arguments after the image replace CMD.</summary>
    static string[] EntrypointCommand(Run run, string[] arguments) => [.. run.Entrypoint, .. arguments.Length > 0 ? arguments : run.Cmd];

    static Process Start(Run run, string[] arguments, out StringBuilder output) =>
        StartProcess(EntrypointCommand(run, arguments), run.DataDir, run.Environment, out output);

    static async Task StopAsync(Process server, StringBuilder output)
    {
        // "docker stop" sends SIGTERM: the server must shut down cleanly, not wait to be killed.
        Assert.Equal(0, Kill(server.Id, SigTerm));
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await server.WaitForExitAsync(stopTimeout.Token);
        lock (output) Assert.True(server.ExitCode == 0, $"exit code {server.ExitCode}:\n{output}");
    }

    /// <summary>Files copied from the build context to absolute image paths (the build stage copies to relative ones).</summary>
    static IEnumerable<(string Source, string Destination)> CopiesFromContext(string[] dockerfile) =>
        dockerfile.Select(SplitWords)
            .Where(words => words is ["COPY", var source, var destination]
                && !source.StartsWith("--", StringComparison.Ordinal) && destination.StartsWith('/'))
            .Select(words => (words[1], words[2]));

    internal static string Instruction(string[] dockerfile, string prefix) =>
        Assert.Single(dockerfile, line => line.StartsWith(prefix, StringComparison.Ordinal));

    internal static string[] SplitWords(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    static string[] MapPaths(string[] command, Dictionary<string, string> imageToHost) =>
        [.. command.Select(arg => imageToHost.Aggregate(arg, (mapped, path) =>
            mapped == path.Key || mapped.StartsWith(path.Key.TrimEnd('/') + "/", StringComparison.Ordinal)
                ? path.Value.TrimEnd('/') + mapped[path.Key.TrimEnd('/').Length..]
                : mapped))];

    static Process StartProcess(string[] command, string workingDirectory, Dictionary<string, string> environment, out StringBuilder output)
    {
        var info = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in command.Skip(1)) info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        var collected = new StringBuilder();
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (collected) collected.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (collected) collected.Append(e.Data).Append('\n'); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        output = collected;
        return process;
    }

    internal static (int ExitCode, string Output) RunToEnd(string[] command, string workingDirectory, Dictionary<string, string> environment, TimeSpan timeout)
    {
        using var process = StartProcess(command, workingDirectory, environment, out var output);
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{string.Join(' ', command)} did not finish:\n{output}");
        }
        process.WaitForExit();
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

    static string Command(params string[] args) =>
        $"*{args.Length}\r\n" + string.Concat(args.Select(arg => $"${Encoding.UTF8.GetByteCount(arg)}\r\n{arg}\r\n"));

    static string Bulks(params string[] values) =>
        $"*{values.Length}\r\n" + string.Concat(values.Select(value => $"${Encoding.UTF8.GetByteCount(value)}\r\n{value}\r\n"));

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

    static int UidOf(string user)
    {
        var (exitCode, output) = RunToEnd(["id", "-u", user], "/", new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        Assert.Equal(0, exitCode);
        return int.Parse(output.Trim());
    }

    static int OwnerOf(string path)
    {
        var (exitCode, output) = RunToEnd(["stat", "-c", "%u", path], "/", new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        Assert.Equal(0, exitCode);
        return int.Parse(output.Trim());
    }

    static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "getuid")]
    private static partial int GetUid();
}
