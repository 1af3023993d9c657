using System.Diagnostics;
using System.Text;

namespace MiniRedis.Tests.Support;

/// <summary>A server process with its data in a directory the test owns (kept across restarts).</summary>
public sealed class RdbServerProcess : ServerProcess
{
    RdbServerProcess() { }

    /// <summary>MiniRedis in <paramref name="dir"/> (snapshots off unless a directive says otherwise); ready once the data loaded.</summary>
    public static RdbServerProcess MiniRedis(string dir, params string[] directives)
    {
        var server = new RdbServerProcess();
        server.Start("dotnet", port => [RepoPaths.ServerDll, "--port", port.ToString(), "--save", "", "--dir", dir, .. directives]);
        return server;
    }

    /// <summary>Runs MiniRedis in <paramref name="dir"/> until it exits by itself (it must refuse to start): exit code and output.</summary>
    public static (int ExitCode, string Output) RunUntilExit(string dir, params string[] directives)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { RepoPaths.ServerDll, "--port", "0", "--save", "", "--dir", dir }.Concat(directives)) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("the server did not exit:\n" + stdout);
        }
        return (process.ExitCode, stdout + stderr.Result);
    }
}

/// <summary>Helpers shared by the RDB server tests.</summary>
public static class RdbTestSupport
{
    public static string Text(byte[] reply) => Encoding.Latin1.GetString(reply);

    /// <summary>A field of INFO persistence.</summary>
    public static string Info(RespConnection connection, string field) =>
        connection.InfoField("persistence", field) ?? throw new InvalidOperationException($"INFO persistence has no {field}");

    public static void WaitUntil(Func<bool> condition, string what, int seconds = 30) =>
        Assert.True(Wait.Until(condition, TimeSpan.FromSeconds(seconds)), $"timed out waiting for: {what}");

    /// <summary>Sends a command after which the server closes the connection (SHUTDOWN): what came before the close.</summary>
    public static string CallUntilClosed(RespConnection connection, params string[] args)
    {
        connection.Send(RespConnection.EncodeCommand([.. args.Select(Encoding.ASCII.GetBytes)]));
        return Text(connection.ReadUntilClosed());
    }

    public static void WaitForBackgroundSave(RespConnection connection) =>
        WaitUntil(() => Info(connection, "rdb_bgsave_in_progress") == "0", "the background save to end");

    /// <summary>BGSAVE, waited for: rdb_last_bgsave_status afterwards.</summary>
    public static string BackgroundSave(RespConnection connection)
    {
        Assert.Equal("+Background saving started\r\n", Text(connection.Call("BGSAVE")));
        WaitForBackgroundSave(connection);
        return Info(connection, "rdb_last_bgsave_status");
    }

    /// <summary>Strings, lists, hashes, sets and sorted sets in databases 0, 1 and 2, some with a TTL.</summary>
    public static void WriteMixedDataset(RespConnection connection, string prefix = "k")
    {
        for (int db = 0; db < 3; db++)
        {
            connection.Call("SELECT", db.ToString());
            for (int i = 0; i < 20; i++)
            {
                connection.Call("SET", $"{prefix}:s:{i}", $"value-{db}-{i}");
                connection.Call("RPUSH", $"{prefix}:l:{i % 4}", $"{i}", "x");
                connection.Call("HSET", $"{prefix}:h:{i % 3}", $"f{i}", $"{i}");
                connection.Call("SADD", $"{prefix}:t:{i % 2}", $"{i}", $"m{i}");
                connection.Call("ZADD", $"{prefix}:z", $"{i * 0.5}", $"m{i}");
            }
            connection.Call("PEXPIRE", $"{prefix}:s:1", "600000");
            connection.Call("EXPIRE", $"{prefix}:h:0", "900");
        }
        connection.Call("SELECT", "0");
    }

    /// <summary>Sets <paramref name="count"/> string keys with one pipelined round trip.</summary>
    public static void SetKeys(RespConnection connection, int count, string prefix = "key")
    {
        var request = new MemoryStream();
        for (int i = 0; i < count; i++)
            request.Write(RespConnection.EncodeCommand([.. new[] { "SET", $"{prefix}:{i}", $"{prefix}-value-{i}" }.Select(Encoding.ASCII.GetBytes)]));
        connection.Send(request.ToArray());
        for (int i = 0; i < count; i++) Assert.Equal("+OK\r\n", connection.ReadReply().Text);
    }
}
