using System.Diagnostics;
using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Integration;

/// <summary>
/// The real redis-cli binary against MiniRedis; where output formatting matters it is compared
/// with the same invocation against real Redis.
/// </summary>
[Trait("Category", "Differential")]
public sealed class RedisCliTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    sealed record CliResult(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    static CliResult RunCli(ServerProcess server, string? stdinFile, string? stdinText, params string[] args)
    {
        var info = new ProcessStartInfo(RealRedisProcess.ExecutablePath("redis-cli"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-p", server.Port.ToString(), .. args]) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdinFile is not null)
        {
            using var file = File.OpenRead(stdinFile);
            file.CopyTo(process.StandardInput.BaseStream);
        }
        else if (stdinText is not null)
        {
            process.StandardInput.Write(stdinText);
        }
        process.StandardInput.Close();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"redis-cli {string.Join(' ', args)} did not finish");
        }
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    static CliResult Run(ServerProcess server, params string[] args) => RunCli(server, null, null, args);

    /// <summary>Runs the same redis-cli invocations (each after FLUSHALL) on both servers and compares all output.</summary>
    void AssertSameOutput(params string[][] invocations)
    {
        var expected = new StringBuilder();
        var actual = new StringBuilder();
        foreach (var (server, output) in new[] { ((ServerProcess)servers.Redis, expected), (servers.Mini, actual) })
        {
            using (var connection = server.Connect()) connection.Call("FLUSHALL");
            foreach (var args in invocations)
                output.Append("> ").AppendLine(string.Join(' ', args)).AppendLine(Run(server, args).ToString());
        }
        Assert.Equal(expected.ToString(), actual.ToString());
    }

    [Fact]
    public void Commands_as_arguments_print_like_real_redis()
    {
        AssertSameOutput(
            ["SET", "k", "hello world"],
            ["GET", "k"],
            ["GET", "nosuch"],
            ["INCR", "n"],
            ["INCRBYFLOAT", "n", "1.5"],
            ["MSET", "a", "1", "b", "2"],
            ["MGET", "a", "b", "nosuch"],
            ["SET", "bin", "\u0001\u00ff"],
            ["--no-raw", "GET", "bin"],
            ["--no-raw", "MGET", "a", "nosuch"],
            ["--no-raw", "INCR", "n2"],
            // EXPIRETIME, not TTL: each line is its own redis-cli process, and on a loaded machine more
            // than half a second can pass between them, turning TTL's 1000 into 999 on one server only.
            ["EXPIREAT", "k", "4102444800"],
            ["EXPIRETIME", "k"],
            ["TYPE", "k"],
            ["NOSUCHCOMMAND", "x"],
            ["GET"],
            ["-n", "3", "SET", "in3", "v"],
            ["-n", "3", "DBSIZE"],
            ["DBSIZE"]);
    }

    [Fact]
    public void Resp3_mode_prints_like_real_redis()
    {
        AssertSameOutput(
            ["-3", "SET", "k", "v"],
            ["-3", "GET", "k"],
            ["-3", "GET", "nosuch"],
            ["-3", "--no-raw", "GET", "nosuch"],
            ["-3", "--no-raw", "MGET", "k", "nosuch"],
            ["-3", "--no-raw", "INCRBYFLOAT", "f", "2.5"],
            ["-3", "--no-raw", "EXISTS", "k"]);
    }

    [Fact]
    public void Interactive_style_input_on_stdin_prints_like_real_redis()
    {
        const string session = "SET a 1\nINCR a\nGET a\nGET nosuch\nSET \"with space\" 'quoted value'\nGET \"with space\"\nBADCOMMAND\nMULTI\nINCR a\nEXEC\nSELECT 2\nDBSIZE\n";
        var outputs = new List<string>();
        foreach (var server in new ServerProcess[] { servers.Redis, servers.Mini })
        {
            using (var connection = server.Connect()) connection.Call("FLUSHALL");
            outputs.Add(RunCli(server, null, session).ToString());
        }
        Assert.Equal(outputs[0], outputs[1]);
    }

    [Fact]
    public void Pipe_mode_mass_inserts_100k_keys()
    {
        const int count = 100_000;
        var path = Path.Combine(Path.GetTempPath(), $"miniredis-pipe-{Guid.NewGuid():N}.resp");
        try
        {
            using (var file = File.Create(path))
            {
                for (int i = 0; i < count; i++)
                    file.Write(RespConnection.EncodeCommand([Encoding.ASCII.GetBytes("SET"), Encoding.ASCII.GetBytes($"key:{i}"), Encoding.ASCII.GetBytes($"value:{i}")]));
            }
            using (var connection = servers.Mini.Connect()) connection.Call("FLUSHALL");
            var result = RunCli(servers.Mini, path, null, "--pipe");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains($"errors: 0, replies: {count}", result.Stdout);
            Assert.Equal($"{count}\n", Run(servers.Mini, "DBSIZE").Stdout);
            Assert.Equal("value:99999\n", Run(servers.Mini, "GET", "key:99999").Stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
